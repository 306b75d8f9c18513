"""What run_all.py writes besides its printout: the JSON of a run and the README's table.

Kept apart from the benchmarks (no Qt, no Pillow) so that tests can check it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from _common import Row, bar_text, bar_unit, markdown_table

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BEGIN = "<!-- benchmark-table:begin (run_all.py --readme writes from here) -->"
END = "<!-- benchmark-table:end -->"


def from_json(text: str) -> dict[str, Any]:
    """A run written by `json_text`, its rows as `Row`s again."""
    data: dict[str, Any] = json.loads(text)
    fields = {f.name for f in dataclasses.fields(Row)}
    # A row without a bar is written with bar_on/bar_op None; the defaults stand in.
    data["rows"] = [Row(**{k: v for k, v in row.items()
                           if k in fields and not (k in ("bar_on", "bar_op") and v is None)})
                    for row in data["rows"]]
    return data


def json_text(run_data: dict[str, Any]) -> str:
    """A run (as `run_all.run` returns it) as JSON, every row in numbers."""
    rows: list[Row] = run_data["rows"]
    return json.dumps(dict(run_data, rows=[r.as_json() for r in rows]), indent=1,
                      ensure_ascii=False) + "\n"


def _bar_value(row: Row) -> str:
    """The figure the bar is about, with its unit."""
    if row.bar_on == "ratio":
        return "not measured" if row.ratio is None else f"{row.ratio:.2f}×"
    value = row.ours if row.bar_on == "ours" else row.difference
    if value is None:
        return "not measured"
    sign = "+" if row.bar_on == "difference" else ""
    return f"{value:{sign},.{row.digits}f} {bar_unit(row)}"


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
        lines += [f"- {r.benchmark}: {r.figure} — {_bar_value(r)}, bar {bar_text(r)}"
                  for r in missed]
    return "\n".join(lines)


def rewrite_readme(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8")
    begin, end = text.find(BEGIN), text.find(END)
    if begin < 0 or end < begin:
        raise SystemExit(f"{path}: the markers {BEGIN!r} and {END!r} are missing")
    path.write_text(text[:begin + len(BEGIN)] + "\n" + section + "\n" + text[end:],
                    encoding="utf-8")


