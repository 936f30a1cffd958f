"""Reads: the termly report, a pupil's judgement history, and verifying the hash chain."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.domain.calendar import AcademicYear, Term, parse_instant
from ledger.domain.pupils import require_known
from ledger.errors import InvalidInput, TamperingFound
from ledger.events import check_id
from ledger.readmodel import HistoryRow, Report
from ledger.services.context import Ledger
from ledger.store.chain import verify_chain


def resolve_moment(ledger: Ledger, as_at: str | None, position: int | None) -> tuple[int, datetime]:
    """``--as-at`` or ``--position`` as a (position, instant) pair; neither means now."""
    model = ledger.read_model
    head = ledger.store.head().position
    if as_at is not None and position is not None:
        raise InvalidInput("give --as-at or --position, not both")
    if position is not None:
        if position < 0 or position > head:
            raise InvalidInput(f"position {position} is outside the ledger (positions 0 to {head})")
        if position:
            when = model.recorded_at(position)
        else:  # before the first event: the ledger as it stood just before it was created
            first = model.recorded_at(1) if head else None
            when = first - timedelta(microseconds=1) if first else None
        return position, when or ledger.now()
    if as_at is not None:
        instant = parse_instant(as_at, ledger.tz)
        return model.position_at(instant), instant
    return head, ledger.now()


def report(ledger: Ledger, year: str, as_at: str | None = None, position: int | None = None) -> Report:
    academic_year = AcademicYear.parse(year)
    pos, instant = resolve_moment(ledger, as_at, position)
    return ledger.read_model.report(academic_year.start_year, pos, instant, ledger.timezone_name)


def history(
    ledger: Ledger, pupil_id: str, term: Term | None = None, as_at: str | None = None, position: int | None = None
) -> list[HistoryRow]:
    pos, _ = resolve_moment(ledger, as_at, position)
    pupil_id = known_pupil(ledger, pupil_id)
    return ledger.read_model.history(pupil_id, str(term) if term else None, pos)


def known_pupil(ledger: Ledger, pupil_id: str) -> str:
    """The pupil id, trimmed, if the ledger holds that pupil now (NotFound otherwise).

    Asked of the ledger as it is now, not at ``--as-at``: a pupil enrolled later simply had nothing
    recorded then, which is an empty answer, while an id the ledger has never held is a typo."""
    pupil_id = check_id("pupil_id", pupil_id)
    require_known(ledger.pupil(pupil_id)[1])
    return pupil_id


def verify(ledger: Ledger) -> int:
    """The number of events, or ``TamperingFound`` naming the first position that fails."""
    ledger.require_initialised()
    store = ledger.store
    head = store.recorded_head()
    # Read only up to the head taken first, so appends made while we walk are not mistaken for tampering.
    count = verify_chain(store.read_all(limit=head[0]), head)
    last, again = store.head().position, store.recorded_head()
    if last > again[0]:
        raise TamperingFound(again[0] + 1, "event was added behind the store's back (after the recorded head)")
    return count
