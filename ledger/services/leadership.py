"""The leadership queries: what changed between two moments, the report at two moments side by side,
the trend across years, smaller steps by reason, the audit log, and the judgements export for the MIS.

Every answer comes from the DuckDB projection (SQL in ``projections/leadership_sql.py``); this module
turns command-line moments into positions, checks the question makes sense and assembles the answer.

Moments. ``--as-at`` and ``--to``/``--until`` take an ISO date-time or a date; a date alone means the
END of that day in the ledger's time zone. ``--from``/``--since`` take the same, but a date alone means
the START of that day, so ``--from 2024-01-10 --to 2024-01-10`` is everything recorded on 10 January.
Both ends are inclusive: ``changes`` lists events with from <= recorded_at <= to. Positions are exact
(a position's events are ordered even when they share a recorded time): ``--from-position N
--to-position M`` lists positions N to M.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from ledger.domain.calendar import AcademicYear, Term, is_date_only, parse_instant
from ledger.domain.classes import normalise_phase
from ledger.errors import InvalidInput, NotFound
from ledger.leadership_views import AuditEntry, ClassChange, JudgementChange, LearningChange, ReasonGroup
from ledger.readmodel import Cell, Counts, JudgementView, Report
from ledger.services.context import Ledger
from ledger.services.queries import resolve_moment
from ledger.vocab import CHANGE_KINDS  # defined without pydantic: the CLI's --kind needs it at startup

FIGURES_EVENTS = ("HistoricFiguresRecorded", "HistoricFiguresRevised")
_ONE_MICROSECOND = timedelta(microseconds=1)


# -- moments -------------------------------------------------------------------------------------
def parse_start(text: str, ledger: Ledger) -> datetime:
    """A lower bound: a date alone is the start of that day (local time), else as ``parse_instant``."""
    instant = parse_instant(text, ledger.tz)  # validates and gives one line on bad input
    if is_date_only(text):
        day = date.fromisoformat(text.strip())
        return datetime.combine(day, time.min).replace(tzinfo=ledger.tz).astimezone(timezone.utc)
    return instant


def parse_end(text: str, ledger: Ledger) -> datetime:
    """An upper bound: a date alone is the end of that day (local time)."""
    return parse_instant(text, ledger.tz)


def _check_position(ledger: Ledger, position: int, option: str) -> int:
    head = ledger.store.head().position
    if position < 0 or position > head:
        raise InvalidInput(f"{option} {position} is outside the ledger (positions 0 to {head})")
    return position


# -- changes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChangeRow:
    """One change, whatever its kind: who, when, what it was before and after, and why."""

    position: int
    recorded_at: datetime
    actor: str
    change: str  # e.g. "judgement revised", "stage recorded", "target approved"
    pupil_id: str | None
    term: str | None
    class_id: str | None
    item: str | None  # the target or outcome id
    before: str | None
    after: str | None
    reason: str | None
    note: str | None = None


@dataclass(frozen=True)
class Changes:
    since: datetime  # the first instant included
    until: datetime  # the last instant included
    first_position: int  # the first position included
    last_position: int  # the last position included
    kinds: tuple[str, ...]
    rows: list[ChangeRow]

    def count(self, change: str) -> int:
        return sum(1 for r in self.rows if r.change == change)


def changes(ledger: Ledger, from_: str | None = None, to: str | None = None, from_position: int | None = None,
            to_position: int | None = None, kinds: tuple[str, ...] = ()) -> Changes:
    """Everything recorded from one moment to another (both inclusive); see the module docstring."""
    if (from_ is None) == (from_position is None):
        raise InvalidInput("give one of --from WHEN or --from-position N")
    if to is not None and to_position is not None:
        raise InvalidInput("give --to WHEN or --to-position N, not both")
    bad = [k for k in kinds if k not in CHANGE_KINDS]
    if bad:
        raise InvalidInput(f"unknown kind '{bad[0]}'; use {', '.join(CHANGE_KINDS)}")
    model = ledger.read_model
    head = ledger.store.head().position

    if from_ is not None:
        since = parse_start(from_, ledger)
        lo = model.position_at(since - _ONE_MICROSECOND) + 1
    else:
        lo = max(_check_position(ledger, from_position, "--from-position"), 1)  # type: ignore[arg-type]
        since = model.recorded_at(lo) or ledger.now()
    if to_position is not None:
        hi = _check_position(ledger, to_position, "--to-position")
        until = model.recorded_at(hi) or since
    else:
        until = parse_end(to, ledger) if to is not None else ledger.now()
        hi = model.position_at(until) if to is not None else head

    if since > until or lo > hi + 1 or (to_position is not None and from_position is not None
                                        and from_position > to_position):
        first = f"--from {from_}" if from_ is not None else f"--from-position {from_position}"
        last = f"--to {to}" if to is not None else (f"--to-position {to_position}" if to_position is not None else "now")
        raise InvalidInput(f"{first} is after {last}: give the earlier moment first")

    wanted = kinds or CHANGE_KINDS
    rows: list[ChangeRow] = []
    if hi >= lo:
        if "judgement" in wanted:
            rows += [_judgement_row(j) for j in model.judgement_changes(lo, hi)]
        learning = [c for c in model.learning_changes(lo, hi) if c.item in wanted] if set(wanted) - {"judgement"} else []
        rows += [_learning_row(c) for c in learning]
        if "figures" in wanted:
            rows += [_figures_row(f) for f in figure_events(ledger, lo, hi)]
    rows.sort(key=lambda r: r.position)
    return Changes(since, until, lo, hi, tuple(wanted), rows)


def _judgement_row(j: JudgementChange) -> ChangeRow:
    before = j.previous_status if j.kind == "revised" else None
    return ChangeRow(j.position, j.recorded_at, j.actor, f"judgement {j.kind}", j.pupil_id, j.term, j.class_id,
                     None, before, j.status, j.reason)


def _learning_row(c: LearningChange) -> ChangeRow:
    if c.item == "stage":
        after = f"{c.value} (achieved {c.on})"
        why = (f"regression: {c.reason}" if c.regression else c.reason) or None
        return ChangeRow(c.position, c.recorded_at, c.actor, "stage recorded", c.pupil_id, None, None, c.item_id,
                         c.previous, after, why, c.note or None)
    after = c.value if c.kind in ("set", "revised") else None
    return ChangeRow(c.position, c.recorded_at, c.actor, f"{c.item} {c.kind}", c.pupil_id, None, None, c.item_id,
                     None, after, c.reason)


def figure_events(ledger: Ledger, lo: int, hi: int, year: str | None = None) -> list["AuditLine"]:
    """This school's historic aggregate figures events at positions lo..hi (for one year, if given)."""
    if hi < lo:
        return []
    found = []
    for e in ledger.read_model.audit(event_types=list(FIGURES_EVENTS)):
        school = e.stream_id.partition("/")[0] if "/" in e.stream_id else ""
        if lo <= e.position <= hi and school == ledger.school:
            line = AuditLine(e, summarise(e.event_type, e.payload))
            if year is None or line.payload.get("year") == year:
                found.append(line)
    return found


def _figures_row(f: "AuditLine") -> ChangeRow:
    d = f.payload
    kind = "revised" if f.entry.event_type.endswith("Revised") else "recorded"
    after = f"{len(d.get('classes') or [])} classes from {d.get('source')}"
    return ChangeRow(f.entry.position, f.entry.recorded_at, f.entry.actor, f"figures {kind}", None, d.get("year"),
                     None, None, None, after, d.get("reason"))


# -- compare -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PupilChange:
    """One pupil's judgement for one term, as it stood at each moment, and the events in between."""

    pupil_id: str
    term: str
    before_status: str | None
    before_class: str | None
    after_status: str | None
    after_class: str | None
    events: list[JudgementChange]

    @property
    def net(self) -> bool:
        """Whether the judgement in force differs between the two moments."""
        return (self.before_status, self.before_class) != (self.after_status, self.after_class)

    def touches(self, class_id: str, term_label: str) -> bool:
        return self.term.endswith("/" + term_label) and class_id in (self.before_class, self.after_class)


@dataclass(frozen=True)
class CompareRow:
    phase: str
    class_id: str
    label: str
    cells: dict[str, tuple[Cell, Cell]]  # term label -> (cell at A, cell at B)


@dataclass(frozen=True)
class Comparison:
    year: str
    a: Report
    b: Report
    rows: list[CompareRow]
    phase_totals: dict[str, dict[str, tuple[Counts, Counts]]]
    totals: dict[str, tuple[Counts, Counts]]
    pupil_changes: list[PupilChange]
    class_changes: list[ClassChange] = field(default_factory=list)
    figure_events: list["AuditLine"] = field(default_factory=list)  # a year kept as historic aggregate figures

    @property
    def terms(self) -> list[str]:
        return list(self.totals)

    def differences(self) -> list[tuple[str, str]]:
        """(class id, term label) of every class cell that differs, in report order."""
        return [(r.class_id, t) for r in self.rows for t, (a, b) in r.cells.items() if cell_differs(a, b)]

    def explain(self, class_id: str, term_label: str) -> list[PupilChange]:
        """The pupils whose judgement in force changed in this cell between the two moments."""
        return [p for p in self.pupil_changes if p.net and p.touches(class_id, term_label)]

    def class_events(self, class_id: str) -> list[ClassChange]:
        return [c for c in self.class_changes if c.class_id == class_id]


def cell_differs(a: Cell, b: Cell) -> bool:
    """Cells differ when what the report shows differs: the state or either count (not ``unjudged``,
    which also moves with the date as the term goes on)."""
    return (a.state, a.appropriate, a.smaller_steps) != (b.state, b.appropriate, b.smaller_steps)


def compare(ledger: Ledger, year: str, as_ats: tuple[str, ...] = (), positions: tuple[int, ...] = ()) -> Comparison:
    """The report at two moments (in time order, whatever order they were given in)."""
    academic_year = AcademicYear.parse(year)
    if len(as_ats) + len(positions) != 2:
        raise InvalidInput("compare needs exactly two moments: --as-at twice, --position twice, or one of each")
    moments = [resolve_moment(ledger, a, None) for a in as_ats] + [resolve_moment(ledger, None, p) for p in positions]
    (pa, ia), (pb, ib) = sorted(moments, key=lambda m: (m[0], m[1]))
    model = ledger.read_model
    ra = model.report(academic_year.start_year, pa, ia, ledger.timezone_name)
    rb = model.report(academic_year.start_year, pb, ib, ledger.timezone_name)
    rows, phase_totals = _side_by_side(ra, rb)
    totals = {t: (ra.totals.get(t, Counts()), rb.totals.get(t, Counts())) for t in rb.totals}
    events = model.judgement_changes(pa + 1, pb, academic_year.start_year) if pb > pa else []
    class_events = model.class_changes(pa + 1, pb) if pb > pa else []
    figures = figure_events(ledger, pa + 1, pb, str(academic_year))
    return Comparison(str(academic_year), ra, rb, rows, phase_totals, totals, _pupil_changes(events), class_events,
                      figures)


def _side_by_side(ra: Report, rb: Report) -> tuple[list[CompareRow], dict[str, dict[str, tuple[Counts, Counts]]]]:
    closed = Cell("not_open")
    order: OrderedDict[str, OrderedDict[str, tuple[str, dict[str, Cell], dict[str, Cell]]]] = OrderedDict()
    for side, report in ((1, rb), (0, ra)):
        for block in report.phases:
            phase = order.setdefault(block.phase, OrderedDict())
            for row in block.classes:
                label, a_cells, b_cells = phase.get(row.class_id, (row.label, {}, {}))
                (b_cells if side else a_cells).update(row.terms)
                phase[row.class_id] = (label, a_cells, b_cells)
    terms = list(rb.totals)
    rows = [
        CompareRow(phase, class_id, label, {t: (a.get(t, closed), b.get(t, closed)) for t in terms})
        for phase, classes in order.items() for class_id, (label, a, b) in classes.items()
    ]
    a_totals = {p.phase: p.totals for p in ra.phases}
    b_totals = {p.phase: p.totals for p in rb.phases}
    phase_totals = {
        phase: {t: (a_totals.get(phase, {}).get(t, Counts()), b_totals.get(phase, {}).get(t, Counts())) for t in terms}
        for phase in order
    }
    return rows, phase_totals


def _pupil_changes(events: list[JudgementChange]) -> list[PupilChange]:
    """Group judgement events by pupil and term: before is what the first event replaced, after the last."""
    grouped: OrderedDict[tuple[str, str], list[JudgementChange]] = OrderedDict()
    for e in events:
        grouped.setdefault((e.pupil_id, e.term), []).append(e)
    out = []
    for (pupil_id, term), evs in grouped.items():
        first, last = evs[0], evs[-1]
        out.append(PupilChange(pupil_id, term, first.previous_status, first.previous_class, last.status,
                               last.class_id, evs))
    return sorted(out, key=lambda p: (p.term, p.pupil_id))


# -- trend ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrendPoint:
    term: str  # 2023-24/T1
    state: str  # recorded, not_recorded or not_open
    appropriate: int = 0
    smaller_steps: int = 0

    @property
    def percent(self) -> float | None:
        return Counts(self.appropriate, self.smaller_steps).percent_appropriate


@dataclass(frozen=True)
class TrendLine:
    scope: str  # school, phase or class
    name: str  # the class id, the phase, or "Whole school"
    label: str
    phase: str | None
    points: list[TrendPoint]


@dataclass(frozen=True)
class Trend:
    as_at: datetime
    position: int
    terms: list[str]
    lines: list[TrendLine]
    notes: list[str] = field(default_factory=list)


def trend(ledger: Ledger, class_id: str | None = None, phase: str | None = None, as_at: str | None = None,
          position: int | None = None) -> Trend:
    """Appropriate progress per term for every year in the ledger: whole school, phases and classes.

    The years are those with judgements (or any other yearly figures the projection holds) and each
    year's figures are exactly ``report --year`` for that year at the same moment.
    """
    if class_id and phase:
        raise InvalidInput("give --class or --phase, not both")
    pos, instant = resolve_moment(ledger, as_at, position)
    model = ledger.read_model
    reports = [model.report(y, pos, instant, ledger.timezone_name) for y in model.years(pos)]
    reports = [r for r in reports if any(c.appropriate + c.smaller_steps for c in r.totals.values())]
    known = {row.class_id: block.phase for r in reports for block in r.phases for row in block.classes}
    known.update(model.class_phases(pos))
    if class_id is not None and class_id not in known:
        raise NotFound(f"no class '{class_id}' in the ledger as it stood at position {pos}")
    if phase is not None:
        phase = _match_phase(phase, list(dict.fromkeys(known.values())), pos)
    terms = [f"{r.year}/{t}" for r in reports for t in r.totals]
    notes = [note if r.year in note else f"{r.year}: {note}" for r in reports for note in _report_notes(r)]

    school: list[TrendPoint] = []
    phases: OrderedDict[str, list[TrendPoint]] = OrderedDict()
    classes: OrderedDict[str, tuple[str, str, dict[str, TrendPoint]]] = OrderedDict()
    for r in reports:
        for t, counts in r.totals.items():
            school.append(_total_point(f"{r.year}/{t}", counts, bool(r.phases)))
        for block in r.phases:
            phases.setdefault(block.phase, [])
            for row in block.classes:
                label = classes.get(row.class_id, (block.phase, row.label, {}))[1]
                points = classes.setdefault(row.class_id, (block.phase, label, {}))[2]
                for t, cell in row.terms.items():
                    points[f"{r.year}/{t}"] = TrendPoint(f"{r.year}/{t}", cell.state, cell.appropriate, cell.smaller_steps)
    for name in phases:
        for r in reports:
            block = next((b for b in r.phases if b.phase == name), None)
            for t in r.totals:
                opened = block is not None and any(row.terms[t].state != "not_open" for row in block.classes)
                counts = block.totals.get(t, Counts()) if block is not None else Counts()
                phases[name].append(_total_point(f"{r.year}/{t}", counts, opened))

    lines: list[TrendLine] = []
    if class_id is None and phase is None:
        lines.append(TrendLine("school", "Whole school", "Whole school", None, school))
    for name, points in phases.items():
        if class_id is None and phase in (None, name):
            lines.append(TrendLine("phase", name, name, name, points))
        for cid, (cphase, label, cpoints) in classes.items():
            if cphase != name or (class_id is not None and cid != class_id) or (phase is not None and phase != name):
                continue
            lines.append(TrendLine("class", cid, label, cphase,
                                   [cpoints.get(t, TrendPoint(t, "not_open")) for t in terms]))
    return Trend(instant, pos, terms, lines, notes)


def _match_phase(text: str, phases: list[str], position: int) -> str:
    """The phase group named, or the one group holding every key stage named (KS3 finds KS3/KS4)."""
    wanted = normalise_phase(text)
    if wanted in phases:
        return wanted
    parts = set(wanted.split("/"))
    holding = [p for p in phases if parts <= set(p.split("/"))]
    if len(holding) == 1:
        return holding[0]
    if holding:
        raise InvalidInput(f"phase '{text}' matches {', '.join(holding)}; give one of them")
    raise NotFound(f"no class in phase '{wanted}' in the ledger as it stood at position {position}"
                   + (f"; its phases are {', '.join(phases)}" if phases else ""))


def _total_point(term: str, counts: Counts, opened: bool) -> TrendPoint:
    state = "recorded" if counts.appropriate + counts.smaller_steps else ("not_recorded" if opened else "not_open")
    return TrendPoint(term, state, counts.appropriate, counts.smaller_steps)


def _report_notes(report: Report) -> list[str]:
    """The note a year's report carries (e.g. that its figures are the school's historic aggregates)."""
    note = getattr(report, "note", None)
    if note:
        return [note]
    if getattr(report, "source", "events") == "aggregate":
        return ["historic aggregate figures (counts per class, no pupil-level records)"]
    return []


# -- smaller steps -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmallerSteps:
    term: str
    class_id: str | None
    as_at: datetime
    position: int
    judged: int  # pupils with a judgement in force for the term (in the class, if one is given)
    groups: list[ReasonGroup]

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)


def smaller_steps(ledger: Ledger, term: Term, class_id: str | None = None, as_at: str | None = None,
                  position: int | None = None) -> SmallerSteps:
    pos, instant = resolve_moment(ledger, as_at, position)
    model = ledger.read_model
    if class_id is not None and class_id not in model.class_phases(pos):
        raise NotFound(f"no class '{class_id}' in the ledger as it stood at position {pos}")
    in_force = model.judgements_in_force(pos, term.year.start_year, term.number)
    judged = sum(1 for j in in_force if class_id is None or j.class_id == class_id)
    groups = model.smaller_steps(pos, term.year.start_year, term.number, class_id)
    return SmallerSteps(str(term), class_id, instant, pos, judged, groups)


# -- audit ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditLine:
    entry: AuditEntry
    summary: str

    @property
    def payload(self) -> dict:
        return json.loads(self.entry.payload) if self.entry.payload else {}


@dataclass(frozen=True)
class Audit:
    actor: str | None
    since: datetime | None
    until: datetime | None
    event_types: tuple[str, ...]
    lines: list[AuditLine]


def audit(ledger: Ledger, actor: str | None = None, since: str | None = None, until: str | None = None,
          event_types: tuple[str, ...] = ()) -> Audit:
    """The whole log, oldest first, filtered by who, when (both ends inclusive) and event type."""
    model = ledger.read_model
    start = parse_start(since, ledger) if since is not None else None
    end = parse_end(until, ledger) if until is not None else None
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"--since {since} is after --until {until}: give the earlier moment first")
    if actor is not None and actor not in model.actors():
        raise NotFound(f"'{actor}' has never written to this ledger and is not a member of its staff")
    entries = model.audit(actor, start, end, list(event_types) or None)
    return Audit(actor, start, end, tuple(event_types), [AuditLine(e, summarise(e.event_type, e.payload)) for e in entries])


def _one_line(text: object, limit: int = 400) -> str:
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _why(d: dict, key: str = "reason") -> str:
    return f": {d[key]}" if d.get(key) else ""


_SUMMARIES = {
    "LedgerCreated": lambda d: f"ledger created for {d.get('school')} (time zone {d.get('timezone')})",
    "StaffRegistered": lambda d: f"{d.get('staff_id')} registered as {d.get('role')}",
    "ClassOpened": lambda d: (f"class {d.get('class_id')}" + (f" ({d['mark']})" if d.get("mark") else "")
                              + f" opened in {d.get('phase')} from {d.get('from_term')}"),
    "ClassClosed": lambda d: f"class {d.get('class_id')} closed after {d.get('after_term')}",
    "PupilEnrolled": lambda d: f"{d.get('pupil_id')} enrolled in {d.get('class_id')} on {d.get('on')}",
    "PupilMoved": lambda d: f"{d.get('pupil_id')} moved {d.get('from_class')} -> {d.get('to_class')} on {d.get('on')}",
    "PupilLeft": lambda d: f"{d.get('pupil_id')} left {d.get('class_id')}; last day {d.get('on')}",
    "JudgementRecorded": lambda d: f"{d.get('pupil_id')} {d.get('term')} {d.get('class_id')}: {d.get('status')}{_why(d)}",
    "JudgementRevised": lambda d: (f"{d.get('pupil_id')} {d.get('term')} {d.get('class_id')}: "
                                   f"{d.get('previous_status')} -> {d.get('status')} "
                                   f"(revises position {d.get('supersedes_position')}){_why(d)}"),
    "TermDatesSet": lambda d: f"{d.get('term')}: {d.get('start')} to {d.get('end')}",
    "FrameworkDefined": lambda d: f"framework {d.get('framework_id')} '{d.get('name')}': {len(d.get('stages') or [])} stages",
    "OutcomeSet": lambda d: f"outcome {d.get('outcome_id')} for {d.get('pupil_id')} ({d.get('area')})",
    "OutcomeRevised": lambda d: f"outcome {d.get('outcome_id')} revised ({d.get('area')}){_why(d)}",
    "OutcomeClosed": lambda d: f"outcome {d.get('outcome_id')} closed{_why(d)}",
    "TargetSet": lambda d: (f"target {d.get('target_id')} for {d.get('pupil_id')} on {d.get('framework_id')}, "
                            f"{', '.join(d.get('terms') or [])}"),
    "TargetApproved": lambda d: f"target {d.get('target_id')} ({d.get('pupil_id')}) approved",
    "TargetRevised": lambda d: f"target {d.get('target_id')} ({d.get('pupil_id')}) revised, {', '.join(d.get('terms') or [])}{_why(d)}",
    "TargetWithdrawn": lambda d: f"target {d.get('target_id')} ({d.get('pupil_id')}) withdrawn{_why(d)}",
    "StageRecorded": lambda d: (f"{d.get('pupil_id')} {d.get('target_id')}: {d.get('stage')} on {d.get('achieved_on')}"
                                + (f" (reason{_why(d)})" if d.get("reason") else "")),
    "HistoricFiguresRecorded": lambda d: (f"historic aggregate figures for {d.get('year')} from {d.get('source')}: "
                                          f"{len(d.get('classes') or [])} classes"),
    "HistoricFiguresRevised": lambda d: (f"historic aggregate figures for {d.get('year')} replaced from {d.get('source')}: "
                                         f"{len(d.get('classes') or [])} classes{_why(d)}"),
}


def summarise(event_type: str, payload: str) -> str:
    """One line saying what an event recorded (any event type: unknown ones list their fields)."""
    try:
        data = json.loads(payload) if payload else {}
    except ValueError:
        return _one_line(payload)
    if not isinstance(data, dict):
        return _one_line(data)
    describe = _SUMMARIES.get(event_type)
    if describe is not None:
        try:
            return _one_line(describe(data))
        except (TypeError, KeyError):
            pass
    return _one_line("; ".join(f"{k}={v}" for k, v in sorted(data.items())))


# -- export for the MIS --------------------------------------------------------------------------
@dataclass(frozen=True)
class JudgementExport:
    year: str
    as_at: datetime
    position: int
    rows: list[JudgementView]


def export_judgements(ledger: Ledger, year: str, as_at: str | None = None, position: int | None = None
                      ) -> JudgementExport:
    """Every pupil's judgement in force for each term of the year, as the ledger stood then; the
    columns are those ``import judgements`` reads, so the file imports back unchanged."""
    academic_year = AcademicYear.parse(year)
    pos, instant = resolve_moment(ledger, as_at, position)
    rows = ledger.read_model.judgements_in_force(pos, academic_year.start_year)
    rows.sort(key=lambda j: (j.term, j.class_id, j.pupil_id))
    return JudgementExport(str(academic_year), instant, pos, rows)
