"""Shapes the read model returns for the leadership queries (changes, compare, trend, smaller steps,
audit). The DuckDB projection fills them by SQL; :mod:`ledger.services.leadership` builds answers
from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class JudgementChange:
    """One judgement event with the judgement it replaced (``previous_*`` is None for a first record)."""

    position: int
    recorded_at: datetime
    actor: str
    kind: str  # recorded | revised
    pupil_id: str
    term: str
    class_id: str
    status: str
    reason: str | None
    previous_status: str | None
    previous_class: str | None
    previous_reason: str | None


@dataclass(frozen=True)
class LearningChange:
    """One event of the personal learning record: a stage recorded, or a target or outcome event.

    ``item`` is stage, target or outcome; ``value`` is the stage reached or the wording; ``previous``
    the stage recorded before for the same target; ``on`` the date a stage was achieved;
    ``regression`` whether that stage is below the one recorded before it (a reason may come with any
    stage, so a reason alone does not make a regression).
    """

    position: int
    recorded_at: datetime
    actor: str
    item: str
    kind: str
    pupil_id: str | None
    item_id: str
    value: str | None
    previous: str | None
    on: str | None
    note: str | None
    reason: str | None
    regression: bool = False


@dataclass(frozen=True)
class ClassChange:
    """A class opened or closed: ``term`` is the first term it exists (opened) or the last (closed)."""

    position: int
    recorded_at: datetime
    actor: str
    class_id: str
    kind: str
    term: str


@dataclass(frozen=True)
class AuditEntry:
    position: int
    recorded_at: datetime
    actor: str
    event_type: str
    stream_id: str
    command_id: str | None
    payload: str


@dataclass(frozen=True)
class ReasonGroup:
    """Pupils whose judgement in force is smaller steps for the same reason (case and spacing ignored)."""

    reason: str
    pupils: list[tuple[str, str]]  # (pupil id, class), by class then pupil

    @property
    def count(self) -> int:
        return len(self.pupils)
