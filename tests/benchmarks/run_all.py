"""Run every benchmark and print one table; optionally write it as JSON and into the README.

    .venv/bin/python tests/benchmarks/run_all.py                  # print the table
    .venv/bin/python tests/benchmarks/run_all.py --readme --json perf.json
                                                   # ... and rewrite the README's table
    .venv/bin/python tests/benchmarks/run_all.py --quick          # fewer runs, a smoke check
    .venv/bin/python tests/benchmarks/run_all.py --from-json perf.json --readme
                                                   # the README from a saved run

Each benchmark measures ours and its baseline side by side in the same run and prints
its own details first; the summary table lists every figure with its bar. `--json FILE`
writes every row in numbers (benchmark, figure, unit, ours, baseline, ratio, bar, what
the bar applies to, met) with the machine, its load average before and after, and the
commit, so a program can check the table. `--readme` replaces what lies between the
markers in README.md's performance section with this run's table and notes. A
benchmark that fails is reported in the table (as a missed bar) and the others still
run. Nothing here asserts a time; the exit status is 0 unless a benchmark could not run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import bench_conversation
import bench_image_chat
import bench_images
import bench_startup
import bench_streaming
from _common import Row, describe_machine, failed_row, text_table
from _report import README, ROOT, from_json, json_text, readme_section, rewrite_readme


def image_rows(results: dict[str, Any]) -> list[Row]:
    """bench_images' figures as summary rows (its `main` is shared with another script)."""
    rows = []
    for r in results["rows"]:
        name = f"{r['file']} for {r['provider']}"
        rows.append(Row("images", f"prepare {name} (ms)", r["prepare_ms"], r["decode_ms"],
                        "decode", bar=2.0, unit="ms"))
        rows.append(Row("images", f"prepare {name}, CPU (ms, all threads)",
                        r["prepare_cpu_ms"], r["decode_cpu_ms"], "decode", unit="ms"))
        out_w, out_h = (int(v) for v in r["output"].split()[0].split("x"))
        model_w, model_h = (int(v) for v in r["model_target"].split("x"))
        # An image only rounded to the model's patch grid is sent unresampled (the
        # server's rounding costs nothing): less than one patch over, per side.
        rows.append(Row("images", f"sent {name}: pixels over the model's size, per side "
                        f"(model: {r['model_target']})", max(out_w - model_w, out_h - model_h),
                        bar=r["patch"], bar_on="ours", bar_op="<", unit="px", digits=0,
                        bar_note="one patch"))
        budget = r["budget"]
        rows.append(Row("images", f"sent {name}: encoded bytes (KB)", r["payload"] / 1000,
                        r["file_bytes"] / 1000, "file",
                        bar=None if budget is None else budget / 1000, bar_on="ours",
                        unit="KB", digits=0,
                        bar_note="the provider's limit" if budget is not None else ""))
    return rows


BENCHMARKS: list[tuple[str, Callable[[bool], dict[str, Any]], Callable[[dict[str, Any]], None]]]
BENCHMARKS = [
    ("images", lambda _quick: bench_images.main(), bench_images._print),
    ("startup", lambda quick: bench_startup.main(3 if quick else bench_startup.RUNS),
     bench_startup._print),
    ("conversation", lambda quick: bench_conversation.main(*((1, 1) if quick else (
        bench_conversation.RUNS, bench_conversation.bench_scrolling.RUNS))),
     bench_conversation._print),
    ("streaming", lambda quick: bench_streaming.main(*((1, 1) if quick else (
        bench_streaming.RUNS_FAST, bench_streaming.RUNS_PACED))), bench_streaming._print),
    ("image_chat", lambda quick: bench_image_chat.main(1 if quick else bench_image_chat.RUNS),
     bench_image_chat._print),
]


# --- where and when ------------------------------------------------------------------------

def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes" if dirty.strip() else "")


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def run(names: Sequence[str] | None, quick: bool) -> dict[str, Any]:
    """Run the benchmarks; everything `--json` writes."""
    started = datetime.datetime.now(datetime.UTC)
    load_before = _load()
    clock = time.perf_counter()
    rows: list[Row] = []
    failed: list[str] = []
    for name, bench, show in BENCHMARKS:
        if names and name not in names:
            continue
        print(f"\n######## {name} ########", flush=True)
        began = time.perf_counter()
        try:
            results = bench(quick)
        except Exception:
            failed.append(name)
            traceback.print_exc()
            rows.append(failed_row(name))
            continue
        show(results)
        rows.extend(image_rows(results) if name == "images" else results["rows"])
        print(f"({name}: {time.perf_counter() - began:.0f} s)", flush=True)
    with_bars = [r for r in rows if r.met is not None]
    return {
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - clock, 1),
        "machine": describe_machine(), "cpus": os.cpu_count(),
        "load_average_before": load_before, "load_average_after": _load(),
        "commit": _commit(), "quick": quick, "failed": failed,
        "bars": len(with_bars), "bars_met": sum(r.met is True for r in with_bars),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke check)")
    parser.add_argument("--only", nargs="*", metavar="NAME",
                        help="run only these: " + ", ".join(n for n, _, _ in BENCHMARKS))
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every row as JSON")
    parser.add_argument("--readme", nargs="?", type=Path, const=README, metavar="FILE",
                        help=f"rewrite the table between the markers (default {README})")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="run nothing: show (and with --readme, write) a run saved by --json")
    args = parser.parse_args(argv)
    if args.from_json:
        data = from_json(args.from_json.read_text(encoding="utf-8"))
    else:
        data = run(args.only, args.quick)
    rows: list[Row] = data["rows"]

    print("\n" + "=" * 30 + " summary " + "=" * 30)
    print(f"{data['machine']}; load average {data['load_average_before']} before, "
          f"{data['load_average_after']} after")
    print(text_table(rows))
    print(f"\n{data['bars_met']} of {data['bars']} bars met ({data['duration_s']:.0f} s in all)")
    if args.json and not args.from_json:
        args.json.write_text(json_text(data), encoding="utf-8")
        print(f"rows written to {args.json}")
    if args.readme:
        rewrite_readme(args.readme, readme_section(data))
        print(f"table written into {args.readme}")
    else:
        print("\nMarkdown for the README's performance section (or pass --readme):\n")
        print(readme_section(data))
    return 1 if data["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
