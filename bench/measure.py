"""Timing helpers and the result rows: every figure is a list of samples shown as median (min-max)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field


@dataclass
class Row:
    """One line of the table. ``samples`` are per-run values (a ratio row holds per-run ratios, each
    taken from two measurements made in the same run)."""

    name: str
    ledger: str
    unit: str
    samples: list[float] = field(default_factory=list)
    goal: str = ""
    check: object = None  # callable(median) -> bool, or None when the row has no goal
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def met(self) -> str:
        if self.check is None or self.median is None:
            return ""
        return "yes" if self.check(self.median) else "**no**"

    def cells(self) -> list[str]:
        if not self.samples:
            return [self.name, self.ledger, "skipped", "", "", self.unit, self.goal, "", self.note]
        fmt = _fmt(self.unit)
        return [self.name, self.ledger, fmt(self.median), fmt(min(self.samples)), fmt(max(self.samples)),
                self.unit, self.goal, self.met, self.note or f"n={len(self.samples)}"]


def _fmt(unit: str):  # noqa: ANN202
    def f(v: float) -> str:
        if unit == "×":
            return f"{v:.2f}"
        if unit in ("events/s",):
            return f"{v:,.0f}"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}"
    return f


HEADER = ["measurement", "ledger", "median", "min", "max", "unit", "goal", "met", "runs / note"]


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in r.cells()) + " |")
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[k]


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def parse_size(text: str) -> int:
    text = text.strip().lower()
    mult = {"k": 1000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if mult > 1 else text) * mult)
