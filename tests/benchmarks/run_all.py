"""Run every benchmark and print one table (and the same table as markdown for the README).

    .venv/bin/python tests/benchmarks/run_all.py            # the figures for the README
    .venv/bin/python tests/benchmarks/run_all.py --quick    # fewer runs, a smoke check

Each benchmark measures ours and its baseline side by side in the same run and prints
its own details first; the summary table lists every figure with its bar. A benchmark
that fails is reported in the table and the others still run. Nothing here asserts a
time; the exit status is 0 unless a benchmark could not run at all.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import bench_conversation
import bench_image_chat
import bench_images
import bench_startup
import bench_streaming
from _common import Row, describe_machine, markdown_table, text_table


def image_rows(results: dict[str, Any]) -> list[Row]:
    """bench_images' figures as summary rows (it is shared with another script)."""
    rows = []
    for r in results["rows"]:
        name = f"{r['file']} for {r['provider']}"
        rows.append(Row("images", f"prepare {name} (ms)", f"{r['prepare_ms']:,.1f}",
                        f"{r['decode_ms']:,.1f} decode", f"{r['ratio']:.2f}×", "≤ 2×",
                        r["ratio"] <= 2.0))
        out_w, out_h = (int(v) for v in r["output"].split()[0].split("x"))
        model_w, model_h = (int(v) for v in r["model_target"].split("x"))
        budget = r["budget"]
        # An image only rounded to the model's patch grid is sent unresampled (the
        # server's rounding costs nothing): allow less than one patch (F ≤ 32) per side.
        fits = (out_w < model_w + 32 and out_h < model_h + 32
                and (budget is None or r["payload_b64"] * 3 // 4 <= budget))
        limit = "no byte limit" if budget is None else f"≤ {budget / 1e6:.2f} MB encoded"
        rows.append(Row("images", f"payload {name}, base64 (KB)",
                        f"{r['payload_b64'] / 1000:,.0f}", f"{r['naive_b64'] / 1000:,.0f} naive",
                        f"{r['payload_b64'] / r['naive_b64']:.2f}×",
                        f"≤ model size ({r['model_target']} + < 1 patch), {limit}", fits))
    return rows


BENCHMARKS: list[tuple[str, Callable[[bool], dict[str, Any]], Callable[[dict[str, Any]], None]]]
BENCHMARKS = [
    ("images", lambda _quick: bench_images.main(), bench_images._print),
    ("startup", lambda quick: bench_startup.main(3 if quick else bench_startup.RUNS),
     bench_startup._print),
    ("conversation", lambda quick: bench_conversation.main(1 if quick else bench_conversation.RUNS),
     bench_conversation._print),
    ("streaming", lambda quick: bench_streaming.main(*((1, 1) if quick else (
        bench_streaming.RUNS_FAST, bench_streaming.RUNS_PACED))), bench_streaming._print),
    ("image_chat", lambda quick: bench_image_chat.main(1 if quick else bench_image_chat.RUNS),
     bench_image_chat._print),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke check)")
    parser.add_argument("--only", nargs="*", metavar="NAME",
                        help="run only these: " + ", ".join(n for n, _, _ in BENCHMARKS))
    args = parser.parse_args(argv)
    rows: list[Row] = []
    failed = 0
    started = time.perf_counter()
    for name, run, show in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        print(f"\n######## {name} ########", flush=True)
        began = time.perf_counter()
        try:
            results = run(args.quick)
        except Exception:
            failed += 1
            traceback.print_exc()
            rows.append(Row(name, "could not run (see the traceback above)", "—", "—", "—",
                            "—", False))
            continue
        show(results)
        rows.extend(image_rows(results) if name == "images" else results["rows"])
        print(f"({name}: {time.perf_counter() - began:.0f} s)", flush=True)

    print("\n" + "=" * 30 + " summary " + "=" * 30)
    print(describe_machine())
    print(text_table(rows))
    met = [r for r in rows if r.met is not None]
    print(f"\n{sum(r.met is True for r in met)} of {len(met)} bars met "
          f"({time.perf_counter() - started:.0f} s in all)")
    print("\nMarkdown for the README's performance section:\n")
    print(f"Measured with `.venv/bin/python tests/benchmarks/run_all.py` — {describe_machine()}.")
    print("Medians of several runs; every ratio is measured side by side in the same run.\n")
    print(markdown_table(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
