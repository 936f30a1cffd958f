"""A plain-Python reference for the termly report, written from the contract, not from the SQL.

Given the stored events (``store.read_all()``), :func:`reference_report` computes what
``projections.report_sql.build_report`` should return, with nothing but dictionaries and loops:

* classes opened at or before the position, that exist in at least one term of the year, in the
  order they were opened; phases in the order their first such class was opened;
* per class and term: ``not_open`` outside the class's from-term..closed-after range, else the counts
  of the judgement in force (the latest event for that pupil and term, revisions superseding) whose
  class is this one, ``recorded`` when there is at least one, else ``not_recorded``;
* ``unjudged``: pupils on the class's roll on the reference date (the term's end; the as-at local
  date while the term runs; its start before it starts) who have no judgement for the term at all;
* phase totals and whole-school totals of the cells shown;
* only the named school's events count (a trust ledger keeps each school under ``CODE/``).

It deliberately re-derives placements, term dates and term order itself instead of calling the
domain or the projection, so that a mistake in either shows up as a difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ledger.readmodel import Cell, ClassRow, Counts, PhaseBlock, Report
from ledger.store.mapper import StoredEvent


def _term_tuple(text: str) -> tuple[int, int]:
    """``'2023-24/T2'`` -> ``(2023, 2)``: sorts in term order."""
    year, t = text.split("/")
    return int(year[:4]), int(t[1])


def default_term_dates(year_start: int, n: int) -> tuple[date, date]:
    if n == 1:
        return date(year_start, 9, 1), date(year_start, 12, 31)
    if n == 2:
        return date(year_start + 1, 1, 1), date(year_start + 1, 3, 31)
    return date(year_start + 1, 4, 1), date(year_start + 1, 8, 31)


@dataclass
class _Class:
    class_id: str
    phase: str
    mark: str | None
    from_term: tuple[int, int]
    opened_at: int
    closed_after: tuple[int, int] | None = None


@dataclass
class _Span:
    class_id: str
    first: date
    last: date | None = None


@dataclass
class _Folded:
    timezone: str = "Europe/London"
    classes: dict[str, _Class] = field(default_factory=dict)
    spans: dict[str, list[_Span]] = field(default_factory=dict)
    # (pupil, term text) -> (class, status) of the latest judgement event
    judgements: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    term_dates: dict[tuple[int, int], tuple[date, date]] = field(default_factory=dict)


def _fold(events: list[StoredEvent]) -> _Folded:
    f = _Folded()
    for e in sorted(events, key=lambda x: x.position):
        d = json.loads(e.payload)
        kind = e.event_type
        if kind == "LedgerCreated":
            f.timezone = d["timezone"]
        elif kind == "ClassOpened":
            assert d["class_id"] not in f.classes, "a class is opened once"
            f.classes[d["class_id"]] = _Class(d["class_id"], d["phase"], d.get("mark"),
                                              _term_tuple(d["from_term"]), e.position)
        elif kind == "ClassClosed":
            f.classes[d["class_id"]].closed_after = _term_tuple(d["after_term"])
        elif kind == "PupilEnrolled":
            f.spans.setdefault(d["pupil_id"], []).append(_Span(d["class_id"], date.fromisoformat(d["on"])))
        elif kind == "PupilMoved":
            on = date.fromisoformat(d["on"])
            spans = f.spans[d["pupil_id"]]
            assert spans[-1].class_id == d["from_class"] and spans[-1].last is None
            spans[-1].last = on - timedelta(days=1)
            spans.append(_Span(d["to_class"], on))
        elif kind == "PupilLeft":
            spans = f.spans[d["pupil_id"]]
            assert spans[-1].class_id == d["class_id"] and spans[-1].last is None
            spans[-1].last = date.fromisoformat(d["on"])
        elif kind in ("JudgementRecorded", "JudgementRevised"):
            f.judgements[(d["pupil_id"], d["term"])] = (d["class_id"], d["status"])
        elif kind == "TermDatesSet":
            f.term_dates[_term_tuple(d["term"])] = (date.fromisoformat(d["start"]), date.fromisoformat(d["end"]))
    return f


def _reference_day(start: date, end: date, today: date) -> date:
    if today < start:
        return start
    if today > end:
        return end
    return today


def school_of(stream_id: str) -> str:
    """A trust ledger files a school's events under ``CODE/``; the ledger's own school has no prefix.

    Unprefixed stream ids start with a lower-case kind (``judgement-P-1-2023-24/T1``), codes do not.
    """
    head, sep, _ = stream_id.partition("/")
    return head if sep and head[:1].isalnum() and head == head.upper() and not head[:1].islower() else ""


def reference_report(events: list[StoredEvent], year_start: int, position: int, as_at: datetime,
                     school: str = "") -> Report:
    """The report for ``year_start`` as the ledger stood at ``position`` (events after it ignored),
    for one school of the ledger (``""``: the ledger's own)."""
    f = _fold([e for e in events if e.position <= position and school_of(e.stream_id) == school])
    today = as_at.astimezone(ZoneInfo(f.timezone)).date()
    term_ns = (1, 2, 3)
    labels = {n: f"T{n}" for n in term_ns}
    term_text = {n: f"{year_start}-{(year_start + 1) % 100:02d}/T{n}" for n in term_ns}

    ref_day = {}
    for n in term_ns:
        start, end = f.term_dates.get((year_start, n)) or default_term_dates(year_start, n)
        ref_day[n] = _reference_day(start, end, today)

    def is_open(c: _Class, n: int) -> bool:
        t = (year_start, n)
        return c.from_term <= t and (c.closed_after is None or t <= c.closed_after)

    shown = [c for c in sorted(f.classes.values(), key=lambda c: c.opened_at)
             if any(is_open(c, n) for n in term_ns)]

    judged = {(p, t) for (p, t) in f.judgements}
    phases: dict[str, PhaseBlock] = {}
    school = {labels[n]: Counts() for n in term_ns}
    for c in shown:
        block = phases.setdefault(c.phase, PhaseBlock(c.phase, [], {labels[n]: Counts() for n in term_ns}))
        cells = {}
        for n in term_ns:
            if not is_open(c, n):
                cells[labels[n]] = Cell("not_open")
                continue
            a = s = 0
            for (pupil, term), (class_id, status) in f.judgements.items():
                if term == term_text[n] and class_id == c.class_id:
                    if status == "appropriate":
                        a += 1
                    elif status == "smaller-steps":
                        s += 1
                    else:  # pragma: no cover - the events refuse any other status
                        raise AssertionError(status)
            day = ref_day[n]
            on_roll = {
                pupil for pupil, spans in f.spans.items()
                for sp in spans
                if sp.class_id == c.class_id and sp.first <= day and (sp.last is None or sp.last >= day)
            }
            unjudged = sum(1 for pupil in on_roll if (pupil, term_text[n]) not in judged)
            cells[labels[n]] = Cell("recorded" if a + s > 0 else "not_recorded", a, s, unjudged)
            block.totals[labels[n]] = block.totals[labels[n]] + Counts(a, s)
            school[labels[n]] = school[labels[n]] + Counts(a, s)
        label = f"{c.class_id} ({c.mark})" if c.mark else c.class_id
        block.classes.append(ClassRow(c.class_id, label, cells))
    return Report(
        year=f"{year_start}-{(year_start + 1) % 100:02d}", as_at=as_at, position=position,
        phases=list(phases.values()), totals=school,
    )
