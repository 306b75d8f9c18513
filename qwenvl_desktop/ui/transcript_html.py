"""The HTML the transcript shows for one finished message.

Qt's rich-text engine understands a subset of HTML 4 and CSS 2; everything here stays
inside it: paragraphs, tables, `<a>` links with our own schemes for actions, and
images named `thumb:<sha256>` that the transcript supplies as resources.

Action links (handled by `Transcript._on_anchor`):

    msg-copy:<id>  msg-delete:<id>  msg-edit:<id>  msg-regen:<id>  msg-retry:<id>
    msg-reasoning:<id>     toggle the reasoning section
    branch-prev:<id>  branch-next:<id>   show the message's previous / next sibling
    copy-code:<id>:<n>     copy the n-th code block of the message
    copy-table:<id>:<n>    copy the n-th table as CSV (TSV too); save-table:… saves it
    image:<sha256>         open the image at full size
    grounding:<id>[:<sha>] open the viewer on what answer <id> located (on image <sha>)

A question whose answer located things shows its thumbnails as `athumb:<id>:<sha>`,
drawn with the answer's boxes and points.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict

from qwenvl_desktop.core.conversation import (
    Conversation,
    Message,
    StoredImage,
    left_out_of_history,
)
from qwenvl_desktop.core.markdown_render import CodePalette, render_markdown
from qwenvl_desktop.core.media_groups import visual_sections
from qwenvl_desktop.core.output_rate import tokens_per_second

from ..core.i18n import N_, _, ngettext
from .accessibility_text import image_alt
from .grounding_links import grounding_line_html, located_by
from .theme import TranscriptColors
from .theme.tokens import ICON, SPACE

__all__ = ["ICON_RESOURCE", "THUMB_BOX", "UNANSWERED_NOTE", "RenderCache", "branch_switch",
           "footer_html", "header_html", "image_alt_text", "message_html", "reasoning_html",
           "retag_code_links", "status_line", "thumb_size"]

THUMB_BOX = 160
UNANSWERED_NOTE = (N_("Unanswered: this question is sent again with your next one. Retry asks "
                      "it again on its own."))
_COPY_CODE = re.compile(r'href="copy-code:(\d+)"')
_TABLE_LINK = re.compile(r'href="(copy-table|save-table):(\d+)"')


def retag_code_links(rendered: str, message_id: str, offset: int = 0) -> tuple[str, int]:
    """Make `copy-code:<n>` links name their message (and shift n by `offset`).

    Returns the new HTML and how many code links it holds.
    """
    count = 0

    def sub(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f'href="copy-code:{message_id}:{int(match.group(1)) + offset}"'

    tagged = _TABLE_LINK.sub(lambda m: f'href="{m.group(1)}:{message_id}:{m.group(2)}"',
                             rendered)
    return _COPY_CODE.sub(sub, tagged), count


class RenderCache:
    """Each finished message's rendered markdown, by message id (markdown + Pygments is
    most of a message's cost; the header and status line are cheap to write again).

    An entry is used only while the message's text and the colour scheme are the ones it
    was rendered for; the oldest entries go once there are more than `size`.
    """

    def __init__(self, size: int = 3000) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[str, CodePalette, str]] = OrderedDict()

    def get(self, message: Message, palette: CodePalette) -> str | None:
        entry = self._entries.get(message.id)
        if entry is None or entry[0] != message.text or entry[1] != palette:
            return None
        self._entries.move_to_end(message.id)
        return entry[2]

    def put(self, message: Message, palette: CodePalette, rendered: str) -> None:
        self._entries[message.id] = (message.text, palette, rendered)
        self._entries.move_to_end(message.id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def rendered(self, message: Message, palette: CodePalette) -> str:
        """The message's markdown as HTML, its copy links naming the message."""
        found = self.get(message, palette)
        if found is None:
            found, _ = retag_code_links(render_markdown(message.text, palette=palette),
                                        message.id)
            self.put(message, palette, found)
        return found

    def __len__(self) -> int:
        return len(self._entries)


def thumb_size(image: StoredImage, box: int = THUMB_BOX) -> tuple[int, int]:
    """The thumbnail's size: the image scaled to fit a `box` square, never enlarged."""
    width, height = max(1, image.width), max(1, image.height)
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _file_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"


def image_alt_text(image: StoredImage) -> str:
    """An image's alternative text: its file name, pixels and bytes as sent."""
    return image_alt(image.original_name or "image", image.width, image.height,
                     _file_size(len(image.data)))


def _plain(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


# The icon beside each action word (ui/theme/icons.py; the transcript supplies
# `ui-icon:<name>` images in the muted text colour).
_ACTION_ICONS = {"msg-copy": "copy", "msg-edit": "edit", "msg-delete": "delete",
                 "msg-regen": "regenerate", "msg-retry": "retry"}
ICON_RESOURCE = "ui-icon:"


def icon_img(name: str, size: int = ICON.small - 2) -> str:
    return (f'<img src="{ICON_RESOURCE}{name}" width="{size}" height="{size}" '
            'style="vertical-align:middle">')


def _actions(links: list[tuple[str, str]], colors: TranscriptColors) -> str:
    parts = []
    for label, href in links:
        name = _ACTION_ICONS.get(href.partition(":")[0])
        picture = f"{icon_img(name)}&nbsp;" if name else ""
        parts.append(f'<a href="{href}" style="color:{colors.muted}; text-decoration:none">'
                     f"{picture}{label}</a>")
    return " &nbsp;&nbsp; ".join(parts)


def branch_switch(message_id: str, branch: tuple[int, int],
                  colors: TranscriptColors) -> str:
    """"‹ 2/3 ›": which of its siblings a message is, with arrows to the others (an arrow
    with nothing further that way is drawn faint and links nowhere)."""
    index, count = branch

    def arrow(name: str, href: str, enabled: bool, title: str) -> str:
        if not enabled:
            return icon_img(f"{name}@text_disabled")
        return (f'<a href="{href}:{message_id}" title="{title}" '
                f'style="text-decoration:none">{icon_img(f"{name}@link")}</a>')

    # Translated outside the f-string: Babel does not extract a _() written inside one.
    previous = arrow("previous", "branch-prev", index > 1, _("Previous version"))
    following = arrow("next", "branch-next", index < count, _("Next version"))
    return (f'{previous}<span style="color:{colors.muted}">&nbsp;{index}/{count}&nbsp;</span>'
            f'{following}')


def _header(title: str, links: list[tuple[str, str]], colors: TranscriptColors,
            switch: str = "") -> str:
    # The version switch is full size, unlike the small action links: it changes what
    # the whole conversation shows from here on.
    switch = f'&nbsp;&nbsp;<span style="color:{colors.muted}">{switch}</span>' if switch else ""
    return (f'<p style="margin:0 0 {SPACE.xs}px 0"><b>{html.escape(title)}</b>{switch}'
            f'<span style="color:{colors.muted}; font-size:small">&nbsp;&nbsp;&nbsp;&nbsp;'
            f'{_actions(links, colors)}</span></p>')


def _thumbnails(message: Message, conversation: Conversation) -> str:
    """Loose images as thumbnails; each document and clip under a caption, its pages or
    frames labelled (a clip as a filmstrip of small frames with their times)."""
    if not message.media:
        return _thumb_row([(sha, "") for sha in message.images], message, conversation)
    parts = []
    for section in visual_sections(message.images, message.media):
        group = section.group
        if group is None:
            parts.append(_thumb_row(section.images, message, conversation))
            continue
        # Words, not emoji: the desktop may have no emoji font (boxes under Xvfb).
        kind = _("Document") if group.kind == "document" else _("Video")
        cost = _(" · ≈ {tokens:,} tokens").format(tokens=group.tokens) if group.tokens else ""
        parts.append(f'<p style="margin:4px 0 0 0; font-size:small"><b>{kind}</b> '
                     f"{html.escape(group.describe())}{cost}</p>")
        if group.kind == "video":
            parts.append(_filmstrip(section.images, conversation))
        else:
            parts.append(_thumb_row(section.images, message, conversation, box=96,
                                    grounded=False))
    return "".join(parts)


def _thumb_row(items: list[tuple[str, str]], message: Message, conversation: Conversation,
               box: int = THUMB_BOX, grounded: bool = True) -> str:
    cells = []
    # What an answer located is drawn on loose images (pages and frames are not offered).
    located = located_by(message, conversation) if grounded and message.images else None
    for sha, label in items:
        image = conversation.images.get(sha)
        if image is None:
            continue
        if not image.data:
            # A file that held only an address for it: shown as missing, never fetched.
            missing = _("[image missing: {name} — not included in the file]").format(
                name=html.escape(image.original_name or _("image")))
            cells.append(f"<i>{missing}</i>")
            continue
        width, height = thumb_size(image, box)
        tokens = message.image_tokens.get(sha)
        name = image.original_name or "image"
        title = html.escape(f"{name} ({label})" if label and label not in name else name)
        if tokens:
            title += _(" — {width}×{height}, ~{tokens} tokens").format(
                width=image.width, height=image.height, tokens=tokens)
        href, src = f"image:{sha}", f"thumb:{sha}"
        if located is not None:
            href, src = f"grounding:{located}:{sha}", f"athumb:{located}:{sha}"
            title += _(" — click to see what the answer located")
        alt = html.escape(image_alt_text(image), quote=True)
        cells.append(f'<a href="{href}"><img src="{src}" width="{width}" '
                     f'height="{height}" alt="{alt}" title="{title}"></a>')
    if not cells:
        return ""
    return '<p style="margin:2px 0 6px 0">' + "&nbsp;&nbsp;".join(cells) + "</p>"


FILM_BOX = 72


def _filmstrip(items: list[tuple[str, str]], conversation: Conversation) -> str:
    """A clip's frames in one row, each with its time under it."""
    frames, times = [], []
    for sha, label in items:
        image = conversation.images.get(sha)
        if image is None:
            continue
        width, height = thumb_size(image, FILM_BOX)
        alt = html.escape(image_alt_text(image), quote=True)
        frames.append(f'<td><a href="image:{sha}"><img src="thumb:{sha}" width="{width}" '
                      f'height="{height}" alt="{alt}" title="{html.escape(label)}"></a></td>')
        times.append(f'<td align="center" style="font-size:small">{html.escape(label)}</td>')
    if not frames:
        return ""
    return ('<table cellspacing="2" cellpadding="0" style="margin:2px 0 6px 0">'
            f"<tr>{''.join(frames)}</tr><tr>{''.join(times)}</tr></table>")


def _fmt_seconds(value: float) -> str:
    shown = f"{value:.2f}" if value < 10 else f"{value:.1f}"
    return _("{seconds} s").format(seconds=shown)


def status_line(message: Message) -> str:
    """Model, tokens in/out, time to first token, tokens/s and how the answer ended."""
    parts: list[str] = []
    prov = message.provenance
    if prov is not None:
        parts.append(prov.model)
        usage = prov.usage
        if usage is not None and (usage.prompt_tokens or usage.completion_tokens):
            parts.append(_("{prompt_tokens} in / {completion_tokens} out tokens").format(
                prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens))
        if prov.first_token_s is not None:
            parts.append(_("first token {fmt_seconds}").format(
                fmt_seconds=_fmt_seconds(prov.first_token_s)))
        rate = tokens_per_second(message)
        if rate is not None:
            parts.append(_("{rate:.1f} tokens/s").format(rate=rate))
        if prov.retries:
            parts.append(ngettext("{count} retry", "{count} retries", prov.retries)
                         .format(count=prov.retries))
    end = {"stopped": "stopped", "interrupted": "interrupted", "error": "failed"}.get(
        message.status)
    if end:
        parts.append(end)
    elif prov is not None and prov.finish_reason:
        parts.append(_("finish: {finish_reason}").format(finish_reason=prov.finish_reason))
    return " · ".join(parts)


def reasoning_html(message: Message, expanded: bool, colors: TranscriptColors) -> str:
    """The reasoning toggle (and, expanded, the reasoning itself); "" without any."""
    if not message.reasoning.strip():
        return ""
    words = len(message.reasoning.split())
    # A language written without spaces may leave the count out (words are not countable
    # by spaces there).
    title = ngettext("Reasoning ({count} word)", "Reasoning ({count} words)",
                     words).format(count=words)
    arrow = icon_img("expand" if expanded else "collapse")
    link = (f'<p style="margin:0 0 {SPACE.xs}px 0"><a href="msg-reasoning:{message.id}" '
            f'style="color:{colors.muted}; text-decoration:none">{arrow}&nbsp;{title}</a></p>')
    if not expanded:
        return link
    # A quiet block: a thin rule at its left, muted text on a faint background.
    return (link + f'<table width="100%" cellpadding="0" cellspacing="0" '
            f'style="margin-bottom:{SPACE.sm}px"><tr>'
            f'<td width="3" bgcolor="{colors.reasoning_rule}"></td>'
            f'<td bgcolor="{colors.reasoning_bg}" style="padding:{SPACE.sm}px {SPACE.md}px">'
            f'<span style="color:{colors.muted}">{_plain(message.reasoning)}</span>'
            "</td></tr></table>")


def header_html(message: Message, colors: TranscriptColors, *,
                is_last_answer: bool = False, branch: tuple[int, int] | None = None) -> str:
    """The message's first paragraph: who wrote it, which version it is when it has
    siblings (`branch`: n of count), and its action links."""
    mid = message.id
    switch = branch_switch(mid, branch, colors) if branch and branch[1] > 1 else ""
    if message.role == "user":
        return _header(_("You"), [(_("Edit"), f"msg-edit:{mid}"), (_("Copy"), f"msg-copy:{mid}"),
                               (_("Delete"), f"msg-delete:{mid}")], colors, switch)
    if message.role == "system":
        return _header(_("System"), [], colors, switch)
    title = message.provenance.model if message.provenance else _("Assistant")
    links = [(_("Copy"), f"msg-copy:{mid}")]
    if is_last_answer:
        links.append((_("Regenerate"), f"msg-regen:{mid}"))
    elif message.status in ("stopped", "interrupted", "error") and not message.error:
        links.append((_("Retry"), f"msg-retry:{mid}"))     # (an error has its own Retry)
    links.append((_("Delete"), f"msg-delete:{mid}"))
    return _header(title, links, colors, switch)


def footer_html(message: Message, colors: TranscriptColors) -> str:
    """What follows an answer's text: what it located, the explained error, the status."""
    parts = [grounding_line_html(message, colors)]
    if message.error:
        parts.append(error_html(message, colors))
    status = status_line(message)
    if status:
        parts.append(f'<p style="margin:{SPACE.xs}px 0 0 0; color:{colors.muted}; '
                     f'font-size:small">{html.escape(status)}</p>')
    if message.status != "streaming" and left_out_of_history(message):
        # The history sent leaves this answer out, so its question goes again, with the
        # next one (joined into one turn where the provider wants that: turn_order.py).
        note = _(UNANSWERED_NOTE)
        parts.append(f'<p style="margin:{SPACE.xs}px 0 0 0; color:{colors.muted}; '
                     f'font-size:small">{note}</p>')
    return "".join(parts)


def message_html(message: Message, conversation: Conversation, colors: TranscriptColors, *,
                 is_last_answer: bool = False, reasoning_expanded: bool = False,
                 cache: RenderCache | None = None,
                 branch: tuple[int, int] | None = None) -> str:
    """The whole of one finished (or failed, or stopped) message.

    A question sits in a one-cell table with a background (the "bubble"); an answer's
    markdown comes from `cache` when it holds it.
    """
    header = header_html(message, colors, is_last_answer=is_last_answer, branch=branch)
    if message.role == "user":
        body = _plain(message.text) if message.text else ""
        inner = (header + _thumbnails(message, conversation)
                 + (f'<p style="margin:0">{body}</p>' if body else ""))
        # A soft tint, no outline: the person's turns stand apart without a heavy box.
        return (f'<table width="100%" cellpadding="{SPACE.md}" cellspacing="0" border="0" '
                f'bgcolor="{colors.user_bg}" style="margin-top:{SPACE.sm}px; '
                f'margin-bottom:{SPACE.lg}px"><tr><td>{inner}</td></tr></table>')
    if message.role == "system":
        return header + f"<p>{_plain(message.text)}</p>"
    parts = [header, reasoning_html(message, reasoning_expanded, colors)]
    if message.text:
        if cache is None:
            parts.append(retag_code_links(render_markdown(message.text, palette=colors.code),
                                          message.id)[0])
        else:
            parts.append(cache.rendered(message, colors.code))
    parts.append(footer_html(message, colors))
    return "".join(parts)


def error_html(message: Message, colors: TranscriptColors) -> str:
    """The explained error under a partial answer, with its Retry action."""
    return (f'<table width="100%" cellpadding="{SPACE.sm}" cellspacing="0" '
            f'bgcolor="{colors.error_bg}" style="margin-top:{SPACE.sm}px"><tr><td>'
            f'<span style="color:{colors.error}">'
            f"{_plain(message.error)}</span>&nbsp;&nbsp;"
            f'<a href="msg-retry:{message.id}" style="color:{colors.link}"><b>Retry</b></a>'
            "</td></tr></table>")
