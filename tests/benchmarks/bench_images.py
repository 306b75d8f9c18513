"""Benchmark: preparing images for sending vs Pillow's bare decode of the same file.

The bar: a 3840×2160 PNG screenshot and a 4032×3024 JPEG photo are
decoded, oriented, resized to the model's pixel cap and encoded in at most twice the
time Pillow takes just to decode them, and the payload never exceeds what the model
uses or the provider accepts.

Run: `.venv/bin/python tests/benchmarks/bench_images.py`. `main()` returns the figures
for a run-all script.
"""

from __future__ import annotations

import base64
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.images import image_byte_budget, prepare_image
from qwenvl_desktop.core.tokens import target_size

RUNS = 7
CASES = (("dashscope-intl", "qwen3-vl-plus"), ("ovh", "Qwen2.5-VL-72B-Instruct"))


def make_screenshot(path: Path, width: int = 3840, height: int = 2160) -> None:
    """A UI-like screen: title bar, sidebar, lines of anti-aliased text, buttons."""
    rnd = random.Random(7)
    im = Image.new("RGB", (width, height), (243, 243, 243))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, width, 64), fill=(32, 33, 36))
    draw.rectangle((0, 64, 360, height), fill=(225, 228, 232))
    for y in range(90, height - 40, 48):
        draw.text((24, y), "Item " + str(y // 48), fill=(40, 40, 40), font_size=22)
    letters = "abcdefghijklmnopqrstuvwxyz      ABCDEFG0123456789.,"
    for y in range(100, height - 40, 34):
        x = 400
        while x < width - 300:
            words = "".join(rnd.choice(letters) for _ in range(rnd.randint(8, 40)))
            draw.text((x, y), words, fill=(20, 20, 20), font_size=18)
            x += 40 + len(words) * 11
    for _ in range(60):
        x, y = rnd.randint(400, width - 320), rnd.randint(100, height - 200)
        draw.rounded_rectangle((x, y, x + rnd.randint(80, 300), y + rnd.randint(28, 60)),
                               radius=6, outline=(120, 120, 120),
                               fill=rnd.choice([(0, 120, 212), (255, 255, 255), (200, 50, 50)]))
    im.save(path, "PNG")           # Pillow's default level, as a screenshot tool would


def make_photo(path: Path, width: int = 4032, height: int = 3024) -> None:
    """A phone-like photo: smooth light, blurred shapes, sensor noise, EXIF orientation 6."""
    rnd = random.Random(11)
    small = Image.new("RGB", (width // 8, height // 8))
    draw = ImageDraw.Draw(small)
    for y in range(small.height):        # sky-to-ground gradient
        t = y / small.height
        draw.line((0, y, small.width, y),
                  fill=(int(90 + 120 * t), int(140 + 60 * t), int(220 - 150 * t)))
    for _ in range(40):
        x, y, r = rnd.randrange(small.width), rnd.randrange(small.height), rnd.randint(8, 90)
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    im = small.filter(ImageFilter.GaussianBlur(3)).resize((width, height),
                                                           Image.Resampling.BICUBIC)
    noise = Image.effect_noise((width, height), 18).convert("RGB")
    im = Image.blend(im, noise, 0.12)
    detail = Image.effect_noise((width // 2, height // 2), 40).convert("RGB")
    im = Image.blend(im, detail.resize((width, height)), 0.08)
    exif = Image.Exif()
    exif[0x0112] = 6                     # "rotate 90° clockwise to view"
    im.save(path, "JPEG", quality=92, exif=exif)


def _interleaved(funcs: dict[str, Callable[[], Any]],
                 runs: int = RUNS) -> dict[str, tuple[float, float]]:
    """Median wall and CPU milliseconds of each function, run in turns so that a busy
    machine slows the bare decode and the preparation alike. CPU time counts every
    thread, so it shows the work done whatever the machine's load."""
    for func in funcs.values():
        func()                           # warm caches and the thread pool
    wall: dict[str, list[float]] = {key: [] for key in funcs}
    cpu: dict[str, list[float]] = {key: [] for key in funcs}
    for _ in range(runs):
        for key, func in funcs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            func()
            wall[key].append(time.perf_counter() - start)
            cpu[key].append(time.process_time() - start_cpu)
    return {key: (statistics.median(wall[key]) * 1000, statistics.median(cpu[key]) * 1000)
            for key in funcs}


def _decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        im.load()


def main() -> dict[str, Any]:
    catalog = load_builtin()
    results: dict[str, Any] = {"runs": RUNS, "rows": []}
    cases = {pid: catalog.get(pid) for pid, _ in CASES}
    models = {pid: cases[pid].model(mid) for pid, mid in CASES}
    with tempfile.TemporaryDirectory() as tmp:
        files = {"screenshot-3840x2160.png": make_screenshot,
                 "photo-4032x3024.jpg": make_photo}
        for file_name, make in files.items():
            path = Path(tmp) / file_name
            make(path)
            data = path.read_bytes()
            funcs: dict[str, Callable[[], Any]] = {"decode": partial(_decode, data)}
            for pid in cases:
                funcs[pid] = partial(prepare_image, data, name=file_name, model=models[pid],
                                     provider=cases[pid])
            timings = _interleaved(funcs)
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                if im.getexif().get(0x0112, 1) >= 5:
                    w, h = h, w
            for pid, mid in CASES:
                prepared = funcs[pid]()
                (decode_ms, decode_cpu), (prepare_ms, prepare_cpu) = (timings["decode"],
                                                                      timings[pid])
                results["rows"].append({
                    "file": file_name, "provider": pid, "model": mid,
                    "decode_ms": round(decode_ms, 1), "prepare_ms": round(prepare_ms, 1),
                    "ratio": round(prepare_ms / decode_ms, 2),
                    "decode_cpu_ms": round(decode_cpu, 1), "prepare_cpu_ms": round(prepare_cpu, 1),
                    "cpu_ratio": round(prepare_cpu / decode_cpu, 2),
                    "payload": len(prepared.data), "file_bytes": len(data),
                    "patch": models[pid].patch_factor,
                    "payload_b64": len(base64.b64encode(prepared.data)),
                    "naive_b64": len(base64.b64encode(data)),
                    "budget": image_byte_budget(cases[pid], 1),
                    "output": f"{prepared.width}x{prepared.height} {prepared.mime}",
                    "model_target": "x".join(map(str, target_size(w, h, models[pid]))),
                    "tokens": prepared.tokens,
                    "notes": list(prepared.notes),
                })
    results["worst_ratio"] = max(row["ratio"] for row in results["rows"])
    results["worst_cpu_ratio"] = max(row["cpu_ratio"] for row in results["rows"])
    results["load_average"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results["cpus"] = os.cpu_count()
    return results


def _print(results: dict[str, Any]) -> None:
    head = (f"{'file':<26}{'provider':<16}{'decode ms':>10}{'prepare ms':>11}{'ratio':>7}"
            f"{'cpu ratio':>10}"
            f"{'payload b64':>13}{'naive b64':>12}  {'output':<22}{'model target':<14}tokens")
    print(head)
    print("-" * len(head))
    for row in results["rows"]:
        print(f"{row['file']:<26}{row['provider']:<16}{row['decode_ms']:>10}"
              f"{row['prepare_ms']:>11}{row['ratio']:>7}{row['cpu_ratio']:>10}"
              f"{row['payload_b64']:>13,}"
              f"{row['naive_b64']:>12,}  {row['output']:<22}{row['model_target']:<14}"
              f"{row['tokens']}")
        if row["notes"]:
            print(f"{'':<26}notes: {'; '.join(row['notes'])}")
    print(f"\nmedian of {results['runs']} runs each, interleaved; worst prepare/decode ratio "
          f"{results['worst_ratio']} wall, {results['worst_cpu_ratio']} CPU (bar: ≤ 2.0); "
          f"{results['cpus']} CPUs, load average {results['load_average']}")


if __name__ == "__main__":
    _print(main())
    sys.exit(0)
