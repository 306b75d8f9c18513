"""Take the README's screenshots of the real window, driven against the loopback server.

Run under Xvfb (CI does not run it):

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python packaging/take_screenshots.py
    … take_screenshots.py --theme dark --size 760x700 --out DIR --prefix dark-narrow-
    … take_screenshots.py --language zh_CN --prefix zh-      # the window in Chinese

Each run writes, for one scheme and window size: first-run.png (no key yet),
conversation.png (a question with two images, the reasoning open) and
conversation-end.png (the answer's code and table), picker.png (the model picker
open), parameters.png (the parameter drawer, a preset chosen, details open),
attachments.png and settings.png. With no options: light, 1280×800, into
resources/screenshots. `QScreen.grabWindow`, i.e. what is really on the (virtual)
screen. Everything runs in a throw-away home folder with an in-memory keyring; nothing
touches the real machine.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PySide6.QtCore import QUrl

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "screenshots"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

ANSWER = """The dialog reports that the export **could not write the file**: the target \
folder is read-only for your account (`EACCES`, error 13).

What to do:

1. Pick a folder you own, e.g. your *Documents* folder, or
2. fix the permissions of the current one:

```bash
sudo chown -R "$USER" /srv/exports
chmod u+w /srv/exports
```

| Field | Value in the dialog |
|---|---|
| Operation | Export report |
| Path | `/srv/exports/q3.pdf` |
| Error | Permission denied (13) |

After that, press **Retry** in the dialog."""

# The same exchange for the Chinese screenshots (what a Chinese user would ask and read).
ANSWER_ZH = """对话框提示导出**无法写入文件**：目标文件夹对你的账户是只读的（`EACCES`，错误 13）。

解决办法：

1. 换一个你有权限的文件夹，例如“文档”文件夹；或者
2. 修改当前文件夹的权限：

```bash
sudo chown -R "$USER" /srv/exports
chmod u+w /srv/exports
```

| 字段 | 对话框中的值 |
|---|---|
| 操作 | 导出报告 |
| 路径 | `/srv/exports/q3.pdf` |
| 错误 | Permission denied (13) |

完成后，点击对话框中的 **Retry** 重试。"""

REASONING_ZH = ("截图里是一个标题为“Export failed”的模态错误对话框，提示 /srv/exports 权限被拒绝。"
                "这是文件系统权限问题，回答应说明如何修正所有权。")

REASONING = ("The screenshot shows a modal error dialog titled 'Export failed'. The message "
             "mentions permission denied on /srv/exports. That is a file-system permission "
             "problem, so the answer should explain how to fix ownership.")


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default()


def dialog_screenshot() -> bytes:
    """A made-up application error dialog, the kind of screenshot people ask about."""
    im = Image.new("RGB", (1280, 800), "#d9dde3")
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, 1280, 36), fill="#2f3640")
    draw.text((16, 8), "Reports — Quarterly overview", font=_font(17), fill="#eceff4")
    for row in range(12):
        y = 70 + row * 52
        draw.rectangle((40, y, 1240, y + 40), fill="#ffffff" if row % 2 else "#eef1f5")
        draw.text((56, y + 10), f"Q3 report section {row + 1}", font=_font(16), fill="#444")
    draw.rectangle((330, 230, 950, 560), fill="#ffffff", outline="#8a929c", width=2)
    draw.rectangle((330, 230, 950, 272), fill="#c0392b")
    draw.text((350, 240), "Export failed", font=_font(20, bold=True), fill="#ffffff")
    draw.text((360, 300), "Could not write /srv/exports/q3.pdf", font=_font(18), fill="#222")
    draw.text((360, 335), "Permission denied (error 13).", font=_font(18), fill="#222")
    draw.text((360, 380), "Check that you can write to the folder.", font=_font(16),
              fill="#555")
    for x, label in ((640, "Cancel"), (790, "Retry")):
        draw.rectangle((x, 490, x + 130, 530), fill="#e8eaed", outline="#8a929c")
        draw.text((x + 34, 500), label, font=_font(17), fill="#222")
    buffer = io.BytesIO()
    im.save(buffer, "PNG")
    return buffer.getvalue()


def photo() -> bytes:
    """A second attachment: a smooth gradient 'photo' as a JPEG."""
    im = Image.new("RGB", (4032, 3024))
    top, bottom = (70, 130, 200), (240, 190, 120)
    draw = ImageDraw.Draw(im)
    for y in range(0, 3024, 8):
        t = y / 3024
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.rectangle((0, y, 4032, y + 8), fill=colour)
    draw.ellipse((2600, 500, 3300, 1200), fill=(255, 236, 170))
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


async def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Poll `condition` on the running loop (the window keeps working meanwhile)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - Qt state has no event to await
            await asyncio.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--size", default="1280x800", help="window size, WxH")
    parser.add_argument("--prefix", default="", help="prefix of every file name")
    parser.add_argument("--language", default="en", help="the window's language: en or zh_CN")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    home = tempfile.mkdtemp(prefix="qwenvl-shots-")
    os.environ["QWENVL_DESKTOP_HOME"] = home

    import keyring

    from qwenvl_desktop.testing.memory_keyring import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())

    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication, QWidget

    from qwenvl_desktop.core.settings import Settings
    from qwenvl_desktop.services import Services
    from qwenvl_desktop.testing.provider_server import DEFAULT_KEY, ProviderServer, Script
    from qwenvl_desktop.ui.app import create_application
    from qwenvl_desktop.ui.event_loop import AppEventLoop
    from qwenvl_desktop.ui.main_window import MainWindow
    from qwenvl_desktop.ui.settings_dialog import SettingsDialog
    from qwenvl_desktop.ui.theme import apply_theme

    if QApplication.platformName() == "offscreen" or os.environ.get(
            "QT_QPA_PLATFORM") == "offscreen":
        print("warning: offscreen platform; run under xvfb-run for real screenshots")
    app = create_application([])
    app.setQuitOnLastWindowClosed(False)    # the script ends the run, not the window
    from qwenvl_desktop.ui.language import apply_language

    chinese = apply_language(app, args.language, []) == "zh_CN"
    apply_theme(app, args.theme)
    loop = AppEventLoop(app)
    asyncio.set_event_loop(loop)
    server = ProviderServer().start()
    args.out.mkdir(parents=True, exist_ok=True)

    def grab(widget: QWidget, name: str, area: QRect | None = None) -> None:
        app.processEvents()
        screen = widget.screen()
        frame = area or widget.frameGeometry()
        pixmap = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        path = args.out / f"{args.prefix}{name}"
        pixmap.save(str(path), "PNG")
        print(f"wrote {path} ({pixmap.width()}×{pixmap.height()})")

    async def scenario() -> None:
        settings = Settings()
        settings.theme = args.theme
        for pid in ("dashscope-intl", "ovh", "aimlapi", "nebula", "segmind"):
            settings.set_base_url_override(pid, server.base_url_for(pid))
        settings.last_provider, settings.last_model = "dashscope-intl", "qwen3-vl-plus"
        settings.save()
        services = Services.create()
        window = MainWindow.build(services)
        window.move(0, 0)
        window.resize(width, height)
        window.show()
        await wait_for(window.isVisible)
        window.resize(width, height)        # again: panels dock or not once it is shown
        await asyncio.sleep(0.5)

        # 1. First run: no key yet.
        grab(window, "first-run.png")
        for pid in ("dashscope-intl", "ovh"):
            services.keystore.set(services.catalog.get(pid), DEFAULT_KEY)
        window.models.on_keys_changed()
        await asyncio.sleep(0.3)
        grab(window, "empty.png")

        # 2. A conversation: two images, reasoning, an answer with code and a table.
        server.enqueue(Script(content=ANSWER_ZH if chinese else ANSWER,
                              reasoning=REASONING_ZH if chinese else REASONING,
                              tokens_per_second=600,
                              usage={"prompt_tokens": 2608, "completion_tokens": 212,
                                     "total_tokens": 2820}))
        window.composer.add_image_bytes(dialog_screenshot(), "export-error.png")
        window.composer.add_image_bytes(photo(), "IMG_2041.jpg")
        await wait_for(lambda: len(window.composer.attachments()) == 2)
        window.composer.set_text("这个对话框哪里出错了？怎么解决？" if chinese
                                 else "What's wrong in this dialog, and how do I fix it?")
        window.composer.submit()
        conv = window.current_conversation()
        assert conv is not None
        await wait_for(lambda: len(conv.messages) == 2
                       and conv.messages[-1].status != "streaming"
                       and window.transcript.streaming_message_id is None)
        answer = conv.messages[-1]
        window.transcript.anchorClicked.emit(QUrl(f"msg-reasoning:{answer.id}"))
        await asyncio.sleep(0.3)
        window.transcript.verticalScrollBar().setValue(0)
        await asyncio.sleep(0.3)
        grab(window, "conversation.png")
        window.transcript.scroll_to_end()
        await asyncio.sleep(0.3)
        grab(window, "conversation-end.png")

        # 3. The model picker, open under its chip.
        window.model_bar.open_picker()
        await asyncio.sleep(0.4)
        popup = window.model_bar.picker.frameGeometry()
        grab(window, "picker.png", window.frameGeometry().united(popup))
        window.model_bar.picker.hide()

        # 4. The parameter drawer: a preset chosen, the details open.
        window.action("toggle_params").setChecked(True)
        window.param_panel.apply_preset("Precise")
        window.param_panel.details_button.setChecked(True)
        await asyncio.sleep(0.4)
        grab(window, "parameters.png")
        window.action("toggle_params").setChecked(False)

        # 5. The attachment tray with token estimates: a photo and a screenshot.
        window.composer.add_image_bytes(photo(), "IMG_2041.jpg")
        window.composer.add_image_bytes(dialog_screenshot(), "Screenshot 2025-06-02.png")
        await wait_for(lambda: len(window.composer.attachments()) == 2)
        window.composer.set_text("这两张里哪一张显示了错误？" if chinese
                                 else "Which of these two shows the error?")
        await asyncio.sleep(0.6)        # thumbnails are made off the GUI thread
        grab(window, "attachments.png")

        # 6. The settings dialog on its keys page.
        window.open_settings("keys")
        await wait_for(lambda: window.findChild(SettingsDialog) is not None)
        dialog = window.findChild(SettingsDialog)
        assert dialog is not None
        dialog.move(window.x() + 40, window.y() + 40)
        await asyncio.sleep(0.4)
        grab(dialog, "settings.png")
        dialog.close()

        window.close()
        await wait_for(lambda: window.is_shut_down)

    try:
        loop.run_until_complete(scenario())
    finally:
        server.stop()
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
