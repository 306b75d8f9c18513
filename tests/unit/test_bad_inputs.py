"""The product's set of bad inputs, case by case, with a tally printed for CI.

Every input a person can hand the app that is broken, hostile or merely odd — images,
folders, other files, conversation files, the settings file — goes through the same
entry point the app uses for it. Each case must end in one of two ways:

* refused with a typed error whose explained text (`errors.explain`, what the window
  and the terminal show) names the file and gives the reason; or
* converted: odd but valid images (CMYK, 16-bit, palette, animated, mislabelled) become
  an ordinary image of the size the model uses.

Conversation files are also checked for "nothing is lost": the library goes on listing
the good conversation beside the bad file and leaves the bad file's bytes untouched.
At the end of the module one line is printed past pytest's capture:
`bad-input set: N cases tried, N handled`.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from qwenvl_desktop.core import documents
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.conversation import Conversation, Message
from qwenvl_desktop.core.documents import MAX_DOCUMENT_BYTES, MAX_PAGES
from qwenvl_desktop.core.errors import (
    ConversationFileError,
    DocumentError,
    ImageError,
    VideoError,
    explain,
)
from qwenvl_desktop.core.images import (
    MAX_FILE_BYTES,
    PreparedImage,
    prepare_image,
    read_image_file,
)
from qwenvl_desktop.core.library import ConversationLibrary
from qwenvl_desktop.core.settings import Settings
from qwenvl_desktop.core.storage import FORMAT_VERSION, dumps, load_conversation
from qwenvl_desktop.core.tokens import image_tokens, target_size
from qwenvl_desktop.core.video import inspect_video, prepare_video
from qwenvl_desktop.testing.media_samples import (
    encrypted_pdf_bytes,
    pdf_bytes,
    write_audio_only,
    write_undecodable_video,
    write_video,
    write_zero_length_video,
)

DASHSCOPE = load_builtin().get("dashscope-intl")
MODEL = DASHSCOPE.model("qwen3-vl-plus")

# [cases tried, cases handled]
TALLY = [0, 0]


@pytest.fixture(scope="module", autouse=True)
def print_tally(report_line: Callable[[str], None]) -> Iterator[None]:
    yield
    report_line(f"bad-input set: {TALLY[0]} cases tried, {TALLY[1]} handled")


# --- making the inputs ------------------------------------------------------------------

def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def picture(width: int = 640, height: int = 480, mode: str = "RGB") -> Image.Image:
    im = Image.new("RGB", (width, height), (230, 235, 240))
    draw = ImageDraw.Draw(im)
    draw.rectangle((width // 8, height // 8, width // 2, height // 2), fill=(200, 40, 40))
    draw.ellipse((width // 3, height // 3, width - 1 - width // 8, height - 1 - height // 8),
                 fill=(30, 90, 200))
    return im.convert(mode) if mode != "RGB" else im


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims an enormous picture."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


# Converted inputs are big enough that the model's size is a downscale: smaller images
# are sent at their own size, which would not show the conversion to the model's grid.
BIG = (3000, 2000)


def animated_gif() -> bytes:
    frames = [picture(*BIG).convert("P"), picture(*BIG).rotate(90).convert("P")]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100,
                  loop=0)


def sixteen_bit_png() -> bytes:
    """A full-range 16-bit greyscale gradient (0…65535)."""
    im = Image.linear_gradient("L").resize(BIG).convert("I").point(lambda v: v * 257)
    return encode(im.convert("I;16"), "PNG")


def palette_png() -> bytes:
    im = picture(*BIG).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encode(im, "PNG", transparency=0)


def write(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path
    return make


def sparse(name: str, size: int) -> Callable[[Path], Path]:
    """A file of `size` bytes that takes no disk space (never read whole by the app)."""
    def make(folder: Path) -> Path:
        path = folder / name
        with path.open("wb") as fh:
            fh.write(encode(picture(20, 20), "PNG"))
            fh.truncate(size)
        return path
    return make


def folder(name: str) -> Callable[[Path], Path]:
    def make(parent: Path) -> Path:
        path = parent / name
        path.mkdir()
        (path / "inside.png").write_bytes(encode(picture(20, 20), "PNG"))
        return path
    return make


def video(name: str, *, truncate: bool = False) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = write_video(folder / name)
        if truncate:
            path.write_bytes(path.read_bytes()[:3000])
        return path
    return make


def media(name: str, writer: Callable[[Path], Path]) -> Callable[[Path], Path]:
    return lambda folder: writer(folder / name)


def conversation_doc(**changes: object) -> bytes:
    conv = Conversation(title="Kept")
    conv.append(Message(role="user", text="Question"))
    doc = json.loads(dumps(conv))
    doc.update(changes)
    return json.dumps(doc).encode()


# --- the cases --------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    id: str
    kind: str                         # image | document | video | conversation | settings
    make: Callable[[Path], Path]
    # A regex the explained reason must match; None: the input must be converted.
    reason: str | None = None
    mode: str = ""                    # converted: the modes the decoded payload may have
    note: str = ""                    # converted: a regex one of the notes must match
    pages: int = 0                    # documents: the page count PDFium is made to report


_PNG = encode(picture(), "PNG")
_JPEG = encode(picture(), "JPEG", quality=90)

CASES = [
    # images refused, each with its reason
    Case("zero-byte image", "image", write("empty.png", b""), r"empty \(0 bytes\)"),
    Case("truncated PNG", "image", write("cut.png", _PNG[: len(_PNG) // 2]),
         r"truncated or corrupt"),
    Case("truncated JPEG", "image", write("cut.jpg", _JPEG[: len(_JPEG) // 2]),
         r"truncated or corrupt"),
    Case("corrupt PNG (bytes overwritten)", "image",
         write("garbled.png", _PNG[:60] + bytes(range(256)) * 8 + _PNG[60 + 2048:]),
         r"truncated or corrupt"),
    Case("text file named .jpg", "image", write("notes.jpg", b"meeting notes\n" * 40),
         r"text file, not an image"),
    Case("decompression bomb (tiny PNG, 40000x40000 header)", "image",
         write("bomb.png", png_bomb(40_000, 40_000)), r"too large.*decompression bomb"),
    Case("huge file (over the size limit)", "image",
         sparse("huge.png", MAX_FILE_BYTES + 1), r"larger than|images over"),
    Case("huge picture (150 megapixels)", "image",
         write("panorama.png", png_bomb(15_000, 10_000)), r"too large"),
    Case("tiny image (5x5)", "image", write("dot.png", encode(picture(5, 5), "PNG")),
         r"too small"),
    Case("300:1 image", "image", write("strip.png", encode(picture(3300, 11), "PNG")),
         r"too long and thin"),
    Case("SVG", "image",
         write("logo.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"'
                           b' width="10" height="10"><rect width="10" height="10"/></svg>'),
         r"SVG"),
    Case("folder", "image", folder("holiday photos"), r"folder"),
    Case("PDF (non-image drop)", "image", write("report.pdf", b"%PDF-1.7\n" + b"\0" * 400),
         r"PDF documents are not supported"),
    Case("binary non-image (zip)", "image",
         write("archive.png", b"PK\x03\x04" + bytes(range(256)) * 4),
         r"not an image in a supported format"),
    # images converted, not refused
    Case("CMYK JPEG", "image",
         write("print.jpg", encode(picture(*BIG, mode="CMYK"), "JPEG")),
         mode="RGB", note="CMYK"),
    Case("16-bit greyscale PNG", "image", write("scan16.png", sixteen_bit_png()),
         mode="L RGB", note="16-bit"),
    Case("palette PNG with transparency", "image", write("icon.png", palette_png()),
         mode="P RGBA RGB LA"),
    Case("animated GIF", "image", write("anim.gif", animated_gif()), mode="P RGB L RGBA",
         note="first frame"),
    Case("JPEG named .png (mislabelled)", "image",
         write("photo.png", encode(picture(*BIG), "JPEG")), mode="RGB"),
    # conversation files
    Case("zero-byte conversation", "conversation", write("empty.qwenvl", b""), r"empty"),
    Case("truncated conversation", "conversation",
         write("cut.qwenvl", conversation_doc()[:-40]), r"incomplete"),
    Case("corrupt conversation (binary)", "conversation",
         write("binary.qwenvl", bytes(range(256)) * 8), r"not a Qwen-VL Desktop conversation"),
    Case("corrupt conversation (damaged field)", "conversation",
         write("damaged.qwenvl", conversation_doc(conversation={"messages": "lost"})),
         r"damaged"),
    Case("foreign JSON named .qwenvl", "conversation",
         write("other.qwenvl", b'{"chats": []}'), r"not a Qwen-VL Desktop conversation"),
    Case("conversation from a future version", "conversation",
         write("future.qwenvl", conversation_doc(version=FORMAT_VERSION + 98)),
         r"newer version.*update the app"),
    Case("folder named .qwenvl", "conversation", folder("folder.qwenvl"), r"folder"),
    # documents (PDF), each refused with its reason
    Case("encrypted PDF", "document", write("secret.pdf", encrypted_pdf_bytes()),
         r"password-protected"),
    Case("corrupt PDF (truncated)", "document",
         write("cut.pdf", pdf_bytes(2)[:1500]), r"damaged"),
    Case("zero-page PDF", "document", write("blank.pdf", pdf_bytes(0)), r"no pages"),
    Case("huge PDF (over the size limit)", "document",
         sparse("huge.pdf", MAX_DOCUMENT_BYTES + 1), r"documents over"),
    Case("PDF with too many pages (huge)", "document", write("tome.pdf", b""),
         r"at most 5,000 can be attached", pages=MAX_PAGES + 1),
    Case("text file named .pdf", "document", write("notes.pdf", b"meeting notes\n" * 40),
         r"not a PDF"),
    # videos, each refused with its reason
    Case("corrupt video (random bytes)", "video",
         write("noise.mp4", bytes(range(256)) * 40), r"damaged or is not a video"),
    Case("corrupt video (truncated)", "video", video("cut.mp4", truncate=True),
         r"damaged or is not a video"),
    Case("audio-only file", "video", media("voice.mp4", write_audio_only), r"sound only"),
    Case("zero-length clip", "video", media("empty.mp4", write_zero_length_video),
         r"zero length"),
    Case("undecodable stream", "video", media("noise.mp4", write_undecodable_video),
         r"h264 video stream cannot be decoded"),
    Case("zero-byte video", "video", write("nothing.webm", b""), r"damaged or is not a video"),
    # the settings file
    Case("corrupt settings file", "settings", write("settings.json", b'{"theme": "dark",'),
         r"corrupt.*[Uu]sing defaults"),
    Case("settings file that is not an object", "settings",
         write("settings.json", b'["a list"]'), r"corrupt.*[Uu]sing defaults"),
]


# --- one entry point per kind --------------------------------------------------------------

def prepare_file(path: Path) -> PreparedImage:
    """What the composer does with a file: read it, then prepare it for the model."""
    return prepare_image(read_image_file(path), name=path.name, model=MODEL,
                         provider=DASHSCOPE)


def check_refused(explained: str, path: Path, reason: str) -> None:
    assert path.name in explained, f"the message does not name the file: {explained!r}"
    assert re.search(reason, explained), f"the reason is missing: {explained!r}"
    assert "Traceback" not in explained


def check_image(case: Case, path: Path) -> None:
    if case.reason is not None:
        with pytest.raises(ImageError) as caught:
            prepare_file(path)
        check_refused(explain(caught.value), path, case.reason)
        return
    prepared = prepare_file(path)
    with Image.open(io.BytesIO(prepared.data)) as im:
        im.load()
        assert im.mode in case.mode.split(), f"{im.mode} is not a sendable mode"
        assert im.size == (prepared.width, prepared.height)
    with Image.open(path) as original:
        expected = target_size(*original.size, MODEL)
    assert (prepared.width, prepared.height) == expected
    assert prepared.tokens == image_tokens(*original.size, MODEL)
    if case.note:
        assert any(re.search(case.note, n) for n in prepared.notes), prepared.notes


def check_conversation(case: Case, path: Path, library_dir: Path) -> None:
    assert case.reason is not None
    with pytest.raises(ConversationFileError) as caught:
        load_conversation(path)
    check_refused(explain(caught.value), path, case.reason)
    # In the library beside a good conversation: listed as unreadable with the same kind
    # of reason, the good one still listed, the bad file untouched.
    library_dir.mkdir()
    library = ConversationLibrary(library_dir)
    good = Conversation(title="Still here")
    good.append(Message(role="user", text="Kept"))
    library.save(good)
    target = library_dir / path.name
    if path.is_dir():
        target.mkdir()
        before = None
    else:
        before = path.read_bytes()
        target.write_bytes(before)
    assert [s.id for s in library.list()] == [good.id]
    assert library.load(good.id).messages[0].text == "Kept"
    if before is not None:
        reported = dict(library.corrupt_files())
        assert target in reported
        assert re.search(case.reason, reported[target])
        assert target.read_bytes() == before


def check_document(case: Case, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the composer and `-i doc.pdf` do: read the file, then look inside it."""
    assert case.reason is not None
    if case.pages:
        # A real 5,001-page file is slow to make; PDFium's page count is what is checked.
        monkeypatch.setattr(documents.pdfium.PdfDocument, "__len__", lambda _self: case.pages)
        path.write_bytes(pdf_bytes(1))
    with pytest.raises(DocumentError) as caught:
        documents.inspect_document(documents.read_document_file(path), path.name)
    check_refused(explain(caught.value), path, case.reason)


def check_video(case: Case, path: Path) -> None:
    """What the composer (inspect on attach) and sending (prepare) do with a clip."""
    assert case.reason is not None
    with pytest.raises(VideoError) as caught:
        inspect_video(path)
    check_refused(explain(caught.value), path, case.reason)
    with pytest.raises(VideoError):
        prepare_video(path, name=path.name, fps=2, max_frames=8, model=MODEL,
                      provider=DASHSCOPE)


def check_settings(case: Case, path: Path) -> None:
    assert case.reason is not None
    before = path.read_bytes()
    settings, warnings = Settings.load(path)
    assert settings == Settings()                  # defaults, nothing half-read
    assert len(warnings) == 1
    check_refused(warnings[0], path, case.reason)
    # The broken file is kept for the person to look at.
    kept = [p for p in path.parent.iterdir() if p != path and p.read_bytes() == before]
    assert kept or path.read_bytes() == before


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_explained_or_converted(case: Case, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    TALLY[0] += 1
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    path = case.make(inputs)
    if case.kind == "image":
        check_image(case, path)
    elif case.kind == "conversation":
        check_conversation(case, path, tmp_path / "library")
    elif case.kind == "document":
        check_document(case, path, monkeypatch)
    elif case.kind == "video":
        check_video(case, path)
    else:
        check_settings(case, path)
    TALLY[1] += 1


def test_the_set_covers_every_kind_of_bad_input_named() -> None:
    """The product's list of bad inputs, word for word, each matched by at least one case."""
    named = ("zero-byte", "truncated", "mislabelled", "decompression bomb", "huge", "tiny",
             "300:1", "CMYK", "16-bit", "palette", "animated", "SVG", "folder", "non-image",
             "corrupt conversation", "future version", "corrupt settings",
             # documents and video (issue 13)
             "encrypted PDF", "corrupt PDF", "zero-page PDF", "huge PDF", "corrupt video",
             "audio-only", "zero-length clip", "undecodable stream")
    ids = " | ".join(c.id for c in CASES)
    missing = [word for word in named if word.lower() not in ids.lower()]
    assert not missing
