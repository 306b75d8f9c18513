"""Sharing a conversation as Markdown (with an images folder) or as one HTML file.

Both keep what a reader needs to trust the transcript: who said what and when, the
model's reasoning apart from its answer, which model answered and what it cost, and
plain marks on answers that failed or were cut short. Neither ever holds a key: only
the text the person saw is exported, and error text goes through `redact` once more.
Neither fetches anything when opened: the HTML carries a CSP that forbids it, and the
Markdown shows raw HTML as text and remote images as links (`markdown_inert`); only
the export's own image files are images.
Both write the visible branch of a conversation (the one on screen), not the others.

Language: an export follows the window's language (`core.i18n`): its headings, marks and
status lines are the ones the person reads in the app, so a Chinese window writes a
Chinese export (the HTML declares that language). What people and models wrote, model
ids and finish reasons stay as they are. The terminal never chooses a language, so its
exports are English.
"""

from __future__ import annotations

import base64
import html
import time
import urllib.parse
from pathlib import Path

from .. import __version__
from .conversation import Conversation, Message, StoredImage
from .errors import redact
from .export_figures import Figure, answer_figures, write_figures
from .i18n import N_, _, current_language, format_integer, ngettext
from .markdown_inert import inert_markdown
from .markdown_render import render_markdown
from .media_groups import VisualSection, visual_sections
from .output_rate import tokens_per_second
from .storage import atomic_write

__all__ = ["export_html", "export_markdown", "status_line"]

_ROLE_NAMES = {"user": N_("You"), "assistant": N_("Assistant"), "system": N_("System")}
_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp",
               "image/gif": ".gif", "image/bmp": ".bmp", "image/tiff": ".tif"}


def _when(timestamp: float) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))
    except (OverflowError, OSError, ValueError):
        return ""


def status_line(message: Message) -> str:
    """"qwen3-vl-plus · 1,204 tokens in · 388 out · first token 0.82 s · 6.4 s total ·
    69.4 tokens/s · finish: stop" (a rate only when it means something: output_rate)."""
    prov = message.provenance
    if prov is None:
        return ""
    parts = [prov.model or prov.provider]
    if prov.usage is not None:
        parts.append(_("{count} tokens in").format(
            count=format_integer(prov.usage.prompt_tokens)))
        if prov.usage.reasoning_tokens:
            parts.append(_("{count} out ({reasoning} reasoning)").format(
                count=format_integer(prov.usage.completion_tokens),
                reasoning=format_integer(prov.usage.reasoning_tokens)))
        else:
            parts.append(_("{count} out").format(
                count=format_integer(prov.usage.completion_tokens)))
    if prov.first_token_s is not None:
        parts.append(_("first token {seconds} s").format(seconds=f"{prov.first_token_s:.2f}"))
    if prov.total_s is not None:
        parts.append(_("{seconds} s total").format(seconds=f"{prov.total_s:.1f}"))
    rate = tokens_per_second(message)
    if rate is not None:
        parts.append(_("{rate} tokens/s").format(rate=f"{rate:,.1f}"))
    if prov.finish_reason:
        parts.append(_("finish: {reason}").format(reason=prov.finish_reason))
    if prov.retries:
        parts.append(ngettext("{count} retry", "{count} retries", prov.retries).format(
            count=prov.retries))
    return " · ".join(p for p in parts if p)


def _state_note(message: Message) -> str:
    """The mark on an answer that is not whole (empty for a complete one)."""
    if message.status == "stopped":
        return _("Stopped before the end — this answer is incomplete.")
    if message.status == "interrupted":
        return _("Interrupted — the connection broke off; this answer is incomplete.")
    if message.status == "streaming":
        return _("Still being written when exported — this answer is incomplete.")
    if message.status == "error":
        return _("Error: {reason}").format(
            reason=redact(message.error) or _("the answer failed."))
    return ""


def _header(conv: Conversation) -> str:
    bits = [_("Exported from Qwen-VL Desktop {version}").format(version=__version__)]
    if _when(conv.created):
        bits.append(_("started {time}").format(time=_when(conv.created)))
    if conv.provider_id or conv.model_id:
        bits.append(" / ".join(x for x in (conv.provider_id, conv.model_id) if x))
    return " · ".join(bits)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- Markdown ------------------------------------------------------------------------

def export_markdown(conv: Conversation, out: Path) -> Path:
    """Write `out` and, if the conversation has images, `<stem>_images/` beside it."""
    folder_name = f"{out.stem}_images"
    links = _write_images(conv, out.parent / folder_name, folder_name)
    figures = write_figures(conv, out.parent / folder_name, folder_name, links)
    title = inert_markdown(_one_line(conv.title) or _("Conversation"))
    lines = [f"# {title}", "", f"*{inert_markdown(_header(conv))}*", ""]
    if conv.system_prompt.strip():
        heading = _("System prompt")
        lines += [f"> **{heading}**", ">",
                  *_quoted(inert_markdown(conv.system_prompt)), ""]
    for message in conv.messages:
        lines += _markdown_message(conv, message, links, figures.get(message.id, []))
    atomic_write(out, "\n".join(lines).encode("utf-8"))
    return out


def _write_images(conv: Conversation, folder: Path, folder_name: str) -> dict[str, str]:
    """Save each image shown in the conversation once; sha256 -> relative link.

    An image without bytes (a file that held only its address) is left out: it gets
    a plain link in the text instead (`_missing_image`), never an image to fetch.
    """
    links: dict[str, str] = {}
    for message in conv.messages:
        for sha in message.images:
            image = conv.images.get(sha)
            if image is None or sha in links or not image.data:
                continue
            name = f"{len(links) + 1:02d}-{sha[:12]}{_EXTENSIONS.get(image.mime, '.img')}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(image.data)
            links[sha] = urllib.parse.quote(f"{folder_name}/{name}")
    return links


def _quoted(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in text.splitlines()]


def _escaped(text: str) -> str:
    """Text for an image's alt text: no markup, no HTML, no early end of the brackets."""
    for char in "\\[]<!`*_":
        text = text.replace(char, "\\" + char)
    return text


def _labelled(alt: str, label: str) -> str:
    return f"{alt} ({label})" if label and label not in alt else alt


def _md_text(text: str) -> str:
    """Plain text that Markdown shows as it is (file names may hold * _ [ ])."""
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in text)


def _alt(image: StoredImage) -> str:
    return _escaped(_one_line(image.original_name) or "image")


def _missing_image(image: StoredImage) -> str:
    """The line for an image the conversation holds no bytes of: a link at most."""
    note = "*" + _("{name}: image not included in the conversation file").format(
        name=_alt(image)) + "*"
    url = image.source_url
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return note
    quoted = urllib.parse.quote(url, safe=":/?#@!$&'*+,;=%~-._[]")
    address = _("its address")
    return f"{note} — [{address}]({quoted})"


def _markdown_message(conv: Conversation, message: Message, links: dict[str, str],
                      figures: list[tuple[str, Figure]]) -> list[str]:
    who = _(_ROLE_NAMES[message.role]) if message.role in _ROLE_NAMES else message.role
    when = _when(message.created)
    lines = ["---", "", f"### {who}" + (f" · {when}" if when else ""), ""]
    if message.reasoning.strip():
        heading = _("Reasoning")
        lines += [f"> **{heading}**", ">", *_quoted(inert_markdown(message.reasoning)), ""]
    for section in visual_sections(message.images, message.media):
        if section.group is not None:
            kind = _("Document") if section.group.kind == "document" else _("Video")
            lines += [f"**{kind}:** {_md_text(section.group.describe())}", ""]
        shown = [f"![{_labelled(_alt(conv.images[sha]), label)}]({links[sha]})"
                 for sha, label in section.images if sha in links and sha in conv.images]
        missing = [_missing_image(conv.images[sha]) for sha, _label in section.images
                   if sha not in links and sha in conv.images]
        if section.group is not None and section.group.kind == "video":
            lines += [" ".join(shown), ""] if shown else []     # a filmstrip: one line
        else:
            for image in shown:
                lines += [image, ""]
        for line in missing:
            lines += [line, ""]
    if message.text:
        lines += [inert_markdown(message.text), ""]
    for link, figure in figures:
        alt = _escaped(_one_line(figure.caption))
        lines += [f"![{alt}]({link})", "", f"*{inert_markdown(_one_line(figure.caption))}*", ""]
    note = _state_note(message)
    if note:
        lines += [f"> **⚠ {inert_markdown(_one_line(note))}**", ""]
    status = status_line(message)
    if status:
        lines += [f"*{inert_markdown(status)}*", ""]
    return lines


# --- HTML ----------------------------------------------------------------------------

# A Content-Security-Policy that forbids scripts and any fetch: even a bug in escaping
# could not make the file run code or call out when opened.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 54rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #1f2328; }
.meta, .when, .status { color: #6e7781; font-size: 0.9em; }
.msg { border-top: 1px solid #d0d7de; padding: 0.75rem 0; }
.who { font-weight: 600; margin-bottom: 0.25rem; }
.plain { white-space: pre-wrap; }
.note { color: #9a6700; font-weight: 600; }
.note.error { color: #cf222e; }
details { background: #f6f8fa; border-radius: 6px; padding: 0.4rem 0.8rem; margin: 0.4rem 0; }
summary { cursor: pointer; color: #6e7781; }
img.attached { max-width: 100%; max-height: 32rem; border: 1px solid #d0d7de;
               border-radius: 4px; margin: 0.25rem 0.25rem 0.25rem 0; }
pre { overflow-x: auto; }
.media { margin: 0.5rem 0 0.1rem 0; }
.pages img.attached { max-height: 16rem; }
.filmstrip { display: flex; gap: 4px; overflow-x: auto; padding-bottom: 0.25rem; }
.filmstrip figure { margin: 0; flex: 0 0 auto; text-align: center; }
.filmstrip img { height: 5.5rem; border: 1px solid #d0d7de; border-radius: 3px; }
.filmstrip figcaption { color: #6e7781; font-size: 0.8em; }
"""


def export_html(conv: Conversation, out: Path) -> Path:
    """Write one self-contained HTML file: images inline, no scripts, no remote fetches."""
    esc = html.escape
    title = esc(_one_line(conv.title) or _("Conversation"))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{current_language().replace("_", "-")}"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f'<meta name="generator" content="Qwen-VL Desktop {esc(__version__)}">',
        f"<title>{title}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        f'<p class="meta">{esc(_header(conv))}</p>',
    ]
    if conv.system_prompt.strip():
        heading = _("System prompt")
        parts.append(f'<section class="msg system"><div class="who">{esc(heading)}'
                     f'</div><div class="plain">{esc(conv.system_prompt)}</div></section>')
    uris: dict[str, str] = {}   # encoded once even when an image is shown many times
    for message in conv.messages:
        parts.append(_html_message(conv, message, uris))
    parts.append("</body></html>\n")
    atomic_write(out, "\n".join(parts).encode("utf-8"))
    return out


def _html_section(conv: Conversation, section: VisualSection, uris: dict[str, str]) -> str:
    """Loose images at size; a document's pages under a caption; a clip as a filmstrip
    of frames, each with its time under it."""
    esc = html.escape
    cells = []
    for sha, label in section.images:
        image = conv.images.get(sha)
        if image is None:
            continue
        if not image.data:
            note = _("{name}: image not included in the conversation file").format(
                name=image.original_name or _("image"))
            cells.append(f'<p class="note">{esc(note)}</p>')
            continue
        if sha not in uris:
            uris[sha] = _data_uri(image)
        alt = esc(image.original_name or _("image"))
        if section.group is not None and section.group.kind == "video":
            cells.append(f'<figure class="frame"><img alt="{alt}" src="{uris[sha]}">'
                         f"<figcaption>{esc(label)}</figcaption></figure>")
        else:
            cells.append(f'<img class="attached" alt="{alt}" title="{esc(label)}" '
                         f'src="{uris[sha]}">')
    group = section.group
    if group is None:
        return "\n".join(cells)
    kind = _("Document") if group.kind == "document" else _("Video")
    cost = " · " + _("≈ {count} tokens").format(count=format_integer(group.tokens)) if (
        group.tokens) else ""
    caption = (f'<p class="media"><b>{kind}</b> {esc(group.describe())}'
               f'<span class="status">{esc(cost)}</span></p>')
    css = "filmstrip" if group.kind == "video" else "pages"
    return f'{caption}<div class="{css}">{"".join(cells)}</div>'


def _data_uri(image: StoredImage) -> str:
    mime = image.mime if image.mime.startswith("image/") else "application/octet-stream"
    return f"data:{mime};base64,{image.base64()}"      # encoded once per image, kept


def _html_message(conv: Conversation, message: Message, uris: dict[str, str]) -> str:
    esc = html.escape
    who = _(_ROLE_NAMES[message.role]) if message.role in _ROLE_NAMES else message.role
    out = [f'<section class="msg {esc(message.role)}">',
           f'<div class="who">{esc(who)} <span class="when">{esc(_when(message.created))}'
           "</span></div>"]
    if message.reasoning.strip():
        heading = _("Reasoning")
        out.append(f"<details><summary>{esc(heading)}</summary>"
                   f"{render_markdown(message.reasoning, copy_links=False)}</details>")
    for section in visual_sections(message.images, message.media):
        out.append(_html_section(conv, section, uris))
    if message.text:
        if message.role == "assistant":
            out.append(f'<div class="answer">{render_markdown(message.text, copy_links=False)}'
                       "</div>")
        else:
            out.append(f'<div class="plain">{esc(message.text)}</div>')
    for figure in answer_figures(conv, message):
        uri = "data:image/png;base64," + base64.b64encode(figure.png).decode("ascii")
        out.append(f'<figure><img class="attached" alt="{esc(figure.caption)}" src="{uri}">'
                   f'<figcaption class="status">{esc(figure.caption)}</figcaption></figure>')
    note = _state_note(message)
    if note:
        kind = "note error" if message.status == "error" else "note"
        out.append(f'<p class="{kind}">⚠ {esc(note)}</p>')
    status = status_line(message)
    if status:
        out.append(f'<p class="status">{esc(status)}</p>')
    out.append("</section>")
    return "\n".join(out)
