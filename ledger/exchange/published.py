"""The report as it is published, optionally with small counts suppressed for governors and the public.

``publish(report, suppress_below=N)`` returns the table with every count either shown (an int) or
withheld (a marker), and no withheld number anywhere in it, so nothing written from it can leak one.

Suppression is the usual two-step method of statistical disclosure control:

1. **Primary**: every count under N (zero included: "none of the class" is as telling as "one") is
   shown as ``<N``.
2. **Secondary** (complementary): the published totals add up, so a lone withheld count beside a
   total could be worked out by subtraction. For each term and each kind of count (appropriate,
   smaller steps) the table is a two-level sum (classes -> phase total -> whole-school total); in
   every sum with a withheld entry at least two entries are withheld, choosing the smallest shown
   class count (or phase total), and a phase total only when a phase has no other class to use.
   A class count withheld this way is shown as ``c`` (so it is N or more); a withheld total is always
   shown as ``c``, whether it is under N or not, because "this total is N or more" beside counts all
   under N can pin them down (two counts under 2 that make at least 2 are both 1). Then the exact
   range of every withheld entry is computed from what is published (shown counts, ``<N`` = 0..N-1,
   a class's ``c`` = N or more, a total's ``c`` = anything, and the sums), and while any withheld
   entry could be pinned to a single value, one more entry of its sum is withheld.

A percentage of a total is shown only when both of its counts are. ``unjudged`` counts are not part
of any sum and get primary suppression only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Union

from ledger.readmodel import Counts, Report

Shown = Union[int, str]  # a count, or a marker: "<N" (under N) or "c" (withheld so "<N" cannot be worked out)
WITHHELD = "c"
STATUSES = ("appropriate", "smaller_steps")
INF = 10**9


@dataclass(frozen=True)
class PubCell:
    state: str  # recorded, not_recorded or not_open, as in the report
    appropriate: Shown | None = None  # None for not_open
    smaller_steps: Shown | None = None
    unjudged: Shown | None = None


@dataclass(frozen=True)
class PubTotals:
    """Counts of a phase or the school; both None (blank) when none of its classes has figures that term."""

    appropriate: Shown | None
    smaller_steps: Shown | None
    percent_appropriate: float | str | None  # None when nobody was counted; "c" when withheld


@dataclass(frozen=True)
class PubClass:
    class_id: str
    label: str
    terms: dict[str, PubCell]


@dataclass(frozen=True)
class PubPhase:
    phase: str
    classes: list[PubClass]
    totals: dict[str, PubTotals]


@dataclass(frozen=True)
class Published:
    year: str
    as_at: datetime
    position: int
    terms: list[str]
    phases: list[PubPhase]
    totals: dict[str, PubTotals]
    source: str = "events"
    note: str | None = None
    suppress_below: int | None = None
    legend: list[str] = field(default_factory=list)


def legend(suppress_below: int | None) -> list[str]:
    lines = ["N/A: the class did not exist that term; blank: the class was open but no figures were recorded."]
    if suppress_below is not None:
        n = suppress_below
        lines.append(f"<{n}: fewer than {n} pupils (counts under {n} are not published); "
                     f"{WITHHELD}: withheld so that counts under {n} cannot be worked out from the totals "
                     f"(a withheld total may itself be under {n}).")
    return lines


# -- suppression ---------------------------------------------------------------------------------
@dataclass
class _Entry:
    """One count in one of the sums: a class cell, a phase total or the whole-school total."""

    value: int
    total: bool = False
    withheld: str | None = None  # None, "primary" or "secondary"

    def bounds(self, n: int) -> tuple[int, int]:
        """What a reader of the published table knows about it."""
        if self.withheld is None:
            return self.value, self.value
        if self.total:
            return 0, INF
        return (0, n - 1) if self.withheld == "primary" else (n, INF)

    def marker(self, n: int) -> str:
        return f"<{n}" if self.withheld == "primary" and not self.total else WITHHELD


@dataclass
class _Tree:
    """Classes -> phase totals -> whole-school total, for one term and one kind of count."""

    phases: list[tuple[_Entry, list[_Entry]]]  # (phase total, its recorded class cells)
    school: _Entry


def _complement(candidates: list[_Entry], total: _Entry) -> bool:
    """Withhold one more entry of a sum: the smallest shown candidate, else the total. True if one was."""
    shown = [e for e in candidates if e.withheld is None]
    if shown:
        min(shown, key=lambda e: e.value).withheld = "secondary"
        return True
    if total.withheld is None:
        total.withheld = "secondary"
        return True
    return False


def _sums(tree: _Tree) -> list[tuple[_Entry, list[_Entry]]]:
    return [*tree.phases, (tree.school, [total for total, _ in tree.phases])]


def ranges(tree: _Tree, n: int) -> dict[int, tuple[int, int]]:
    """id(entry) -> the exact range a reader can deduce for it from the published table.

    The sums form a tree, so two passes of interval propagation (classes up to the school total,
    then back down) give each entry's exact feasible range; sums of integer intervals are intervals.
    """
    def clip(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
        return max(a[0], b[0]), min(a[1], b[1])

    up: list[tuple[int, int]] = []
    for total, cells in tree.phases:
        lo = sum(c.bounds(n)[0] for c in cells)
        hi = sum(c.bounds(n)[1] for c in cells)
        up.append(clip(total.bounds(n), (lo, hi)))
    school = clip(tree.school.bounds(n), (sum(r[0] for r in up), sum(r[1] for r in up)))
    out = {id(tree.school): school}
    for i, (total, cells) in enumerate(tree.phases):
        others_lo = sum(r[0] for j, r in enumerate(up) if j != i)
        others_hi = sum(r[1] for j, r in enumerate(up) if j != i)
        down = clip(up[i], (school[0] - others_hi, school[1] - others_lo))
        out[id(total)] = down
        for c in cells:
            rest_lo = sum(d.bounds(n)[0] for d in cells if d is not c)
            rest_hi = sum(d.bounds(n)[1] for d in cells if d is not c)
            out[id(c)] = clip(c.bounds(n), (down[0] - rest_hi, down[1] - rest_lo))
    return out


def suppress(tree: _Tree, n: int) -> None:
    """Primary then secondary suppression, until no withheld entry can be worked out."""
    for total, cells in _sums(tree):
        for e in (total, *cells):
            if e.value < n:
                e.withheld = "primary"
    while True:
        changed = False
        for total, parts in _sums(tree):
            withheld = [e for e in (total, *parts) if e.withheld]
            if len(withheld) == 1:
                changed |= _complement(parts, total)
        if changed:
            continue
        exact = ranges(tree, n)
        for total, parts in _sums(tree):
            pinned = [e for e in (total, *parts) if e.withheld and exact[id(e)][0] == exact[id(e)][1]]
            if pinned and _complement(parts, total):
                changed = True
                break
        if not changed:
            return


# -- publishing ----------------------------------------------------------------------------------
def publish(report: Report, suppress_below: int | None = None) -> Published:
    terms = list(report.totals)
    n = suppress_below
    withheld: dict[tuple[str, str, str], str] = {}  # (class id or "#phase"/"#school", term, status) -> marker
    if n is not None:
        for term in terms:
            for status in STATUSES:
                tree, keys = _tree(report, term, status)
                suppress(tree, n)
                for key, entry in keys.items():
                    if entry.withheld:
                        withheld[(*key, status)] = entry.marker(n)

    def shown(key: tuple[str, str], status: str, value: int) -> Shown:
        return withheld.get((*key, status), value)

    def totals(owner: str, counts: dict[str, Counts], blocks: list) -> dict[str, PubTotals]:
        out = {}
        for t, c in counts.items():
            if n is not None and not any(r.terms[t].state == "recorded" for b in blocks for r in b.classes):
                out[t] = PubTotals(None, None, None)  # nothing counted: no figures, not a count of pupils
                continue
            a, s = shown((owner, t), "appropriate", c.appropriate), shown((owner, t), "smaller_steps", c.smaller_steps)
            pct = c.percent_appropriate
            if isinstance(a, str) or isinstance(s, str):
                pct_shown: float | str | None = WITHHELD
            else:
                pct_shown = None if pct is None else round(pct, 1)
            out[t] = PubTotals(a, s, pct_shown)
        return out

    phases = []
    for block in report.phases:
        classes = []
        for row in block.classes:
            cells = {}
            for t, cell in row.terms.items():
                if cell.state == "not_open":
                    cells[t] = PubCell("not_open")
                    continue
                unjudged: Shown = cell.unjudged if n is None or cell.unjudged >= n else f"<{n}"
                if cell.state == "not_recorded":
                    cells[t] = PubCell("not_recorded", None, None, unjudged)
                    continue
                key = (row.class_id, t)
                cells[t] = PubCell(cell.state, shown(key, "appropriate", cell.appropriate),
                                   shown(key, "smaller_steps", cell.smaller_steps), unjudged)
            classes.append(PubClass(row.class_id, row.label, cells))
        phases.append(PubPhase(block.phase, classes, totals(f"#phase:{block.phase}", block.totals, [block])))
    return Published(report.year, report.as_at, report.position, terms, phases,
                     totals("#school", report.totals, report.phases),
                     report.source, report.note, n, legend(n))


def _tree(report: Report, term: str, status: str) -> tuple[_Tree, dict[tuple[str, str], _Entry]]:
    keys: dict[tuple[str, str], _Entry] = {}
    phases = []
    for block in report.phases:
        cells = []
        for row in block.classes:
            cell = row.terms[term]
            if cell.state != "recorded":  # N/A or blank: published as such, and adds nothing to the sums
                continue
            keys[(row.class_id, term)] = entry = _Entry(getattr(cell, status))
            cells.append(entry)
        if not cells:  # its total is 0 by construction and published blank: not part of any sum
            continue
        keys[(f"#phase:{block.phase}", term)] = total = _Entry(getattr(block.totals[term], status), total=True)
        phases.append((total, cells))
    keys[("#school", term)] = school = _Entry(getattr(report.totals[term], status), total=True)
    return _Tree(phases, school), keys
