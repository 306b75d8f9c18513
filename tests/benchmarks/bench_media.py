"""Benchmark: PDF pages and video frames made ready to send.

PDF: a page drawn by PDFium straight at the size the model reads it (what the app does)
against drawing it at 300 DPI and resampling to that size with Pillow (what "render, then
resize" costs), per page, both ending in the same encoded page. Video: sampling 32
frames of a 20 s 1280×720 clip (seek, decode, swscale to the model's frame size, JPEG)
against decoding every frame of it.

Run: `.venv/bin/python tests/benchmarks/bench_media.py`. Prints medians; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import pypdfium2 as pdfium

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.documents import page_size, prepare_document
from qwenvl_desktop.core.media import prepare_pixels
from qwenvl_desktop.core.video import prepare_video
from qwenvl_desktop.testing.media_samples import pdf_bytes, write_video

RUNS = 5


def timed(work: Callable[[], object]) -> float:
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> dict[str, float]:
    provider = load_builtin().get("dashscope-intl")
    model = provider.model("qwen3-vl-plus")
    data = pdf_bytes(4)
    size = page_size((612.0, 792.0), model)

    def direct() -> object:
        return prepare_document(data, name="r.pdf", pages=[2], model=model, provider=provider)

    def high_dpi_then_resize() -> object:
        pdf = pdfium.PdfDocument(data)
        image = pdf[1].render(scale=300 / 72).to_pil().convert("RGB")
        pdf.close()
        return prepare_pixels(image, name="r.pdf", size=size, model=model, provider=provider,
                              photo=False, max_bytes=None, original_size=(612, 792),
                              original_bytes=len(data))

    results = {"pdf page, drawn at the model's size (ms)": timed(direct),
               "pdf page, 300 DPI then resized (ms)": timed(high_dpi_then_resize)}
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_video(Path(tmp) / "clip.mp4", seconds=20.0, fps=30, size=(1280, 720))

        def sample() -> object:
            return prepare_video(clip, name="clip.mp4", fps=2.0, max_frames=32, model=model,
                                 provider=provider)

        def decode_all() -> object:
            with av.open(str(clip)) as container:
                return sum(1 for _ in container.decode(video=0))

        results["video, 32 frames sampled and prepared (ms)"] = timed(sample)
        results["video, every frame decoded, nothing else (ms)"] = timed(decode_all)
    return results


def _print(results: dict[str, float]) -> None:
    for name, value in results.items():
        print(f"{name:<50} {value:8.1f}")


if __name__ == "__main__":
    _print(main())
    sys.exit(0)
