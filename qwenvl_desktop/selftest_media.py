"""Self-test checks for documents and video: PDFium and FFmpeg as the app ships them.

A bundle that left out a PDFium library or an FFmpeg codec would still start; these
checks render the one-page PDF and decode the short H.264 clip the app carries
(`assets/selftest/`) with the same code that prepares attachments for a model.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["check_pdf", "check_video"]

_SAMPLES = "assets/selftest"
_PROVIDER, _MODEL = "dashscope-intl", "qwen3-vl-plus"


def _sample(name: str) -> Path:
    path = Path(str(resources.files("qwenvl_desktop").joinpath(f"{_SAMPLES}/{name}")))
    if not path.is_file():
        raise FileNotFoundError(f"the sample {name} is missing from the app")
    return path


def _target() -> tuple[object, object]:
    from .core.catalog import load_builtin

    provider = load_builtin().get(_PROVIDER)
    return provider, provider.model(_MODEL)


def check_pdf() -> str:
    """Render page 1 of the sample at the size Qwen3-VL Plus reads it."""
    import pypdfium2 as pdfium

    from .core.catalog import Model, Provider
    from .core.documents import inspect_document, page_size, prepare_document
    from .selftest import require

    provider, model = _target()
    assert isinstance(provider, Provider)
    assert isinstance(model, Model)
    data = _sample("one-page.pdf").read_bytes()
    info = inspect_document(data, "one-page.pdf")
    require(info.page_count == 1, f"the sample has {info.page_count} pages, not 1")
    prepared = prepare_document(data, name="one-page.pdf", pages=[1], model=model,
                                provider=provider)
    frame = prepared.frames[0]
    expected = page_size(info.page_sizes[0], model)
    require((frame.width, frame.height) == expected,
            f"page 1 came out {frame.width}×{frame.height}, not {expected[0]}×{expected[1]}")
    return (f"page 1 rendered at {frame.width}×{frame.height} ({frame.mime}, "
            f"{prepared.tokens:,} tokens; pypdfium2 {pdfium.version.PYPDFIUM_INFO})")


def check_video() -> str:
    """Decode the sample clip's frames and size them for Qwen3-VL Plus."""
    import av

    from .core.catalog import Model, Provider
    from .core.tokens import video_frame_size
    from .core.video import inspect_video, prepare_video
    from .selftest import require

    provider, model = _target()
    assert isinstance(provider, Provider)
    assert isinstance(model, Model)
    path = _sample("clip.mp4")
    info = inspect_video(path)
    prepared = prepare_video(path, name="clip.mp4", fps=4.0, max_frames=8, model=model,
                             provider=provider)
    size = video_frame_size(info.width, info.height, len(prepared.frames), model)
    require(len(prepared.frames) == 4, f"{len(prepared.frames)} frames taken, not 4")
    require(all((f.width, f.height) == size for f in prepared.frames),
            "frames were not sized for the model")
    return (f"{info.codec} clip of {info.duration:.1f} s: {len(prepared.frames)} frames "
            f"at {size[0]}×{size[1]}, {prepared.tokens:,} tokens (PyAV {av.__version__}, "
            f"FFmpeg {av.ffmpeg_version_info})")
