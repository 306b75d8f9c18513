"""Small PDFs and videos made on the spot, for the tests and the self-test.

Nothing is downloaded: pages are drawn with Pillow and saved as PDF, clips are encoded
with PyAV. Every page shows its number and every frame its index, in flat colours that
survive lossy encoding, so a test can tell which page or frame it got back.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

__all__ = [
    "encrypted_pdf_bytes",
    "frame_colour",
    "pdf_bytes",
    "write_audio_only",
    "write_undecodable_video",
    "write_video",
    "write_zero_length_video",
]


def pdf_bytes(pages: int = 3, size: tuple[int, int] = (612, 792)) -> bytes:
    """A PDF of `pages` pages of `size` points, each with its number in large type.

    An empty PDF (`pages=0`) is written by PDFium: Pillow refuses to save one.
    """
    if pages == 0:
        import pypdfium2 as pdfium

        out = io.BytesIO()
        pdfium.PdfDocument.new().save(out)
        return out.getvalue()
    images = []
    for number in range(1, pages + 1):
        page = Image.new("RGB", size, "white")
        draw = ImageDraw.Draw(page)
        draw.rectangle((36, 36, size[0] - 36, 120), fill=(20, 40, 160))
        draw.text((48, 60), f"Page {number}", fill="white", font_size=40)
        for line in range(8):
            y = 160 + line * 40
            draw.text((48, y), f"Line {line + 1} of page {number}: text to read.",
                      fill="black", font_size=18)
        images.append(page)
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=72.0, save_all=True, append_images=images[1:])
    return out.getvalue()


def _pdf_from_objects(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF whose numbered objects are `objects` (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra
            + b">>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)


def encrypted_pdf_bytes() -> bytes:
    """A one-page PDF protected by a user password (standard security handler, RC4)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        # /U does not match the empty password, so a password is needed to open it.
        b"<< /Filter /Standard /V 1 /R 2 /P -44 /O <" + b"11" * 32 + b"> /U <"
        + b"22" * 32 + b"> >>",
    ]
    return _pdf_from_objects(objects, b"/Encrypt 4 0 R /ID [<" + b"33" * 16 + b"> <"
                             + b"33" * 16 + b">] ")


def frame_colour(index: int) -> tuple[int, int, int]:
    """The flat colour of frame `index` in `write_video` clips (red counts the frames)."""
    red = 10 + (index * 8) % 240
    return (red, 128, 255 - red)


def write_video(path: Path, *, seconds: float = 3.0, fps: int = 10,
                size: tuple[int, int] = (320, 240), codec: str = "mpeg4",
                audio: bool = False) -> Path:
    """A clip whose frame i is filled with `frame_colour(i)` and shows i in its corner."""
    import av

    frames = max(0, round(seconds * fps))
    with av.open(str(path), mode="w") as container:
        stream: Any = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 4_000_000               # generous: flat colours survive
        sound = container.add_stream("aac", rate=16_000) if audio else None
        for index in range(frames):
            image = Image.new("RGB", size, frame_colour(index))
            ImageDraw.Draw(image).text((8, 8), str(index), fill="white", font_size=24)
            frame = _video_frame(image)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            _silence(container, sound, seconds)
    return path


def _video_frame(image: Image.Image) -> Any:
    import av

    make: Any = av.VideoFrame.from_image
    return make(image)


def _silence(container: object, stream: object, seconds: float) -> None:
    import av

    rate = 16_000
    samples = int(seconds * rate)
    chunk = 1024
    for start in range(0, samples, chunk):
        frame = av.AudioFrame(format="fltp", layout="mono", samples=chunk)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = rate
        frame.pts = start
        for packet in stream.encode(frame):  # type: ignore[attr-defined]
            container.mux(packet)  # type: ignore[attr-defined]
    for packet in stream.encode(None):  # type: ignore[attr-defined]
        container.mux(packet)  # type: ignore[attr-defined]


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """A file with a sound track and no pictures."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=16_000)
        _silence(container, stream, seconds)
    return path


def write_zero_length_video(path: Path) -> Path:
    """An MP4 file with its header written and not one frame in it."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = 320, 240
        stream.pix_fmt = "yuv420p"
        container.start_encoding()
    return path


def write_undecodable_video(path: Path) -> Path:
    """An MP4 file whose container is sound but whose H.264 data is noise: every
    byte of the media data is overwritten, the index (moov) is left as it was."""
    write_video(path, codec="libx264")
    data = bytearray(path.read_bytes())
    start = data.index(b"mdat") + 4
    end = data.index(b"moov") - 4 if data.index(b"moov") > start else len(data)
    for offset in range(start, end):
        data[offset] = (offset * 131 + 7) % 251
    path.write_bytes(bytes(data))
    return path
