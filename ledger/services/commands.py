"""Single writes: creating the ledger, staff, classes, term dates and one judgement at a time."""

from __future__ import annotations

import json
from datetime import date

from ledger.domain.calendar import DEFAULT_TIMEZONE, AcademicYear, Term, zone
from ledger.domain.classes import check_empty_after, decide_close, decide_open, normalise_phase
from ledger.domain.figures import refuse_if_aggregate
from ledger.domain.horizon import check_term_ahead
from ledger.domain.judgements import decide_record, decide_revise, judged_class
from ledger.domain.staff import Action, decide_register
from ledger.errors import InvalidInput, StoreError
from ledger.events import (
    ClassClosed, ClassOpened, LedgerCreated, PupilEnrolled, PupilMoved, StaffRegistered, TermDatesSet, build,
    calendar_stream, check_id, class_stream, judgement_stream, ledger_stream, pupil_stream, staff_stream,
)
from ledger.figures_events import figures_stream
from ledger.services.context import Ledger
from ledger.store.mapper import StoredEvent


def init(ledger: Ledger, *, school: str = "School", timezone: str = DEFAULT_TIMEZONE) -> list[StoredEvent]:
    """Create the schema and register the actor as the first member of staff (data-manager)."""
    if not ledger.actor:
        raise InvalidInput("init needs --actor: the staff id of the data manager creating the ledger")
    zone(timezone)
    created = build(LedgerCreated, school=school, timezone=timezone)
    first = build(StaffRegistered, staff_id=ledger.actor, role="data-manager")
    if ledger.store.is_initialised():
        if ledger.stream(ledger_stream())[0] > 0:
            school = f" for school {ledger.school}" if ledger.school else ""
            raise StoreError(f"{ledger.store.url} is already a ledger{school}; nothing was changed")
    else:
        ledger.store.create_schema()
    return ledger.append(
        [ledger.write(ledger_stream(), 0, [created]), ledger.write(staff_stream(ledger.actor), 0, [first])]
    )


def add_staff(ledger: Ledger, staff_id: str, role: str) -> list[StoredEvent]:
    ledger.authorise(Action.ADD_STAFF)
    event = build(StaffRegistered, staff_id=staff_id, role=role)
    if (done := ledger.replay(staff_stream(event.staff_id))) is not None:
        return done
    version, existing = ledger.staff(event.staff_id)
    decide_register(existing, event.staff_id, role)
    return ledger.append([ledger.write(staff_stream(event.staff_id), version, [event])])


def open_class(
    ledger: Ledger, class_id: str, phase: str, mark: str | None = None, from_term: Term | None = None
) -> list[StoredEvent]:
    ledger.authorise(Action.MANAGE_SCHOOL)
    term = check_term_ahead(from_term or ledger.current_term(), ledger.today(), "a class can open from")
    event = build(
        ClassOpened, class_id=class_id, phase=normalise_phase(phase),
        mark=(mark or "").strip() or None, from_term=str(term),
    )
    if (done := ledger.replay(class_stream(event.class_id))) is not None:
        return done
    version, existing = ledger.klass(event.class_id)
    decide_open(existing, event.class_id)
    return ledger.append([ledger.write(class_stream(event.class_id), version, [event])])


def close_class(ledger: Ledger, class_id: str, after: Term) -> list[StoredEvent]:
    ledger.authorise(Action.MANAGE_SCHOOL)
    if (done := ledger.replay(class_stream(class_id))) is not None:
        return done
    version, existing = ledger.klass(class_id)
    decide_close(existing, class_id, after)
    check_term_ahead(after, ledger.today(), "a class can close after")
    check_empty_after(class_id, after, *_left_in_class(ledger, class_id, after))
    event = build(ClassClosed, class_id=class_id, after_term=str(after))
    return ledger.append([ledger.write(class_stream(class_id), version, [event])])


def _left_in_class(ledger: Ledger, class_id: str, after: Term) -> tuple[list[Term], list[str]]:
    """The terms of the class's judgements after ``after``, and the pupils on its roll after it.

    A pupil is still on the roll when their placement in the class reaches the first day of the next
    term (a move in the holiday after the term is in time). No stream lists a class's pupils, so the
    projection's log names those ever placed in it and their own streams say where they are now."""
    model = ledger.read_model
    position = ledger.store.head().position
    judged = [
        term for j in model.judgements_in_force(position)
        if j.class_id == class_id and (term := Term.parse(j.term)) > after
    ]
    pupils = ledger.scoped(pupil_stream(""))
    placed = set()
    for entry in model.audit(event_types=[PupilEnrolled.type_name, PupilMoved.type_name]):
        if entry.stream_id.startswith(pupils) and f'"{class_id}"' in entry.payload:
            data = json.loads(entry.payload)
            if class_id in (data.get("class_id"), data.get("to_class")):
                placed.add(data["pupil_id"])
    first_after = _first_day_after(ledger, after)
    with ledger.preloaded(pupil_stream(p) for p in placed):
        staying = sorted(
            p for p in placed
            if any(pl.class_id == class_id and pl.overlaps(first_after, date.max) for pl in ledger.pupil(p)[1].placements)
        )
    return judged, staying


def _first_day_after(ledger: Ledger, term: Term) -> date:
    """The first day of the term after ``term``, in the school's own dates where it has set them."""
    following = Term(term.year, term.number + 1) if term.number < 3 else Term(AcademicYear(term.year.start_year + 1), 1)
    return ledger.calendar(following.year)[1].dates(following)[0]


def set_term_dates(ledger: Ledger, term: Term, start: date, end: date) -> list[StoredEvent]:
    ledger.authorise(Action.MANAGE_SCHOOL)
    check_term_ahead(term, ledger.today(), "term dates can be set for")
    version, calendar = ledger.calendar(term.year)
    if calendar.dates(term) == (start, end):
        return []
    calendar.check_new_dates(term, start, end)
    event = build(TermDatesSet, term=str(term), start=start, end=end)
    return ledger.append([ledger.write(calendar_stream(str(term.year)), version, [event])])


def record_judgement(
    ledger: Ledger, pupil_id: str, term: Term, status: str, reason: str | None = None,
    class_id: str | None = None,
) -> list[StoredEvent]:
    ledger.authorise(Action.RECORD_JUDGEMENT)
    pupil_id = check_id("pupil_id", pupil_id)  # a name typed by mistake is refused as one
    if (done := ledger.replay(judgement_stream(pupil_id, str(term)))) is not None:
        return done
    refuse_if_aggregate(term.year, ledger.stream(figures_stream(str(term.year)))[0])
    _, pupil = ledger.pupil(pupil_id)
    if not pupil.placements:
        raise InvalidInput(f"pupil {pupil_id} is not on the roll; import them first with 'ledger import pupils'")
    _, calendar = ledger.calendar(term.year)
    dates = calendar.dates(term)
    chosen = class_id or pupil.class_at_end_of(*dates)
    _, class_state = ledger.klass(chosen or "")
    chosen = judged_class(pupil, term, dates, class_id, class_state)
    version, existing = ledger.judgement(pupil_id, term)
    event = decide_record(existing, pupil_id, term, dates[0], ledger.today(), chosen, status, reason)
    return ledger.append([ledger.write(judgement_stream(pupil_id, str(term)), version, [event])])


def revise_judgement(
    ledger: Ledger, pupil_id: str, term: Term, status: str, reason: str | None
) -> list[StoredEvent]:
    ledger.authorise(Action.REVISE_JUDGEMENT)
    pupil_id = check_id("pupil_id", pupil_id)
    if (done := ledger.replay(judgement_stream(pupil_id, str(term)))) is not None:
        return done
    version, existing = ledger.judgement(pupil_id, term)
    event = decide_revise(existing, pupil_id, term, status, reason)
    return ledger.append([ledger.write(judgement_stream(pupil_id, str(term)), version, [event])])
