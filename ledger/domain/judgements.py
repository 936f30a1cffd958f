"""Termly judgements: appropriate progress or smaller steps, and revisions of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.domain.calendar import Term
from ledger.domain.classes import ClassState, require_open
from ledger.domain.pupils import PupilState
from ledger.errors import InvalidInput, NotFound
from ledger.events import STATUSES, Event, build, JudgementRecorded, JudgementRevised, visible_length


@dataclass(frozen=True)
class JudgementState:
    """The judgement in force for one pupil and term, and the position of the event that set it."""

    status: str
    class_id: str
    reason: str | None
    position: int


def fold_judgement(events: list[tuple[int, Event]]) -> JudgementState | None:
    state = None
    for position, e in events:
        if isinstance(e, (JudgementRecorded, JudgementRevised)):
            state = JudgementState(e.status, e.class_id, e.reason, position)
    return state


def check_status(status: str, reason: str | None) -> str:
    if status not in STATUSES:
        raise InvalidInput(f"status '{status}' is not valid; use appropriate or smaller-steps")
    if status == "smaller-steps" and not visible_length(reason):  # zero-width spaces are no reason
        raise InvalidInput("a smaller-steps judgement needs a reason (--reason, or the reason column)")
    return status


def judged_class(
    pupil: PupilState,
    term: Term,
    term_dates: tuple[date, date],
    class_id: str | None,
    class_state: ClassState | None,
) -> str:
    """The class the judgement belongs to; the pupil must be on its roll during the term."""
    first, last = term_dates
    if class_id is None:
        class_id = pupil.class_at_end_of(first, last)
        if class_id is None:
            raise InvalidInput(f"pupil {pupil.pupil_id} is not on the roll of any class in {term}")
    require_open(class_state, class_id, term)
    if not any(p.class_id == class_id for p in pupil.classes_during(first, last)):
        raise InvalidInput(f"pupil {pupil.pupil_id} is not on the roll of {class_id} in {term} ({first} to {last})")
    return class_id


def decide_record(
    existing: JudgementState | None,
    pupil_id: str,
    term: Term,
    term_start: date,
    today: date,
    class_id: str,
    status: str,
    reason: str | None,
) -> JudgementRecorded:
    if existing is not None:
        raise InvalidInput(
            f"pupil {pupil_id} already has a judgement for {term} ({existing.status}); "
            "use 'ledger judgement revise' to change it"
        )
    if today < term_start:
        raise InvalidInput(f"{term} has not started yet (it starts {term_start}); judgements come at the end of a term")
    check_status(status, reason)
    return build(JudgementRecorded, 
        pupil_id=pupil_id, term=str(term), class_id=class_id, status=status, reason=(reason or "").strip() or None
    )


def decide_revise(
    existing: JudgementState | None, pupil_id: str, term: Term, status: str, reason: str | None
) -> JudgementRevised:
    if existing is None:
        raise NotFound(
            f"pupil {pupil_id} has no judgement for {term} to revise; record one with 'ledger judgement record'"
        )
    if not visible_length(reason):
        raise InvalidInput("a revision needs a reason for the change (--reason)")
    check_status(status, "revision" if status == "smaller-steps" else None)
    if status == existing.status:
        raise InvalidInput(f"pupil {pupil_id}'s judgement for {term} is already {status}; nothing to revise")
    return build(JudgementRevised, 
        pupil_id=pupil_id, term=str(term), class_id=existing.class_id, status=status,
        previous_status=existing.status, reason=(reason or "").strip(), supersedes_position=existing.position,
    )
