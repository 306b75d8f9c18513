"""Build the app with PyInstaller and report what it costs.

    python packaging/build.py [--onefile] [--clean] [--bundle-check] [--no-slim]

Runs PyInstaller on packaging/qwenvl-desktop.spec from the repository root and
prints the build time, the size of the result on disk and the size of a
.tar.gz of it (the figure the 70 MB budget is about). Output lands in
dist/qwenvl-desktop/ (one folder; on macOS also dist/Qwen-VL Desktop.app) or
dist/qwenvl-desktop[.exe] (one file). Exits non-zero if PyInstaller fails or
the result is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "qwenvl-desktop.spec"
DIST = ROOT / "dist"
APP = "qwenvl-desktop"
MB = 1024 * 1024


def disk_size(path: Path) -> int:
    """Bytes of regular files under path (symlinks counted once, as links)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def tar_gz_size(path: Path) -> int:
    """Size of path packed as .tar.gz at gzip's default level, the way it would be shipped."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / f"{path.name}.tar.gz"
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            tar.add(path, arcname=path.name)
        return archive.stat().st_size


def result_path(onefile: bool) -> Path:
    if onefile:
        return DIST / (f"{APP}.exe" if sys.platform == "win32" else APP)
    return DIST / APP


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onefile", action="store_true", help="build one executable file")
    parser.add_argument(
        "--clean", action="store_true", help="remove PyInstaller's cache and build/ before building"
    )
    parser.add_argument(
        "--bundle-check",
        action="store_true",
        help=f"also freeze packaging/bundle_check.py as {APP}-bundle-check",
    )
    parser.add_argument(
        "--no-slim",
        action="store_true",
        help="skip the spec's excludes (to measure what they save)",
    )
    args = parser.parse_args(argv)

    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--distpath",
        str(DIST),
        "--workpath",
        str(ROOT / "build"),
    ]
    if args.clean:
        command.append("--clean")
    command += [str(SPEC), "--"]
    command += [
        flag
        for flag, on in (
            ("--onefile", args.onefile),
            ("--bundle-check", args.bundle_check),
            ("--no-slim", args.no_slim),
        )
        if on
    ]

    # On Linux and macOS both variants are called dist/qwenvl-desktop: a folder from
    # the last one-folder build would block a one-file build, and the other way round.
    result = result_path(args.onefile)
    if args.onefile and result.is_dir():
        shutil.rmtree(result)
    elif not args.onefile and result.is_file():
        result.unlink()

    print("+", " ".join(command), flush=True)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"})
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        print(
            f"build failed: PyInstaller exited {completed.returncode} after {elapsed:.1f} s",
            file=sys.stderr,
        )
        return completed.returncode

    if not result.exists():
        print(f"build failed: {result} was not created", file=sys.stderr)
        return 1
    size = disk_size(result)
    packed = tar_gz_size(result)
    print(f"built      {result.relative_to(ROOT)}")
    print(f"build time {elapsed:.1f} s")
    print(f"on disk    {size / MB:.1f} MB ({size} bytes)")
    print(f"tar.gz     {packed / MB:.1f} MB ({packed} bytes)")
    mac_app = DIST / "Qwen-VL Desktop.app"
    if sys.platform == "darwin" and mac_app.exists():
        print(f"app bundle {mac_app.relative_to(ROOT)} ({disk_size(mac_app) / MB:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
