"""The bundle's decode-only FFmpeg: PyAV with its encoder, TLS and hardware libraries
replaced by stubs still opens and decodes every common codec.

Runs the real stub builder (packaging/decode_only.py) on the installed PyAV wheel,
copies PyAV with the stubs into a temporary folder and decodes, in a fresh interpreter
that imports that copy, clips made by the unmodified PyAV.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

from qwenvl_desktop.testing.media_samples import write_video

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
sys.path.insert(0, str(PACKAGING))
import decode_only  # noqa: E402

CODECS = [("libx264", "h264.mov"), ("libx265", "hevc.mp4"), ("libvpx-vp9", "vp9.webm"),
          ("libvpx", "vp8.webm"), ("libsvtav1", "av1.mkv"), ("mpeg4", "mpeg4.avi")]


@pytest.fixture(scope="module")
def stubbed_pyav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = Path(av.__file__).resolve().parent.parent
    root = tmp_path_factory.mktemp("pyav")
    shutil.copytree(site / "av", root / "av")
    shutil.copytree(site / "av.libs", root / "av.libs")
    toc = [(p.name, str(p), "BINARY") for p in (site / "av.libs").iterdir()]
    # As PyInstaller lists them: extension modules are EXTENSION entries.
    toc += [(str(p.relative_to(site)), str(p), "EXTENSION") for p in (site / "av").rglob("*.so")]
    swapped = decode_only.stubbed_binaries(toc, root / "stubs")
    kept = {dest for dest, _, _ in swapped}
    left_out = {Path(dest).name.rsplit("-", 1)[0] for dest, _, _ in toc if dest not in kept}
    # What only the stubbed libraries needed: GnuTLS's crypto and text libraries, WebP's
    # SharpYUV, the capture devices' ALSA and xcb, and (PyAV 19 wheels) the filter
    # library's VMAF quality metric.
    only_for_stubbed = {"libnettle", "libhogweed", "libgmp", "libunistring", "libsharpyuv",
                        "libasound", "libxcb", "libxcb-shape", "libxcb-shm", "libxcb-xfixes",
                        "libXau"}
    if any(p.name.startswith("libvmaf") for p in (site / "av.libs").iterdir()):
        only_for_stubbed.add("libvmaf")
    assert left_out == only_for_stubbed
    for dest in {dest for dest, _, _ in toc} - kept:
        (root / "av.libs" / dest).unlink()
    old = {dest: src for dest, src, _ in toc}
    replaced = [(dest, src) for dest, src, _ in swapped if src != old[dest]]
    assert {Path(d).name.split("-")[0] for d, _ in replaced} >= {
        "libx264", "libx265", "libSvtAv1Enc", "libgnutls", "libvpx", "libavfilter",
        "libavdevice"}
    for dest, src in replaced:
        shutil.copyfile(src, root / "av.libs" / dest)
        # Stubs are small: the symbols libavcodec uses, not the encoders.
        assert Path(src).stat().st_size < 64_000
    return root


def test_stubbed_ffmpeg_decodes_every_common_codec(stubbed_pyav: Path, tmp_path: Path) -> None:
    clips = [str(write_video(tmp_path / name, seconds=1.0, fps=8, size=(128, 96), codec=codec))
             for codec, name in CODECS]
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import av\n"
        "from qwenvl_desktop.core.video import inspect_video, decode_frames\n"
        "out = {'av': av.__file__, 'loaded': [], 'clips': {},\n"
        "       'meta': {k: [list(m['version']), m['license']]\n"
        "                for k, m in av._core.library_meta.items()\n"
        "                if k in ('libavfilter', 'libavdevice')}}\n"
        "for clip in sys.argv[1:]:\n"
        "    info = inspect_video(Path(clip))\n"
        "    frames = decode_frames(Path(clip), [0.1, 0.6], (64, 48))\n"
        "    out['clips'][Path(clip).name] = [info.codec, len(frames)]\n"
        "out['loaded'] = sorted({l.split()[-1].rsplit('/', 1)[1] for l in open('/proc/self/maps')"
        " if 'av.libs' in l})\n"
        "print(json.dumps(out))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(stubbed_pyav), str(PACKAGING.parent), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code, *clips], capture_output=True,
                            text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["av"].startswith(str(stubbed_pyav))
    assert report["clips"] == {"h264.mov": ["h264", 2], "hevc.mp4": ["hevc", 2],
                               "vp9.webm": ["vp9", 2], "vp8.webm": ["vp8", 2],
                               "av1.mkv": ["libdav1d", 2], "mpeg4.avi": ["mpeg4", 2]}
    # What only the stubbed libraries needed is no longer loaded at all.
    assert not [name for name in report["loaded"] if name.startswith(
        ("libnettle", "libgmp", "libhogweed", "libunistring", "libsharpyuv", "libasound",
         "libxcb", "libXau"))]
    # The filter and device stubs answer PyAV's import-time questions as the real ones do.
    real = {k: [list(m["version"]), m["license"]] for k, m in av._core.library_meta.items()
            if k in ("libavfilter", "libavdevice")}
    assert report["meta"] == real
    assert real["libavfilter"][1] == "LGPL version 3 or later"
