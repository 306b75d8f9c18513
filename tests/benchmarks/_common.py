"""Helpers the benchmark scripts share: medians, the result table, memory, subprocesses,
and a window wired to a loopback provider server.

Every figure is a median of several runs measured side by side with its baseline in the
same run; nothing here asserts a time. Qt runs offscreen.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwenvl_desktop.services import Services

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


# --- numbers --------------------------------------------------------------------------

def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def now_ns() -> int:
    """CLOCK_MONOTONIC: one clock for the whole machine, so a parent's reading before
    `exec` and a child's reading later can be subtracted."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def proc_status_kb(field: str) -> int:
    """A `/proc/self/status` figure in kB (VmRSS: resident now, VmHWM: peak resident)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


# --- the result table -------------------------------------------------------------------

@dataclass
class Row:
    """One line of the run-all table, in numbers (`--json` writes these fields).

    `bar` is a limit on `ratio` (`bar_on="ratio"`), on `ours` (`bar_on="ours"`) or on
    `ours - baseline` (`bar_on="difference"`), compared with `bar_op`; `met` follows
    from it, so the table cannot claim a bar the figures do not meet. `None` anywhere:
    not measured / not applicable.
    """

    benchmark: str
    figure: str
    ours: float | None
    baseline: float | None = None
    baseline_note: str = ""          # what the baseline is, when the figure does not say
    bar: float | None = None
    bar_on: str = "ratio"            # "ratio", "ours" or "difference"
    bar_op: str = "<="               # "<=" or "<"
    unit: str = ""                   # of ours and baseline: ms, s, %, MB, KB, µs, ...
    digits: int = 1
    ratio: float | None = None       # ours / baseline unless given
    bar_note: str = ""               # e.g. "goal 1.3×"; shown beside the bar

    def __post_init__(self) -> None:
        if (self.bar_on not in ("ratio", "ours", "difference")
                or self.bar_op not in ("<=", "<")):
            raise ValueError(f"bad bar for {self.figure!r}: {self.bar_on} {self.bar_op}")
        if self.ratio is None and self.ours is not None and self.baseline:
            self.ratio = self.ours / self.baseline

    @property
    def difference(self) -> float | None:
        """ours - baseline, when both are measured."""
        if self.ours is None or self.baseline is None:
            return None
        return self.ours - self.baseline

    @property
    def met(self) -> bool | None:
        """Whether the bar is met; None when the row has no bar."""
        if self.bar is None:
            return None
        value = {"ratio": self.ratio, "ours": self.ours,
                 "difference": self.difference}[self.bar_on]
        if value is None:
            return False
        return value <= self.bar if self.bar_op == "<=" else value < self.bar

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "—"
        return "yes" if self.met else "NO"

    def as_json(self) -> dict[str, Any]:
        return {"benchmark": self.benchmark, "figure": self.figure, "unit": self.unit,
                "ours": self.ours, "baseline": self.baseline,
                "baseline_note": self.baseline_note, "ratio": self.ratio,
                "difference": self.difference,
                "bar": self.bar, "bar_on": self.bar_on if self.bar is not None else None,
                "bar_op": self.bar_op if self.bar is not None else None,
                "bar_note": self.bar_note, "met": self.met, "digits": self.digits}


def failed_row(benchmark: str, what: str = "could not run (see the traceback above)") -> Row:
    """A benchmark that could not run: a row with a bar that nothing meets."""
    return Row(benchmark, what, None, bar=0.0, bar_on="ours")


def _number(value: float | None, row: Row) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{row.digits}f}"
    return f"{text} %" if row.unit == "%" else text


def bar_text(row: Row) -> str:
    if row.bar is None:
        return "—"
    op = "≤" if row.bar_op == "<=" else "<"
    if row.bar_on == "ratio":
        text = f"{op} {row.bar:g}×"
    elif row.bar_on == "difference":
        text = f"{op} +{row.bar:g} {bar_unit(row)} over the baseline"
    elif row.unit == "%":
        text = f"{op} {row.bar:g} %"
    else:
        text = f"{op} {row.bar:g} {row.unit}".rstrip()
    return f"{text} ({row.bar_note})" if row.bar_note else text


def bar_unit(row: Row) -> str:
    """The unit of what the bar limits (points for a difference of percentages)."""
    return "pt" if row.unit == "%" and row.bar_on == "difference" else row.unit


_HEADERS = ("benchmark", "figure", "ours", "baseline", "ratio", "bar", "met?")


def _cells(row: Row) -> tuple[str, ...]:
    baseline = _number(row.baseline, row)
    if row.baseline_note:
        baseline = row.baseline_note if row.baseline is None else f"{baseline} {row.baseline_note}"
    ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
    if row.bar_on == "difference" and row.difference is not None:
        ratio = f"{row.difference:+,.{row.digits}f} {bar_unit(row)}"
    return (row.benchmark, row.figure, _number(row.ours, row), baseline, ratio,
            bar_text(row), row.verdict)


def text_table(rows: Sequence[Row]) -> str:
    cells = [_HEADERS, *(_cells(r) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(_HEADERS))]
    lines = []
    for n, line in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: Sequence[Row]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [line(_HEADERS), line(["---"] * len(_HEADERS))]
    out += [line(_cells(r)) for r in rows]
    return "\n".join(out)


def print_rows(title: str, rows: Sequence[Row]) -> None:
    print(f"\n== {title} ==")
    print(text_table(rows))


# --- subprocesses -----------------------------------------------------------------------

def child_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a benchmark child: offscreen Qt and an isolated app home."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["QWENVL_DESKTOP_HOME"] = str(home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


def run_child(args: Sequence[str], env: dict[str, str], timeout: float = 120.0
              ) -> dict[str, str]:
    """Run `python args...`; return the `KEY value` lines it printed on stdout, plus
    `CPU_MS`: the child's user + system CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([PYTHON, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=HERE)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {args} failed ({proc.returncode}):\n"
                           f"{proc.stdout}\n{proc.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found: dict[str, str] = {"CPU_MS": f"{cpu * 1000:.1f}"}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key.isupper():
            found[key] = value.strip()
    return found


# --- a window on the loopback server -------------------------------------------------------

PROVIDER = "dashscope-intl"
MODEL = "qwen3-vl-plus"
SERVED_PROVIDERS = ("dashscope-intl", "dashscope-us", "dashscope-cn", "ovh", "aimlapi",
                    "nebula", "segmind")


def use_memory_keyring() -> None:
    """Keys live in memory for the run: the benchmark never touches a real keyring."""
    import keyring

    from qwenvl_desktop.testing.memory_keyring import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())


def server_urls(server: Any) -> dict[str, str]:
    """Base URL per served provider on a running `ProviderServer`."""
    return {pid: server.base_url_for(pid) for pid in SERVED_PROVIDERS}


def services_for(urls: dict[str, str], key: str) -> Services:
    """The app's real services, with every provider pointed at the loopback server
    (`urls` from `server_urls`) and a key stored for each. Call with
    QWENVL_DESKTOP_HOME set."""
    from qwenvl_desktop.core.settings import Settings
    from qwenvl_desktop.services import Services

    settings, _warnings = Settings.load()
    for pid, url in urls.items():
        settings.set_base_url_override(pid, url)
    settings.last_provider, settings.last_model = PROVIDER, MODEL
    settings.read_timeout = 30.0
    settings.max_retries = 0
    settings.save()
    services = Services.create()
    for pid in SERVED_PROVIDERS:
        services.keystore.set(services.catalog.get(pid), key)
    return services


def describe_machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh
                        if line.startswith("model name")), "?")
    except OSError:
        pass
    import PySide6

    return (f"Python {sys.version.split()[0]}, PySide6 {PySide6.__version__}, "
            f"{os.cpu_count()} CPU ({cpu}), QT_QPA_PLATFORM=offscreen")


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
