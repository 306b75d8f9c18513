"""Benchmark: peak memory preparing a 108-megapixel phone photo (12000×9000 JPEG).

The photo is made once (a noisy gradient, so the JPEG is as costly to decode as a real
one, ~25-40 MB), then each case runs in a fresh interpreter that reports its peak
resident memory (VmHWM) before and after: preparing it for qwen3-vl-plus at the default
and the high-resolution cap, and, for comparison, Pillow decoding it whole.

Run: `.venv/bin/python tests/benchmarks/bench_big_photo.py`. Prints figures; asserts none.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import HERE, PYTHON

REPO = HERE.parent.parent
WIDTH, HEIGHT = 12000, 9000

_CHILD = r"""
import io, json, sys, time
sys.path.insert(0, sys.argv[3])
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from PIL import Image
from qwenvl_desktop.core.catalog import load_builtin
from qwenvl_desktop.core.images import prepare_image
data = open(sys.argv[1], "rb").read()
provider = load_builtin().get("dashscope-intl")
model = provider.model("qwen3-vl-plus")
before = hwm()
start = time.perf_counter()
case = sys.argv[2]
if case == "pillow-full-decode":
    Image.MAX_IMAGE_PIXELS = None
    im = Image.open(io.BytesIO(data)); im.load(); size = im.size
else:
    out = prepare_image(data, name="photo.jpg", model=model, provider=provider,
                        high_resolution=case == "prepare-high-res")
    size = (out.width, out.height)
print(json.dumps({"case": case, "before_mb": before, "peak_mb": hwm(),
                  "seconds": time.perf_counter() - start, "size": size}))
"""


def make_photo(path: Path) -> None:
    from PIL import Image

    noise = Image.effect_noise((WIDTH, HEIGHT), 40)
    gradient = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    Image.merge("RGB", (noise, gradient, noise)).save(path, "JPEG", quality=90)


def main() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.jpg"
        began = time.perf_counter()
        subprocess.run([PYTHON, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); "
                        f"import bench_big_photo as b; from pathlib import Path; "
                        f"b.make_photo(Path({str(photo)!r}))"], check=True)
        print(f"made {WIDTH}×{HEIGHT} JPEG, {photo.stat().st_size / 1e6:.1f} MB, "
              f"in {time.perf_counter() - began:.1f} s")
        results = []
        for case in ("prepare-default", "prepare-high-res", "pillow-full-decode"):
            out = subprocess.run([PYTHON, "-c", _CHILD, str(photo), case, str(REPO)],
                                 check=True, capture_output=True, text=True)
            row = json.loads(out.stdout)
            results.append(row)
            print(f"{case:20s} peak {row['peak_mb']:7.1f} MB (interpreter before: "
                  f"{row['before_mb']:.1f} MB, +{row['peak_mb'] - row['before_mb']:.1f} MB) "
                  f"in {row['seconds']:.2f} s → {row['size'][0]}×{row['size'][1]}")
        return results


if __name__ == "__main__":
    main()
    sys.exit(0)
