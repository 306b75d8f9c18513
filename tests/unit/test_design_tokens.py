"""The design tokens: every text colour pair reads (WCAG AA) in both schemes, and no
widget, style sheet or transcript HTML in `ui/` writes a colour of its own."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from qwenvl_desktop.ui.theme import contrast
from qwenvl_desktop.ui.theme.tokens import DISABLED_PAIRS, SCHEMES, TEXT_PAIRS, Scheme

UI = Path(__file__).resolve().parents[2] / "qwenvl_desktop" / "ui"
TOKENS = UI / "theme" / "tokens.py"


@pytest.mark.parametrize("scheme", list(SCHEMES.values()), ids=list(SCHEMES))
def test_every_text_pair_meets_wcag_aa(scheme: Scheme) -> None:
    failing = []
    for fg, bg, large in TEXT_PAIRS:
        ratio = contrast.contrast_ratio(scheme.get(fg), scheme.get(bg))
        needed = contrast.AA_LARGE if large else contrast.AA_NORMAL
        if ratio < needed:
            failing.append(f"{fg} on {bg}: {ratio:.2f} < {needed}")
    assert failing == []


@pytest.mark.parametrize("scheme", list(SCHEMES.values()), ids=list(SCHEMES))
def test_disabled_text_stays_legible(scheme: Scheme) -> None:
    for fg, bg in DISABLED_PAIRS:
        assert contrast.contrast_ratio(scheme.get(fg), scheme.get(bg)) >= 3.0, (fg, bg)


def test_both_schemes_name_the_same_tokens_and_every_pair_exists() -> None:
    light, dark = SCHEMES["light"], SCHEMES["dark"]
    assert not light.dark
    assert dark.dark
    for fg, bg, _large in TEXT_PAIRS:
        for scheme in (light, dark):
            assert re.fullmatch(r"#[0-9a-f]{6}", scheme.get(fg)), fg
            assert re.fullmatch(r"#[0-9a-f]{6}", scheme.get(bg)), bg
    with pytest.raises(KeyError):
        light.get("name")


def test_contrast_matches_known_figures() -> None:
    assert contrast.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)


# --- no colour outside the tokens ----------------------------------------------------------

_HEX = re.compile(r"(?<![\w&])#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})"
                  r"(?![0-9a-zA-Z_])")
_FUNCTION = re.compile(r"\b(?:rgba?|hsla?|hsva?)\s*\(", re.IGNORECASE)
_CSS_NAMES = ("black|white|red|green|blue|gray|grey|yellow|orange|purple|pink|brown|"
              "silver|navy|teal|maroon|olive|lime|aqua|fuchsia|cyan|magenta|gold|"
              "darkgray|darkgrey|lightgray|lightgrey")
_NAMED = re.compile(
    r"(?:\bcolor|background(?:-color)?|bgcolor|border(?:-\w+)?|stroke|fill)\s*[:=]\s*"
    rf"[\"']?(?:[^;\"'{{}}]*\s)?({_CSS_NAMES})\b", re.IGNORECASE)
_ALLOWED_GLOBAL_COLOURS = {"transparent", "color0", "color1"}


def _string_literals(source: str) -> list[tuple[int, str]]:
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE",
                                                                    -1):
            found.append((token.start[0], token.string))
    return found


def _written_values(node: ast.AST) -> list[ast.Constant]:
    """Constants an expression evaluates to directly (through `x if c else y`, `a or b`),
    not those that only feed a call or an f-string (a token's name, a key)."""
    if isinstance(node, ast.Constant):
        return [node]
    if isinstance(node, ast.IfExp):
        return _written_values(node.body) + _written_values(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [c for value in node.values for c in _written_values(value)]
    return []


def colour_literals(path: Path) -> list[str]:
    """Every colour written in a file: hex codes, rgb()/hsl() in strings, CSS colour
    names in style text, `QColor(...)` from anything but a variable, Qt's named colours."""
    source = path.read_text(encoding="utf-8")
    problems = []
    for line, text in _string_literals(source):
        body = text
        # A docstring or comment-like string that is prose is still checked: colours
        # belong in tokens.py, whatever the string is for.
        for pattern in (_HEX, _FUNCTION, _NAMED):
            for match in pattern.finditer(body):
                problems.append(f"{path.name}:{line}: {match.group(0)!r}")
    for node in ast.walk(ast.parse(source)):
        name = getattr(node, "func", None)
        if (isinstance(node, ast.Call) and getattr(name, "id", getattr(name, "attr", ""))
                == "QColor" and any(_written_values(arg) for arg in node.args)):
            problems.append(f"{path.name}:{node.lineno}: QColor({ast.unparse(node.args[0])}…)")
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                and node.value.attr == "GlobalColor"
                and node.attr not in _ALLOWED_GLOBAL_COLOURS):
            problems.append(f"{path.name}:{node.lineno}: Qt.GlobalColor.{node.attr}")
    return problems


def test_the_checker_finds_colours_written_in_code(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'a = "#e15759"\n'
        'b = QColor("#3a3a3a")\n'
        "c = QColor(0, 0, 0, 110)\n"
        'd = f"<p style=\'color: white\'>{x}</p>"\n'
        'e = "background: rgba(1, 2, 3, 40)"\n'
        "f = Qt.GlobalColor.black\n"
        'g = QColor(scheme.text)\n'
        'h = "issue #12 and &#8203; and colour tokens"\n'
        "i = Qt.GlobalColor.transparent\n"
        'j = QColor("black" if dark else "white")\n', encoding="utf-8")
    found = colour_literals(sample)
    lines = sorted({int(p.split(":")[1]) for p in found})
    assert lines == [1, 2, 3, 4, 5, 6, 10]


def test_no_colour_is_written_outside_the_tokens_module() -> None:
    problems = []
    for path in sorted(UI.rglob("*.py")):
        if path == TOKENS:
            continue
        problems += colour_literals(path)
    assert problems == []
