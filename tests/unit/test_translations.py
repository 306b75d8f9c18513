"""The translation catalogs are complete and current, and the window marks its words.

Fails on: a sentence marked in the code but missing, empty or fuzzy in a shipped
language's catalog; a translation that drops or adds a placeholder (it would raise or
show a raw "{name}"); a .po or .mo out of date with the code; a literal English sentence
handed to a Qt widget without `_()`.
"""

from __future__ import annotations

import ast
import re
import string
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import translations  # noqa: E402

UI = ROOT / "qwenvl_desktop" / "ui"
LANGUAGES = translations.shipped_languages()


def test_zh_cn_is_shipped() -> None:
    assert "zh_CN" in LANGUAGES


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_marked_sentence_is_translated(code: str) -> None:
    catalog = translations.updated(code)
    missing = [f"{m.locations[0][0]}:{m.locations[0][1]}: {m.id!r} — {why}"
               for m, why in translations.unfinished(catalog) if m.locations]
    assert not missing, f"{code}: {len(missing)} sentences unfinished:\n" + "\n".join(missing)


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text)
                if name is not None}
    except ValueError:
        return {"<unbalanced braces>"}


@pytest.mark.parametrize("code", LANGUAGES)
def test_translations_keep_the_placeholders(code: str) -> None:
    wrong = []
    for message in translations.read_catalog(code):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        # Plural forms may leave the number out of the singular ("one image"), so a
        # translation is checked against the union of the source forms.
        allowed = set().union(*(_placeholders(i) for i in ids))
        for text in strings:
            if not _placeholders(text) <= allowed or (len(ids) == 1 and
                                                     _placeholders(text) != allowed):
                wrong.append(f"{ids[0]!r} -> {text!r}")
    assert not wrong, "\n".join(wrong)


def test_catalogs_are_current_with_the_code() -> None:
    assert translations.main(["--check"]) == 0, (
        "run `.venv/bin/python packaging/translations.py` and translate what it lists")


# --- words handed to Qt without being marked ------------------------------------------

#: Qt calls whose string arguments a person reads (method or class name → which
#: positional arguments; None: every string argument).
VISIBLE_ARGS: dict[str, tuple[int, ...] | None] = {
    "setText": (0,), "setToolTip": (0,), "setWindowTitle": (0,), "setPlaceholderText": (0,),
    "setStatusTip": (0,), "setWhatsThis": (0,), "setAccessibleName": (0,),
    "setAccessibleDescription": (0,), "setTitle": (0,), "setLabelText": (0,),
    "showMessage": (0,), "setSuffix": (0,), "setPrefix": (0,), "setSpecialValueText": (0,),
    "setTabText": (1,), "setItemText": (1,), "addTab": (1,), "insertTab": (2,),
    "addItem": (0,), "insertItem": (1,), "addItems": None, "addAction": None,
    "addMenu": None, "addSection": None, "setHeaderLabels": None,
    "setButtonText": (1,), "setInformativeText": (0,), "setDetailedText": (0,),
    "QLabel": None, "QPushButton": None, "QCheckBox": None, "QRadioButton": None,
    "QGroupBox": None, "QAction": None, "QMenu": None, "QToolButton": None,
    "QCommandLinkButton": None,
    "information": (1, 2), "warning": (1, 2), "critical": (1, 2), "question": (1, 2),
    "getText": (1, 2), "getItem": (1, 2), "getInt": (1, 2),
    "getOpenFileName": (1, 3), "getOpenFileNames": (1, 3), "getSaveFileName": (1, 3),
    "getExistingDirectory": (1,),
}
_KEYWORDS = {"text", "title", "toolTip", "placeholderText", "caption", "filter", "label"}
_WORDS = re.compile(r"[A-Za-z]{2,}")


def _literal_words(node: ast.AST) -> str:
    """English text written literally in an argument ("" when there is none): a string
    constant, the literal parts of an f-string, either side of a `+`, or the receiver of
    `.format()` — but nothing inside a `_()` / `ngettext()` call."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal_words(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _literal_words(node.left) + _literal_words(node.right)
    if isinstance(node, ast.IfExp):
        return _literal_words(node.body) + " " + _literal_words(node.orelse)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        return _literal_words(node.func.value)
    return ""


def _called_name(call: ast.Call) -> str:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return ""


def unmarked_sentences(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node)
        if name not in VISIBLE_ARGS:
            continue
        positions = VISIBLE_ARGS[name]
        args = [a for i, a in enumerate(node.args) if positions is None or i in positions]
        args += [k.value for k in node.keywords if k.arg in _KEYWORDS]
        for arg in args:
            items = list(arg.elts) if isinstance(arg, ast.List | ast.Tuple) else [arg]
            for item in items:
                text = _literal_words(item)
                if _WORDS.search(text):
                    found.append(f"{filename}:{node.lineno}: {name}({text[:60]!r})")
    return found


def test_the_check_sees_unmarked_words_and_accepts_marked_ones() -> None:
    code = '''
label.setText("Send")
label.setToolTip(f"Model {name}")
box = QLabel("Hello " + name)
menu.addAction(icon, "Open…")
button.setText("{n} images".format(n=n))
QMessageBox.warning(self, "Failed", "It broke")
label.setText(_("Send"))
label.setToolTip(_("Model {name}").format(name=name))
menu.addAction(icon, _("Open…"))
label.setText("→")
label.setText(name)
'''
    found = unmarked_sentences(code, "x.py")
    assert [f.split(":")[1] for f in found] == ["2", "3", "4", "5", "6", "7", "7"]


def test_the_window_marks_every_sentence_it_hands_to_qt() -> None:
    found = []
    for path in sorted(UI.rglob("*.py")):
        # Runs before Qt (and before any language is chosen): the terminal's words.
        if path.name == "system_libraries.py":
            continue
        found += unmarked_sentences(path.read_text(encoding="utf-8"),
                                    str(path.relative_to(ROOT)))
    assert not found, f"{len(found)} unmarked sentences:\n" + "\n".join(found)
