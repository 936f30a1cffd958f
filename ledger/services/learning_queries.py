"""Reads over the learning record: the termly review, a pupil's page, target movement per class."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from ledger.domain.calendar import AcademicYear, Term, local_date
from ledger.errors import NotFound
from ledger.readmodel import JudgementView, OutcomeView, ReadModel, Report, TargetView, TermProgress
from ledger.services.context import Ledger
from ledger.services.queries import known_pupil, resolve_moment


@dataclass(frozen=True)
class ReviewLine:
    pupil_id: str
    class_id: str
    status: str | None
    reason: str | None
    targets: int
    approved: int
    moved_up: int
    regressed: int
    not_moved: int
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Review:
    term: str
    class_id: str | None
    as_at: datetime
    position: int
    lines: list[ReviewLine]

    @property
    def smaller_steps(self) -> list[ReviewLine]:
        return [line for line in self.lines if line.status == "smaller-steps"]

    @property
    def flagged(self) -> list[ReviewLine]:
        return [line for line in self.lines if line.flags]


@dataclass(frozen=True)
class PupilPage:
    pupil_id: str
    as_at: datetime
    position: int
    current_class: str | None
    outcomes: list[OutcomeView]
    targets: list[TargetView]
    judgements: list[JudgementView]


def _term_window(ledger: Ledger, term: Term, position: int) -> tuple:
    dates = ledger.read_model.term_dates(position, term.year.start_year)
    return dates[term.number]


def _reference_day(start, end, instant: datetime, ledger: Ledger):  # noqa: ANN001, ANN202
    today = local_date(instant, ledger.tz)
    return start if today < start else min(end, today)


def review(ledger: Ledger, term: Term, class_id: str | None = None, as_at: str | None = None,
           position: int | None = None) -> Review:
    pos, instant = resolve_moment(ledger, as_at, position)
    model = ledger.read_model
    if class_id is not None and class_id not in model.class_phases(pos):  # as smaller-steps and trend say it
        raise NotFound(f"no class '{class_id}' in the ledger as it stood at position {pos}")
    start, end = _term_window(ledger, term, pos)
    roll = model.roll_on(pos, _reference_day(start, end, instant, ledger))
    judged = {j.pupil_id: j for j in model.judgements_in_force(pos, term.year.start_year, term.number)}
    pupils = {p: c for p, c in roll.items()}
    pupils.update({p: j.class_id for p, j in judged.items()})
    progress: dict[str, list[TermProgress]] = defaultdict(list)
    year = term.year
    for row in model.term_progress(pos, term.key, start, end, year.first_day, year.last_day):
        progress[row.pupil_id].append(row)
    thin = _thin_records(model, pos, term, end) if term.number == 3 else {}
    lines = []
    for pupil_id in sorted(pupils):
        klass = pupils[pupil_id]
        if class_id and klass != class_id:
            continue
        lines.append(_review_line(pupil_id, klass, judged.get(pupil_id), progress[pupil_id], term,
                                  thin.get(pupil_id, [])))
    return Review(str(term), class_id, instant, pos, lines)


def _thin_records(model: ReadModel, pos: int, term: Term, end: date) -> dict[str, list[str]]:
    """Per pupil, the approved targets set for any term of the year (not only those still running in
    the summer) whose record shows fewer than 3 distinct stages by the end of the year."""
    year, terms = term.year, {str(t) for t in term.year.terms()}
    last = min(end, year.last_day)
    thin: dict[str, list[str]] = defaultdict(list)
    for t in model.targets(pos, with_stages=True):
        if t.approved and not t.withdrawn and terms & set(t.terms):
            if len({s.stage_index for s in t.stages if year.first_day <= s.achieved_on <= last}) < 3:
                thin[t.pupil_id].append(t.target_id)
    return thin


def _review_line(pupil_id: str, klass: str, judgement: JudgementView | None, rows: list[TermProgress],
                 term: Term, thin: list[str]) -> ReviewLine:
    approved = [r for r in rows if r.approved]
    moved = [r for r in approved if r.moved_up]
    regressed = [r for r in approved if r.regressed]
    flags = []
    if judgement is None:
        flags.append(f"on roll with no judgement for {term}")
    elif judgement.status == "appropriate" and not moved:
        flags.append("judged appropriate but no stage progress recorded this term")
    if not approved:
        flags.append(f"no approved targets for {term}")
    waiting = [r.target_id for r in rows if not r.approved]
    if waiting:
        flags.append(f"{len(waiting)} target(s) awaiting approval: {', '.join(waiting)}")
    if thin:
        flags.append(f"fewer than 3 distinct stages recorded this year: {', '.join(thin)}")
    return ReviewLine(
        pupil_id, klass, judgement.status if judgement else None, judgement.reason if judgement else None,
        len(rows), len(approved), len(moved), len(regressed), len(approved) - len(moved) - len(regressed), flags,
    )


def pupil_page(ledger: Ledger, pupil_id: str, as_at: str | None = None, position: int | None = None) -> PupilPage:
    pos, instant = resolve_moment(ledger, as_at, position)
    pupil_id = known_pupil(ledger, pupil_id)
    model = ledger.read_model
    current = model.roll_on(pos, local_date(instant, ledger.tz)).get(pupil_id)
    return PupilPage(
        pupil_id, instant, pos, current, model.outcomes(pos, pupil_id),
        model.targets(pos, pupil_id, with_stages=True), model.judgements_in_force(pos, pupil_id=pupil_id),
    )


def with_target_moves(ledger: Ledger, report: Report) -> Report:
    """Add, per class and term, how many approved targets of the judged pupils moved up a stage."""
    model = ledger.read_model
    year = AcademicYear.parse(report.year)
    moves: dict[tuple[str, str], tuple[int, int]] = {}
    for term in year.terms():
        start, end = _term_window(ledger, term, report.position)
        judged = {j.pupil_id: j.class_id for j in model.judgements_in_force(report.position, year.start_year, term.number)}
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for row in model.term_progress(report.position, term.key, start, end, year.first_day, year.last_day):
            klass = judged.get(row.pupil_id)
            if klass is None or not row.approved:
                continue
            tally[klass][0] += int(row.moved_up)
            tally[klass][1] += 1
        for klass, (moved, total) in tally.items():
            moves[(klass, term.label)] = (moved, total)
    return replace(report, target_moves=moves)
