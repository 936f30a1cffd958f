"""What the application asks of a read model, and the shapes it gets back.

The DuckDB projection in ``projections/`` implements :class:`ReadModel`; the domain never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ledger.leadership_views import AuditEntry, ClassChange, JudgementChange, LearningChange, ReasonGroup


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
    # (class id, "T1") -> (targets that moved up a stage, approved targets); only with --targets
    target_moves: dict[tuple[str, str], tuple[int, int]] | None = None
    # "events" (counted from pupil-level judgements) or "aggregate" (the school's historic table,
    # imported with 'ledger import figures'); ``note`` says so in words for aggregate years.
    source: str = "events"
    note: str | None = None


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

    def targets(self, position: int, pupil_id: str | None = None, with_stages: bool = False) -> list["TargetView"]:
        """Every target (or one pupil's) as it stood at ``position``."""

    def term_progress(self, position: int, term_key: int, start: date, end: date, year_start: date,
                      year_end: date) -> list["TermProgress"]:
        """Each target covering the term, with its stage at the start and the end of the term."""

    def outcomes(self, position: int, pupil_id: str) -> list["OutcomeView"]:
        """A pupil's EHCP outcomes as they stood at ``position``."""

    def judgements_in_force(self, position: int, year_start: int | None = None, term_n: int | None = None,
                            pupil_id: str | None = None) -> list["JudgementView"]:
        """The judgement in force per pupil and term (revisions applied)."""

    def frameworks(self, position: int) -> list[tuple[str, str, list[str]]]:
        """The school's own frameworks: (id, name, stages)."""

    def roll_on(self, position: int, day: date) -> dict[str, str]:
        """Pupil id to class for every pupil on roll on ``day``."""

    def term_dates(self, position: int, year_start: int) -> dict[int, tuple[date, date]]:
        """Term number to its first and last day."""

    # -- leadership queries (shapes in ledger/leadership_views.py) --------------------------------
    def judgement_changes(self, lo: int, hi: int, year_start: int | None = None) -> list["JudgementChange"]:
        """Judgement events at positions lo..hi, each with the judgement it replaced."""

    def learning_changes(self, lo: int, hi: int) -> list["LearningChange"]:
        """Stage, target and outcome events at positions lo..hi."""

    def class_changes(self, lo: int, hi: int) -> list["ClassChange"]:
        """Classes opened or closed at positions lo..hi."""

    def audit(self, actor: str | None = None, since: datetime | None = None, until: datetime | None = None,
              event_types: list[str] | None = None) -> list["AuditEntry"]:
        """The whole log, oldest first, filtered (times inclusive)."""

    def actors(self) -> set[str]:
        """Everyone who wrote to the ledger or was registered as staff."""

    def years(self, position: int) -> list[int]:
        """First calendar year of every academic year with judgements or figures at ``position``."""

    def smaller_steps(self, position: int, year_start: int, term_n: int, class_id: str | None = None
                      ) -> list["ReasonGroup"]:
        """Pupils whose judgement in force for the term is smaller steps, grouped by reason."""

    def class_phases(self, position: int) -> dict[str, str]:
        """Every class opened at ``position`` (in the order opened) with its phase."""

    def close(self) -> None:
        """Release the projection file."""


# -- the personal learning record ---------------------------------------------------------------
@dataclass(frozen=True)
class StageView:
    position: int
    recorded_at: datetime
    actor: str
    stage: str
    stage_index: int
    achieved_on: date
    note: str
    reason: str | None


@dataclass(frozen=True)
class TargetView:
    target_id: str
    pupil_id: str
    outcome_id: str
    framework_id: str
    description: str
    terms: list[str]
    approved: bool
    approved_by: str | None
    withdrawn: bool
    current_stage: str | None
    current_stage_index: int | None
    stages: list[StageView] = field(default_factory=list)


@dataclass(frozen=True)
class TermProgress:
    """One target in one term: where it started and ended on its framework."""

    target_id: str
    pupil_id: str
    approved: bool
    baseline_index: int | None
    end_index: int | None
    stages_recorded: int
    distinct_stages_in_year: int

    @property
    def moved_up(self) -> bool:
        return self.baseline_index is not None and self.end_index is not None and self.end_index > self.baseline_index

    @property
    def regressed(self) -> bool:
        return self.baseline_index is not None and self.end_index is not None and self.end_index < self.baseline_index


@dataclass(frozen=True)
class OutcomeView:
    outcome_id: str
    area: str
    description: str
    closed: bool


@dataclass(frozen=True)
class JudgementView:
    pupil_id: str
    term: str
    class_id: str
    status: str
    reason: str | None
    position: int
