"""Pupils on the roll: enrolments, class moves and leavings, as dated placements.

A placement runs from its first day to its last day inclusive. A move on day D ends the old
placement on D-1 and starts the new one on D; leaving on day L makes L the last day on roll.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from ledger.errors import InvalidInput, NotFound
from ledger.events import Event, build, PupilEnrolled, PupilLeft, PupilMoved


@dataclass(frozen=True)
class Placement:
    class_id: str
    start: date
    last_day: date | None = None
    ended_by_leaving: bool = False

    def overlaps(self, first: date, last: date) -> bool:
        return self.start <= last and (self.last_day is None or self.last_day >= first)


@dataclass(frozen=True)
class PupilState:
    pupil_id: str
    placements: tuple[Placement, ...] = field(default_factory=tuple)

    @property
    def current(self) -> Placement | None:
        return self.placements[-1] if self.placements else None

    def classes_during(self, first: date, last: date) -> list[Placement]:
        return [p for p in self.placements if p.overlaps(first, last)]

    def class_at_end_of(self, first: date, last: date) -> str | None:
        """The class the pupil was in on the last day they were on roll within the period."""
        during = self.classes_during(first, last)
        return during[-1].class_id if during else None


def require_known(state: PupilState) -> PupilState:
    """A pupil the ledger holds: an unknown id is a typo, not a pupil with nothing recorded yet."""
    if not state.placements:
        raise NotFound(
            f"no pupil {state.pupil_id} in the ledger; check the pupil id "
            "(pupils are added with 'ledger import pupils')"
        )
    return state


def fold_pupil(pupil_id: str, events: list[Event]) -> PupilState:
    placements: list[Placement] = []
    for e in events:
        if isinstance(e, PupilEnrolled):
            placements.append(Placement(e.class_id, e.on))
        elif isinstance(e, PupilMoved):
            placements[-1] = replace(placements[-1], last_day=e.on - timedelta(days=1))
            placements.append(Placement(e.to_class, e.on))
        elif isinstance(e, PupilLeft):
            placements[-1] = replace(placements[-1], last_day=e.on, ended_by_leaving=True)
    return PupilState(pupil_id, tuple(placements))


@dataclass(frozen=True)
class PlacementRow:
    """One import row: the pupil is in ``class_id`` from ``start``, until ``left_on`` if given."""

    class_id: str
    start: date
    left_on: date | None
    moves_on: bool = False  # the next row starts the day after left_on: a class move, not leaving


def plan_placements(state: PupilState, rows: list[PlacementRow]) -> tuple[PupilState, list[Event]]:
    """The events that bring the pupil's record in line with ``rows`` (none if it already is).

    Rows must be in date order. A row that restates a placement already recorded writes nothing,
    which is what makes importing the same file twice harmless.
    """
    new_events: list[Event] = []
    for row in rows:
        if row.left_on is not None and row.left_on < row.start:
            raise InvalidInput(f"left_on {row.left_on} is before enrolled_on {row.start}")
        known = next((p for p in state.placements if p.class_id == row.class_id and p.start == row.start), None)
        if known is None:
            event = _start_placement(state, row)
            new_events.append(event)
            state = fold_append(state, event)
            known = state.placements[-1]
        if row.left_on is not None and not row.moves_on:
            if known.last_day is None:
                event = build(PupilLeft, pupil_id=state.pupil_id, class_id=row.class_id, on=row.left_on)
                new_events.append(event)
                state = fold_append(state, event)
            elif known.last_day != row.left_on:
                raise InvalidInput(
                    f"pupil {state.pupil_id} is already recorded as leaving {row.class_id} on {known.last_day}, "
                    f"not {row.left_on}"
                )
    return state, new_events


def _start_placement(state: PupilState, row: PlacementRow) -> Event:
    current = state.current
    pid = state.pupil_id
    if current is None:
        return build(PupilEnrolled, pupil_id=pid, class_id=row.class_id, on=row.start)
    if row.start <= current.start or (current.last_day is not None and row.start <= current.last_day):
        raise InvalidInput(
            f"pupil {pid} is recorded in {current.class_id} from {current.start}"
            + (f" to {current.last_day}" if current.last_day else "")
            + f"; a placement in {row.class_id} from {row.start} conflicts with it"
        )
    if current.last_day is not None:
        return build(PupilEnrolled, pupil_id=pid, class_id=row.class_id, on=row.start)
    if current.class_id == row.class_id:
        raise InvalidInput(f"pupil {pid} is already in {row.class_id} (since {current.start})")
    return build(PupilMoved, pupil_id=pid, from_class=current.class_id, to_class=row.class_id, on=row.start)


def fold_append(state: PupilState, event: Event) -> PupilState:
    return fold_pupil(state.pupil_id, [*_as_events(state), event])


def _as_events(state: PupilState) -> list[Event]:
    # Re-deriving events from placements keeps fold_pupil the single definition of the rules.
    out: list[Event] = []
    for i, p in enumerate(state.placements):
        prev = state.placements[i - 1] if i else None
        if prev is None or prev.ended_by_leaving:
            out.append(build(PupilEnrolled, pupil_id=state.pupil_id, class_id=p.class_id, on=p.start))
        else:
            out.append(build(PupilMoved, pupil_id=state.pupil_id, from_class=prev.class_id, to_class=p.class_id, on=p.start))
        if p.ended_by_leaving and p.last_day is not None:
            out.append(build(PupilLeft, pupil_id=state.pupil_id, class_id=p.class_id, on=p.last_day))
    return out
