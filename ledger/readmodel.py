"""What the application asks of a read model, and the shapes it gets back.

The DuckDB projection in ``projections/`` implements :class:`ReadModel`; the domain never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Cell:
    """One class in one term: ``state`` is recorded, not_recorded or not_open."""

    state: str
    appropriate: int = 0
    smaller_steps: int = 0
    unjudged: int = 0


@dataclass(frozen=True)
class Counts:
    appropriate: int = 0
    smaller_steps: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.appropriate + other.appropriate, self.smaller_steps + other.smaller_steps)

    @property
    def percent_appropriate(self) -> float | None:
        total = self.appropriate + self.smaller_steps
        return None if total == 0 else 100.0 * self.appropriate / total


@dataclass(frozen=True)
class ClassRow:
    class_id: str
    label: str
    terms: dict[str, Cell]


@dataclass(frozen=True)
class PhaseBlock:
    phase: str
    classes: list[ClassRow]
    totals: dict[str, Counts] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    year: str
    as_at: datetime
    position: int
    phases: list[PhaseBlock]
    totals: dict[str, Counts]


@dataclass(frozen=True)
class HistoryRow:
    position: int
    recorded_at: datetime
    actor: str
    kind: str
    term: str
    class_id: str
    status: str
    reason: str | None
    supersedes_position: int | None


class ReadModel(Protocol):
    def catch_up(self) -> int:
        """Apply events stored since the last call; return the position now applied."""

    def position_at(self, instant: datetime) -> int:
        """The last position recorded at or before ``instant`` (0 if none)."""

    def recorded_at(self, position: int) -> datetime | None:
        """When the event at ``position`` was recorded."""

    def report(self, year_start: int, position: int, as_at: datetime, tz_name: str) -> Report:
        """The school's termly table for one academic year as the ledger stood at ``position``."""

    def history(self, pupil_id: str, term: str | None, position: int) -> list[HistoryRow]:
        """Every judgement event for the pupil, oldest first."""

    def close(self) -> None:
        """Release the projection file."""
