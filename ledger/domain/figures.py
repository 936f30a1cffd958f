"""Historic aggregate figures: the rules.

A year is kept one way or the other: either as the school's aggregate table (imported from its own
documents, for years before the ledger held pupil-level records) or as pupil-level judgements.
Importing the same table again changes nothing; a different table for a year already recorded is
refused unless it is given as a revision, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.domain.calendar import AcademicYear
from ledger.errors import InvalidInput
from ledger.events import Event, build
from ledger.figures_events import ClassFigures, HistoricFiguresRecorded, HistoricFiguresRevised, TermFigures


@dataclass(frozen=True)
class FiguresState:
    """The table in force for a year and the position of the event that set it."""

    year: str
    classes: tuple[ClassFigures, ...]
    source: str
    position: int
    revised: bool


def fold_figures(events: Sequence[tuple[int, Event]]) -> FiguresState | None:
    state = None
    for position, e in events:
        if isinstance(e, (HistoricFiguresRecorded, HistoricFiguresRevised)):
            state = FiguresState(e.year, tuple(e.classes), e.source, position, isinstance(e, HistoricFiguresRevised))
    return state


def aggregate_refusal(year: AcademicYear | str, also: str = "") -> InvalidInput:
    return InvalidInput(
        f"{year} is kept as the school's historic aggregate figures (imported with 'ledger import figures'), "
        f"so pupil-level judgements for it are refused{also}"
    )


def refuse_if_aggregate(year: AcademicYear | str, figures_version: int) -> None:
    """Pupil-level judgements are refused for a year whose figures stream exists."""
    if figures_version > 0:
        raise aggregate_refusal(year)


def refuse_if_pupil_level(year: AcademicYear | str, pupils_judged: int) -> None:
    if pupils_judged:
        raise InvalidInput(
            f"{year} already has pupil-level judgements ({pupils_judged} in force); historic aggregate "
            "figures are only for years before the ledger's pupil-level records, and the report for "
            f"{year} is built from those judgements"
        )


def decide_figures(existing: FiguresState | None, year: str, source: str, classes: Sequence[ClassFigures],
                   revise_reason: str | None) -> Event | None:
    """The event to write, or None when the same table is already recorded."""
    if existing is None:
        return build(HistoricFiguresRecorded, year=year, source=source, classes=list(classes))
    if tuple(classes) == existing.classes:
        return None
    if revise_reason is None:
        changes = describe_changes(existing.classes, classes)
        raise InvalidInput(
            f"the {year} figures differ from those recorded at position {existing.position} ({changes}); "
            "import with --revise --reason TEXT to replace them"
        )
    return build(HistoricFiguresRevised, year=year, source=source, classes=list(classes),
                 reason=revise_reason, supersedes_position=existing.position)


def _cell(t: TermFigures) -> str:
    if t.state == "not_open":
        return "N/A"
    if t.state == "not_recorded":
        return "blank"
    return f"{t.appropriate}/{t.smaller_steps}"


def describe_changes(old: Sequence[ClassFigures], new: Sequence[ClassFigures], limit: int = 3) -> str:
    """A short account of how two tables differ, e.g. '1AJ T2 9/1 now 8/2; 3CW added; 2 more'."""
    before = {c.class_id: c for c in old}
    after = {c.class_id: c for c in new}
    changes: list[str] = []
    for c in new:
        was = before.get(c.class_id)
        if was is None:
            changes.append(f"{c.class_id} added")
            continue
        if (was.phase, was.mark) != (c.phase, c.mark):
            changes.append(f"{c.class_id} now {c.phase}{' (' + c.mark + ')' if c.mark else ''}")
        for n in (1, 2, 3):
            if was.term(n) != c.term(n):
                changes.append(f"{c.class_id} T{n} {_cell(was.term(n))} now {_cell(c.term(n))}")
    changes += [f"{cid} missing" for cid in before if cid not in after]
    if not changes:
        changes.append("classes in a different order")
    shown = "; ".join(changes[:limit])
    return shown + (f"; {len(changes) - limit} more" if len(changes) > limit else "")
