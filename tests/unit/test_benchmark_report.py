"""The benchmark table a program can check: rows in numbers, a verdict that follows from
them, JSON that keeps the numbers, and a README rewrite that touches only its part.
(The benchmarks themselves print figures and are never run by the test suite.)"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def report(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("_report")


@pytest.fixture
def common(report: ModuleType) -> ModuleType:
    return importlib.import_module("_common")


def a_run(common: ModuleType) -> dict[str, Any]:
    row = common.Row
    rows = [
        row("streaming", "wall (ms)", 1500.0, 1000.0, "minimal reader", bar=1.5, unit="ms"),
        row("streaming", "busy", 5.5, bar=5.0, bar_on="ours", unit="%"),
        row("conversation", "open (s)", 0.4, bar=1.0, bar_on="ours", bar_op="<", unit="s"),
        row("image chat", "stall (ms)", 12.0, 10.0, "no images", bar=1.0,
            bar_on="difference", unit="ms"),
        row("startup", "memory (MB)", 110.0, 55.0, unit="MB"),
        common.failed_row("images"),
    ]
    return {"started": "2026-01-02T03:04:05+00:00", "duration_s": 600.0,
            "machine": "a test machine", "cpus": 2, "load_average_before": [0.5, 0.4, 0.3],
            "load_average_after": [1.5, 1.0, 0.5], "commit": "abc1234", "quick": False,
            "failed": ["images"], "bars": 5, "bars_met": 2, "rows": rows}


def test_verdict_follows_from_the_numbers(common: ModuleType) -> None:
    row = common.Row
    assert row("x", "at the bar", 150.0, 100.0, bar=1.5).met is True
    assert row("x", "just over", 150.1, 100.0, bar=1.5).met is False
    assert row("x", "strictly under", 1.0, bar=1.0, bar_on="ours", bar_op="<").met is False
    assert row("x", "no bar", 3.0, 1.0).met is None
    assert row("x", "0.5 over", 10.5, 10.0, bar=0.5, bar_on="difference").met is True
    assert row("x", "0.6 over", 10.6, 10.0, bar=0.5, bar_on="difference").met is False
    assert row("x", "not measured", None, 1.0, bar=2.0).met is False
    assert common.failed_row("x").met is False
    with pytest.raises(ValueError, match="bad bar"):
        row("x", "typo", 1.0, bar=1.0, bar_on="speed")


def test_json_keeps_every_figure_as_a_number(report: ModuleType, common: ModuleType) -> None:
    data = json.loads(report.json_text(a_run(common)))
    first = data["rows"][0]
    assert first == {"benchmark": "streaming", "figure": "wall (ms)", "unit": "ms",
                     "ours": 1500.0, "baseline": 1000.0, "baseline_note": "minimal reader",
                     "ratio": 1.5, "difference": 500.0, "bar": 1.5, "bar_on": "ratio",
                     "bar_op": "<=",
                     "bar_note": "", "met": True, "digits": 1}
    assert [r["met"] for r in data["rows"]] == [True, False, True, False, None, False]
    assert data["rows"][3]["difference"] == 2.0
    assert data["rows"][4]["bar"] is None
    assert data["load_average_before"] == [0.5, 0.4, 0.3]


def test_a_saved_run_gives_the_same_table(report: ModuleType, common: ModuleType) -> None:
    run = a_run(common)
    again = report.from_json(report.json_text(run))
    assert report.readme_section(again) == report.readme_section(run)
    assert [r.met for r in again["rows"]] == [r.met for r in run["rows"]]


def test_readme_rewrite_replaces_only_the_marked_part(tmp_path: Path, report: ModuleType,
                                                      common: ModuleType) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n\n{report.BEGIN}\nold table\n{report.END}\n\nafter\n",
                      encoding="utf-8")
    section = report.readme_section(a_run(common))
    report.rewrite_readme(readme, section)
    report.rewrite_readme(readme, section)          # a second run replaces the first
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nbefore\n\n")
    assert text.endswith(f"{report.END}\n\nafter\n")
    assert "old table" not in text
    assert text.count("| streaming | wall (ms) | 1,500.0 |") == 1
    assert "0.5, 0.4, 0.3 before the run, 1.5, 1.0, 0.5 after" in text
    assert "**2 of 5 bars met in this run.**" in text
    assert "- streaming: busy — 5.5 %, bar ≤ 5 %" in text
    assert "- image chat: stall (ms) — +2.0 ms, bar ≤ +1 ms over the baseline" in text
    assert "- images: could not run" in text


def test_readme_without_markers_is_refused(tmp_path: Path, report: ModuleType) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="markers"):
        report.rewrite_readme(readme, "table")
    assert readme.read_text(encoding="utf-8") == "# Title\n"


def test_the_project_readme_has_the_markers(report: ModuleType) -> None:
    text = README.read_text(encoding="utf-8")
    assert text.count(report.BEGIN) == 1
    assert text.index(report.BEGIN) < text.index(report.END)
