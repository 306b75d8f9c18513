"""Prove a frozen bundle carries what the app loads dynamically.

PyInstaller follows imports it can see; Qt plugins, Pillow codecs, keyring
backends, Pygments lexers and certifi's CA file are all found at run time
instead, so a bundle can build cleanly and still fail in a user's hands. The
spec freezes this script next to the app (``build.py --bundle-check``), with
the same hidden imports and the same excludes, and CI runs it offscreen::

    QT_QPA_PLATFORM=offscreen dist/qwenvl-desktop/qwenvl-desktop-bundle-check

It prints one line per check and exits 1 if any failed. It also runs unfrozen,
which is how to tell a packaging fault from an environment fault.
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CHECKS: list[tuple[str, Callable[[], str]]] = []


def check(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    def register(func: Callable[[], str]) -> Callable[[], str]:
        CHECKS.append((name, func))
        return func

    return register


@check("Qt widgets start, image and icon plugins load")
def qt() -> str:
    from importlib import resources

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon, QImageReader
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication([sys.argv[0]])
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    missing = {"png", "jpg", "gif", "ico", "svg"} - formats
    if missing:
        raise RuntimeError(f"Qt image formats missing: {sorted(missing)} (have {sorted(formats)})")
    assets = resources.files("qwenvl_desktop") / "assets"
    for name in ("qwenvl-desktop.png", "qwenvl-desktop.svg"):
        with resources.as_file(assets / name) as path:
            icon = QIcon(str(path))
            if icon.isNull() or icon.pixmap(64, 64).isNull():
                raise RuntimeError(f"cannot draw the app icon from {name}")
    label = QLabel("bundle check")
    label.show()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return f"platform {app.platformName()}; formats {', '.join(sorted(formats))}"


@check("qasync runs a coroutine on Qt's loop")
def qasync_loop() -> str:
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)

    async def work() -> str:
        await asyncio.sleep(0.01)
        return "ok"

    try:
        result = loop.run_until_complete(work())
    finally:
        loop.close()
    return f"qasync on {qasync.QtModuleName}: {result}"


@check("Pillow reads and writes PNG, JPEG, WEBP, GIF, BMP, TIFF")
def pillow() -> str:
    from PIL import Image, features

    done = []
    for fmt in ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"):
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 40, 90)).save(buffer, fmt)
        buffer.seek(0)
        with Image.open(buffer) as image:
            image.load()
            if image.format != fmt or image.size != (40, 30):
                raise RuntimeError(f"{fmt} came back as {image.format} {image.size}")
        done.append(fmt)
    # Every format the app promises must have its plugin in the bundle.
    Image.init()
    from qwenvl_desktop.core.image_checks import FORMATS

    promised = set(FORMATS)
    missing = promised - set(Image.OPEN)
    if missing:
        raise RuntimeError(f"Pillow plugins missing for {sorted(missing)}")
    # ICC profiles are converted to sRGB with LittleCMS.
    from PIL import ImageCms

    ImageCms.createProfile("sRGB")
    return (
        f"Pillow {Image.__version__}: {', '.join(done)} round-trip; opens {len(promised)} "
        f"formats core/images.py accepts; avif {features.check('avif')}"
    )


@check("keyring finds its backends")
def keyring_backends() -> str:
    import importlib

    import keyring
    import keyring.backend

    native = {
        "linux": "keyring.backends.SecretService",
        "darwin": "keyring.backends.macOS",
        "win32": "keyring.backends.Windows",
    }.get(sys.platform)
    if native:
        importlib.import_module(native)  # present even when its service is not running
    if sys.platform == "linux":
        importlib.import_module("secretstorage")
        importlib.import_module("jeepney.io.blocking")
    names = sorted(
        type(b).__module__ + "." + type(b).__name__ for b in keyring.backend.get_all_keyring()
    )
    chosen = type(keyring.get_keyring()).__module__
    return f"chosen {chosen}; viable {names}"


@check("httpx builds a TLS context from certifi's CA bundle")
def tls() -> str:
    import ssl

    import certifi
    import httpx

    where = certifi.where()
    if not os.path.isfile(where):
        raise RuntimeError(f"certifi CA file missing: {where}")
    context = ssl.create_default_context(cafile=where)
    cas = context.cert_store_stats()["x509_ca"]
    if cas < 50:
        raise RuntimeError(f"only {cas} CA certificates loaded from {where}")
    with httpx.Client(verify=context) as client:
        client.build_request("GET", "https://dashscope-intl.aliyuncs.com/")
    with httpx.Client() as client:  # httpx's own default also reads certifi
        pass
    return f"{cas} CA certificates from {os.path.relpath(where, getattr(sys, '_MEIPASS', '.'))}"


@check("markdown-it and Pygments render a code block and a table")
def markdown() -> str:
    from markdown_it import MarkdownIt
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.styles import get_style_by_name

    formatter = HtmlFormatter(noclasses=True, style=get_style_by_name("default"))

    def code(text: str, lang: str, _attrs: str) -> str:
        return highlight(text, get_lexer_by_name(lang or "text"), formatter)

    md = MarkdownIt("commonmark", {"highlight": code}).enable("table")
    html = md.render("| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\ndef f():\n    return 1\n```\n")
    if "<table>" not in html or "<span" not in html:
        raise RuntimeError("markdown rendered without a table or without highlighting")
    langs = (
        "python",
        "javascript",
        "typescript",
        "json",
        "bash",
        "c",
        "cpp",
        "rust",
        "go",
        "java",
        "html",
        "css",
        "sql",
        "yaml",
        "toml",
        "diff",
    )
    for lang in langs:
        get_lexer_by_name(lang)
    for style in ("default", "monokai", "github-dark"):
        get_style_by_name(style)
    plugins = ""
    try:
        import mdit_py_plugins

        plugins = f"; mdit_py_plugins {mdit_py_plugins.__version__}"
    except ImportError:
        plugins = "; mdit_py_plugins not bundled"
    return f"{len(langs)} lexers and 3 styles load{plugins}"


@check("app data files are in the bundle")
def app_data() -> str:
    from importlib import resources

    import qwenvl_desktop

    text = (resources.files("qwenvl_desktop.core") / "providers.toml").read_text("utf-8")
    if "[" not in text:
        raise RuntimeError("providers.toml is empty")
    try:
        from qwenvl_desktop.core.catalog import load_builtin

        providers = len(load_builtin().providers)
    except (ImportError, AttributeError):
        providers = -1
    return f"qwenvl_desktop {qwenvl_desktop.__version__}; {providers} providers in providers.toml"


def main() -> int:
    failed = 0
    print(f"bundle check: frozen={getattr(sys, 'frozen', False)} python {sys.version.split()[0]}")
    for name, func in CHECKS:
        try:
            detail = func()
        except Exception as err:  # report every failure, not just the first
            failed += 1
            print(f"FAIL {name}: {type(err).__name__}: {err}")
            traceback.print_exc(limit=3)
        else:
            print(f"ok   {name}: {detail}")
    print(f"{len(CHECKS) - failed}/{len(CHECKS)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
