"""Markdown → HTML that Qt's rich-text engine (QTextBrowser) renders well.

QTextBrowser understands a subset of HTML 4 and CSS and no classes from outside, so
everything is spelled out inline: tables carry `border`/`cellpadding`, code blocks are a
one-cell table with a background colour, and Pygments colours come as `style=`
attributes. Raw HTML in the markdown is shown as text, never interpreted, and images
in model output become links (a transcript must not fetch URLs the model chose).

No text is ever dropped. markdown-it stops at its nesting limit and silently skips what
lies deeper (a list ten levels deep lost its deeper items, a 30-deep `>` quote rendered
as nothing), and GFM tables skip cells past the header's count; here, content nested
past `DEEP_LEVEL` is shown as plain text, extra cells join the row's last cell, a fence's
whole info string is shown, and link reference definitions stay visible as typed.

Each code block gets a "Copy" link `copy-code:<n>`; `code_blocks(text)[n]` is the code.
Each table gets "Copy as CSV" / "Save as CSV…" links `copy-table:<n>` / `save-table:<n>`;
`tables.find_tables(text)[n]` is the table. HTML tables in the answer (OCR models write
them) are parsed by `tables` and drawn from their cells — the model's HTML itself is
never passed on.

For streaming, `SettledSplitter` finds where the answer's finished blocks end, so the
transcript renders each finished block once and re-renders only the open tail
(re-rendering the whole answer on every token is quadratic).
"""

from __future__ import annotations

import functools
import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .i18n import _
from .links import is_openable

if TYPE_CHECKING:
    from collections.abc import Callable

    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.token import Token
    from pygments.formatters import HtmlFormatter
    from pygments.lexer import Lexer

    from .tables import Table

__all__ = ["DEEP_LEVEL", "CodePalette", "SettledSplitter", "code_blocks", "markdown_tokens",
           "render_markdown", "split_settled"]

# markdown-it and Pygments are imported on first use, not with this module: the window
# imports it while building its panes, and a new window has nothing to render yet
# (markdown-it alone is 30-50 ms of start-up). Pygments waits for the first code block.

MONOSPACE = "'DejaVu Sans Mono', Menlo, Consolas, monospace"

DEEP_LEVEL = 16
"""Block nesting (each quote 1, each list level 2) past which text is shown plain.

markdown-it's own limit (`maxNesting`, 20 in the CommonMark preset) drops what lies
past it; this stops a few levels before it, leaving room for the paragraph it opens."""


@dataclass(frozen=True)
class CodePalette:
    """The colours rendered markdown is written with: the window passes its scheme's
    (ui/theme); exports and the terminal use the two below."""

    pygments_style: str
    code_bg: str
    code_fg: str
    inline_bg: str
    border: str
    muted: str
    link: str
    table_header_bg: str = ""
    # Set (to the background the text sits on, and to the border colour made lighter as
    # Qt's default "outset" border does), a table is drawn as cells 1 px apart on
    # `table_rule`, inside a 1 px `border` edge at its right and bottom: what Qt drew for
    # the collapsed-border table exports still get (within a pixel: a `table_rule` line
    # inside that edge, white on white in the light scheme), without its
    # collapsed-border painting (a table on screen cost 8-11 ms per paint, 2.5-4 ms
    # this way: a visible stall at each repaint while an answer streams).
    table_cell_bg: str = ""
    table_rule: str = ""


_LIGHT = CodePalette("default", "#f6f8fa", "#1f2328", "#eaeef2", "#d0d7de", "#6e7781", "#0969da")
_DARK = CodePalette("github-dark", "#161b22", "#e6edf3", "#2d333b", "#444c56", "#8b949e",
                 "#4493f8")


@functools.cache
def _formatter(style: str) -> HtmlFormatter[str]:
    from pygments.formatters import HtmlFormatter
    from pygments.styles import get_style_by_name

    return HtmlFormatter(noclasses=True, nowrap=True, style=get_style_by_name(style))


@functools.lru_cache(maxsize=64)
def _lexer(lang: str) -> Lexer:
    """The lexer for a fence's info word; plain text for anything unknown."""
    from pygments.lexers import TextLexer, get_lexer_by_name, get_lexer_for_filename
    from pygments.util import ClassNotFound

    name = lang.strip("{}.").lower()
    if not name:
        return TextLexer()
    try:
        return get_lexer_by_name(name, stripnl=False)
    except ClassNotFound:
        pass
    try:
        return get_lexer_for_filename(f"code.{name}", stripnl=False)
    except ClassNotFound:
        return TextLexer()


def _highlight(code: str, lang: str, palette: CodePalette, *, enabled: bool = True) -> str:
    from markdown_it.common.utils import escapeHtml

    if not enabled:
        return escapeHtml(code).removesuffix("\n")
    from pygments import highlight

    try:
        html = highlight(code, _lexer(lang), _formatter(palette.pygments_style))
    except Exception:  # a lexer bug must never take the transcript down
        html = escapeHtml(code)
    return str(html).removesuffix("\n")


@functools.cache
def _parser() -> MarkdownIt:
    """The one markdown-it parser, with the renderer below; made on first use."""
    from markdown_it import MarkdownIt
    from markdown_it.rules_block.table import table

    md = MarkdownIt("commonmark", {"html": False, "xhtmlOut": False},
                    renderer_cls=_renderer_class()).enable(["table", "strikethrough"])
    # A definition `[ref]: url` renders as nothing (and an unused one vanishes): keep it
    # as typed text, so a link's target is never hidden behind a label elsewhere.
    md.disable("reference")
    md.block.ruler.at("table", _keeping_extra_cells(table),
                      {"alt": ["paragraph", "reference"]})
    md.block.ruler.before("table", "deep_text", _deep_text)
    return md


def _deep_text(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Past `DEEP_LEVEL`, the rest of the container is one plain-text block."""
    if silent or state.level < DEEP_LEVEL:
        return False
    token = state.push("deep_text", "", 0)
    token.content = state.getLines(start, end, state.blkIndent, False)
    token.map = [start, end]
    token.block = True
    state.line = end
    return True


def _keeping_extra_cells(table: Callable[[StateBlock, int, int, bool], bool]) -> Callable[
        [StateBlock, int, int, bool], bool]:
    """markdown-it's GFM table rule, with cells past the header's count kept: they are
    added to the row's last cell, separated by `|` as they were typed."""
    from markdown_it.common.utils import mdTrim
    from markdown_it.rules_block.table import escapedSplit, getLine

    def rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        first = len(state.tokens)
        if not table(state, start, end, silent):
            return False
        if silent:
            return True
        tokens = state.tokens
        columns = sum(1 for t in tokens[first:] if t.type == "th_open")
        last_cell: Token | None = None
        for token in tokens[first:]:
            if token.type == "inline" and token.map and token.map[0] > start:
                last_cell = token
            elif token.type == "tr_close" and last_cell is not None and last_cell.map:
                cells = escapedSplit(mdTrim(getLine(state, last_cell.map[0])))
                if cells and cells[0] == "":
                    cells.pop(0)
                if cells and cells[-1] == "":
                    cells.pop()
                extra = [mdTrim(cell) for cell in cells[columns:]]
                if extra:
                    last_cell.content = " | ".join([last_cell.content, *extra])
                last_cell = None
        return True

    return rule


def _renderer_class() -> Any:
    """markdown-it's HTML renderer with the elements Qt needs written its way.

    Per-render state travels in `env`: the palette, whether to add copy links, and
    the running code-block number. (Defined here, not at module level, because its
    base class is markdown-it's, which is imported on first use.)
    """
    from markdown_it.common.utils import escapeHtml
    from markdown_it.renderer import RendererHTML
    from markdown_it.utils import EnvType, OptionsDict

    class _QtRenderer(RendererHTML):
        def fence(self, tokens: Sequence[Token], idx: int, _options: OptionsDict,
                  env: EnvType) -> str:
            token = tokens[idx]
            info = token.info.strip()
            lang = info.split(maxsplit=1)[0] if info else ""
            return self._code(token.content, lang, env, label=info)

        def code_block(self, tokens: Sequence[Token], idx: int, _options: OptionsDict,
                       env: EnvType) -> str:
            return self._code(tokens[idx].content, "", env)

        def _code(self, code: str, lang: str, env: EnvType, label: str = "") -> str:
            palette: CodePalette = env["palette"]
            index: int = env["code_index"]
            env["code_index"] = index + 1
            label = escapeHtml(label or lang)
            if env["copy_links"]:
                word = _("Copy")
                copy = f'<a href="copy-code:{index}" style="color:{palette.link}">{word}</a>'
                header = f"{label} &nbsp;·&nbsp; {copy}" if label else copy
            else:
                header = label
            header_html = (f'<p style="margin:0; font-size:small; color:{palette.muted}">'
                           f"{header}</p>") if header else ""
            code_html = _highlight(code, lang, palette, enabled=env["highlight"])
            return (
                f'<table width="100%" border="0" cellspacing="0" cellpadding="8" '
                f'bgcolor="{palette.code_bg}" style="background-color:{palette.code_bg}; '
                f'margin-top:6px; margin-bottom:6px"><tr><td>{header_html}'
                f'<pre style="margin:0; font-family:{MONOSPACE}; color:{palette.code_fg}">'
                f"{code_html}</pre></td></tr></table>\n"
            )

        def code_inline(self, tokens: Sequence[Token], idx: int, _options: OptionsDict,
                        env: EnvType) -> str:
            palette: CodePalette = env["palette"]
            return (f'<code style="font-family:{MONOSPACE}; '
                    f'background-color:{palette.inline_bg}">'
                    f"{escapeHtml(tokens[idx].content)}</code>")

        def table_open(self, _tokens: Sequence[Token], _idx: int, _options: OptionsDict,
                       env: EnvType) -> str:
            return _table_open(env)

        def table_close(self, _tokens: Sequence[Token], _idx: int, _options: OptionsDict,
                        env: EnvType) -> str:
            return _table_close(env) + _table_links(env)

        def th_open(self, tokens: Sequence[Token], idx: int, _options: OptionsDict,
                    env: EnvType) -> str:
            palette: CodePalette = env["palette"]
            return _cell_open("th", tokens[idx],
                              palette.table_header_bg or palette.table_cell_bg)

        def td_open(self, tokens: Sequence[Token], idx: int, _options: OptionsDict,
                    env: EnvType) -> str:
            return _cell_open("td", tokens[idx], env["palette"].table_cell_bg)

        def deep_text(self, tokens: Sequence[Token], idx: int, _options: OptionsDict,
                      _env: EnvType) -> str:
            lines = escapeHtml(tokens[idx].content.rstrip("\n")).split("\n")
            # Leading spaces show the nesting that could not be laid out; HTML would
            # collapse them.
            kept = ["&nbsp;" * (len(ln) - len(ln.lstrip(" "))) + ln.lstrip(" ") for ln in lines]
            return "<p>" + "<br>\n".join(kept) + "</p>\n"

        def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
                  env: EnvType) -> str:
            token = tokens[idx]
            alt = self.renderInlineAsText(token.children, options, env) or _("image")
            src = str(token.attrGet("src") or "")
            shown = _("[image: {alt}]").format(alt=escapeHtml(alt))
            if not is_openable(src):
                return f"{shown}{_shown_target(src, env)}"
            return f'<a href="{escapeHtml(src)}">{shown}</a>'

        # A model-written link the app may never open (another scheme, a relative path,
        # or one of the transcript's own action schemes, which a model could imitate)
        # is not a link: its text is shown followed by its target.
        def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
                      env: EnvType) -> str:
            token = tokens[idx]
            href = str(token.attrGet("href") or "")
            stack: list[str | None] = env.setdefault("blocked_links", [])
            if is_openable(href):
                stack.append(None)
                return self.renderToken(tokens, idx, options, env)
            # An autolink's text is its target already: nothing to add after it.
            stack.append("" if token.markup == "autolink" else href)
            return ""

        def link_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict,
                       env: EnvType) -> str:
            stack: list[str | None] = env.get("blocked_links") or []
            blocked = stack.pop() if stack else None
            if blocked is None:
                return self.renderToken(tokens, idx, options, env)
            return _shown_target(blocked, env) if blocked else ""

    return _QtRenderer


def _table_open(env: MutableMapping[str, Any]) -> str:
    palette: CodePalette = env["palette"]
    if palette.table_cell_bg:
        return (f'<table border="0" cellspacing="0" cellpadding="0" bgcolor="{palette.border}" '
                f'style="margin-top:7px; margin-bottom:7px; margin-left:1px"><tr>'
                f'<td style="padding-right:1px; padding-bottom:1px">'
                f'<table border="0" cellspacing="1" cellpadding="5" '
                f'bgcolor="{palette.table_rule}">\n')
    return (f'<table border="1" cellspacing="0" cellpadding="5" '
            f'style="border-collapse:collapse; border-color:{palette.border}; '
            f'margin-top:6px; margin-bottom:6px">\n')


def _table_close(env: MutableMapping[str, Any]) -> str:
    palette: CodePalette = env["palette"]
    return "</table></td></tr></table>\n" if palette.table_cell_bg else "</table>\n"


def _table_links(env: MutableMapping[str, Any]) -> str:
    """The links under a table; each table takes the next number, linked or not."""
    index: int = env["table_index"]
    env["table_index"] = index + 1
    if not env["copy_links"]:
        return ""
    palette: CodePalette = env["palette"]
    link = f"color:{palette.link}; text-decoration:none"
    copy, save = _("Copy as CSV"), _("Save as CSV…")
    return (f'<p style="margin:0 0 6px 0; font-size:small">'
            f'<a href="copy-table:{index}" style="{link}">{copy}</a>&nbsp;·&nbsp;'
            f'<a href="save-table:{index}" style="{link}">{save}</a></p>\n')


def _html_table(table: Table, env: dict[str, Any]) -> str:
    """An HTML table of the answer, written from its parsed cells (text escaped)."""
    from markdown_it.common.utils import escapeHtml

    palette: CodePalette = env["palette"]
    rows = []
    for row in table.rows:
        cells = []
        for cell in row:
            tag = "th" if cell.header else "td"
            spans = (f' colspan="{cell.colspan}"' if cell.colspan > 1 else "") + (
                f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "")
            if palette.table_cell_bg:
                spans += f' bgcolor="{palette.table_cell_bg}"'
            text = escapeHtml(cell.text).replace("\n", "<br>")
            cells.append(f"<{tag}{spans}>{text}</{tag}>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<p><i>{escapeHtml(table.caption)}</i></p>\n" if table.caption else ""
    return (caption + _table_open(env) + "\n".join(rows) + "\n" + _table_close(env)
            + _table_links(env))


def _shown_target(href: str, env: MutableMapping[str, Any]) -> str:
    from markdown_it.common.utils import escapeHtml

    palette: CodePalette = env["palette"]
    return f' <span style="color:{palette.muted}">({escapeHtml(href)})</span>'


def _cell_open(tag: str, token: Token, background: str = "") -> str:
    # markdown-it writes style="text-align:…"; Qt honours the HTML 4 align attribute.
    style = str(token.attrGet("style") or "")
    align = style.removeprefix("text-align:") if style.startswith("text-align:") else ""
    attributes = f' align="{align}"' if align in ("left", "center", "right") else ""
    if background:
        attributes += f' bgcolor="{background}"'
    return f"<{tag}{attributes}>"


def render_markdown(text: str, *, dark: bool = False, copy_links: bool = True,
                    first_code_index: int = 0, highlight: bool = True,
                    first_table_index: int = 0, palette: CodePalette | None = None) -> str:
    """An HTML fragment for `text`.

    `first_code_index` and `first_table_index` number the copy links when a message is
    rendered in pieces (settled blocks, then the tail); `copy_links=False` leaves them
    out (exports).
    `highlight=False` skips Pygments (same layout, plain code): Pygments is most of
    the cost of rendering code, so a streaming tail re-rendered per token can skip it
    and get its colours when the block settles. `palette` (when given) replaces the
    built-in light or dark colours.
    """
    chosen = palette if palette is not None else (_DARK if dark else _LIGHT)
    env: dict[str, Any] = {"palette": chosen, "copy_links": copy_links,
                           "code_index": first_code_index, "highlight": highlight,
                           "table_index": first_table_index}
    if "<table" not in text and "<TABLE" not in text:
        return str(_parser().render(text, env))
    from .tables import split_html_tables

    parts = []
    for segment in split_html_tables(text):
        if segment.table is None:
            parts.append(str(_parser().render(segment.text, env)))
        else:
            parts.append(_html_table(segment.table, env))
    return "".join(parts)


def markdown_tokens(text: str) -> list[Token]:
    """The block tokens of `text`, from the same parser the renderer uses."""
    return list(_parser().parse(text))


def code_blocks(text: str) -> list[str]:
    """The code of each code block (fenced or indented), in the order the copy links
    number them, without the final newline."""
    return [t.content.removesuffix("\n") for t in _parser().parse(text)
            if t.type in ("fence", "code_block")]


# --- streaming: which part of a growing answer is finished ---------------------------

# Containers that may precede a fence on its line: block quotes and list markers.
_OPEN_PREFIX = re.compile(r"(?:[ \t]*(?:>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t])))*[ \t]*")
_CLOSE_PREFIX = re.compile(r"(?:[ \t]*>)*[ \t]*")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)")
_CLOSING = re.compile(r"(`{3,}|~{3,})[ \t]*")


class SettledSplitter:
    """Feeds on an answer's deltas and hands back the markdown that has settled.

    A block is settled once a blank line follows it outside any open ``` or ~~~ fence;
    everything before such a line renders the same whatever arrives later. Each
    character is examined once, so the cost per delta does not grow with the answer.

    The fence rules are deliberately a little eager to see a fence open (fences after
    list markers or quotes, any indentation): mistaking text for a fence only delays
    settling, while missing a fence would split a code block in two.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []      # complete lines not yet settled
        self._partial: list[str] = []    # pieces of the line being written
        # The open fence: marker char, its length, its indent, and how many block quotes
        # it sits in (a line with fewer `>` ends the quote, and the fence with it).
        self._fence: tuple[str, int, int, int] | None = None

    def reset(self) -> None:
        self._lines.clear()
        self._partial.clear()
        self._fence = None

    def feed(self, delta: str) -> str | None:
        """Add a delta; return the markdown that became settled with it, if any."""
        settled_upto = 0
        start = 0
        while True:
            newline = delta.find("\n", start)
            if newline < 0:
                if start < len(delta):
                    self._partial.append(delta[start:])
                break
            piece = delta[start:newline + 1]
            if self._partial:
                self._partial.append(piece)
                piece = "".join(self._partial)
                self._partial.clear()
            self._lines.append(piece)
            if self._ends_block(piece):
                settled_upto = len(self._lines)
            start = newline + 1
        if not settled_upto:
            return None
        settled = "".join(self._lines[:settled_upto])
        del self._lines[:settled_upto]
        return settled

    @property
    def tail(self) -> str:
        """The open part: text after the last settled block (re-render this one)."""
        return "".join(self._lines) + "".join(self._partial)

    @property
    def in_fence(self) -> bool:
        return self._fence is not None

    def flush(self) -> str:
        """The whole remaining tail (at the end of the answer); starts afresh."""
        rest = self.tail
        self.reset()
        return rest

    def _ends_block(self, line: str) -> bool:
        body = line.removesuffix("\n").removesuffix("\r")
        if self._fence is not None:
            char, length, indent, quotes = self._fence
            prefix = _CLOSE_PREFIX.match(body)
            end = prefix.end() if prefix else 0
            if body[:end].count(">") >= quotes:
                closing = _CLOSING.fullmatch(body, end)
                if (closing and closing.group(1)[0] == char and len(closing.group(1)) >= length
                        and len(body[:end].expandtabs(4)) <= indent + 3):
                    self._fence = None
                return False
            self._fence = None   # the quote ended, closing the fence; read the line afresh
        if not body.strip(" \t"):
            return True
        prefix = _OPEN_PREFIX.match(body)
        end = prefix.end() if prefix else 0
        fence = _FENCE.fullmatch(body, end)
        if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            marker = fence.group(1)
            self._fence = (marker[0], len(marker), len(body[:end].expandtabs(4)),
                           body[:end].count(">"))
        return False


def split_settled(text: str) -> tuple[str, str]:
    """(settled, open_tail): the longest prefix made of finished blocks, and the rest."""
    settled = SettledSplitter().feed(text) or ""
    return settled, text[len(settled):]
