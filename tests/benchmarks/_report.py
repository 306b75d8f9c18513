"""What run_all.py writes besides its printout: the JSON of a run and the README's table.

Kept apart from the benchmarks (no Qt, no Pillow) so that tests can check it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _common import Row, markdown_table

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BEGIN = "<!-- benchmark-table:begin (run_all.py --readme writes from here) -->"
END = "<!-- benchmark-table:end -->"


def json_text(run_data: dict[str, Any]) -> str:
    """A run (as `run_all.run` returns it) as JSON, every row in numbers."""
    rows: list[Row] = run_data["rows"]
    return json.dumps(dict(run_data, rows=[r.as_json() for r in rows]), indent=1,
                      ensure_ascii=False) + "\n"


def _bar_value(row: Row) -> str:
    value = row.ratio if row.bar_on == "ratio" else row.ours
    if value is None:
        return "not measured"
    return f"{value:.2f}×" if row.bar_on == "ratio" else f"{value:,.{row.digits}f} {row.unit}"


def readme_section(run_data: dict[str, Any]) -> str:
    """The generated part of the README's performance section."""
    rows: list[Row] = run_data["rows"]
    before, after = run_data["load_average_before"], run_data["load_average_after"]
    lines = [
        f"Measured with `.venv/bin/python tests/benchmarks/run_all.py --readme"
        f"{' --quick' if run_data['quick'] else ''}` on {run_data['started'][:10]} at commit "
        f"{run_data['commit']}: {run_data['machine']}. Load average (1, 5, 15 min) "
        f"{', '.join(map(str, before))} before the run, {', '.join(map(str, after))} after; "
        f"{run_data['duration_s'] / 60:.0f} min in all. Medians of several runs; every ratio "
        "is measured side by side in the same run.",
        "",
        markdown_table(rows),
        "",
        f"**{run_data['bars_met']} of {run_data['bars']} bars met in this run.**",
    ]
    missed = [r for r in rows if r.met is False]
    if missed:
        lines += ["", "Missed in this run:", ""]
        lines += [f"- {r.benchmark}: {r.figure} — {_bar_value(r)}, bar "
                  f"{'≤' if r.bar_op == '<=' else '<'} "
                  f"{r.bar:g}{'×' if r.bar_on == 'ratio' else ' ' + r.unit}" for r in missed]
    return "\n".join(lines)


def rewrite_readme(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8")
    begin, end = text.find(BEGIN), text.find(END)
    if begin < 0 or end < begin:
        raise SystemExit(f"{path}: the markers {BEGIN!r} and {END!r} are missing")
    path.write_text(text[:begin + len(BEGIN)] + "\n" + section + "\n" + text[end:],
                    encoding="utf-8")


