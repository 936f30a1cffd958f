"""Events of each pupil's personal learning record: EHCP outcomes, targets, frameworks and stages.

Same rules as :mod:`ledger.events`: frozen, a stable ``type_name``, a ``schema_version``, and no
personal data: descriptions and evidence notes name no one (the pupil is the pseudonymous id).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from ledger.events import Event, PupilId, Reason, TermText, plain_text

ItemId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$")]
# Free text is one line of plain text with enough visible characters (see ledger.events.plain_text).
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500), plain_text(3)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), plain_text(0)]
StageName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), plain_text(1)]

from ledger.vocab import AREAS  # noqa: E402,F401 - pydantic-free, for the CLI; re-exported here
Area = Literal["communication-interaction", "cognition-learning", "semh", "sensory-physical", "preparation-adulthood"]


class FrameworkDefined(Event):
    """A school's own ordered scale of stages (the shipped scales need no event)."""

    type_name = "FrameworkDefined"
    framework_id: ItemId
    name: Text
    stages: list[StageName] = Field(min_length=3, max_length=20)

    @field_validator("stages")
    @classmethod
    def _distinct(cls, stages: list[str]) -> list[str]:
        if len({s.casefold() for s in stages}) != len(stages):
            raise ValueError("stages must be distinct")
        return stages


class OutcomeSet(Event):
    type_name = "OutcomeSet"
    outcome_id: ItemId
    pupil_id: PupilId
    area: Area
    description: Text


class OutcomeRevised(Event):
    type_name = "OutcomeRevised"
    outcome_id: ItemId
    area: Area
    description: Text
    reason: Reason


class OutcomeClosed(Event):
    type_name = "OutcomeClosed"
    outcome_id: ItemId
    reason: Reason


class TargetSet(Event):
    type_name = "TargetSet"
    target_id: ItemId
    pupil_id: PupilId
    outcome_id: ItemId
    framework_id: ItemId
    description: Text
    terms: list[TermText] = Field(min_length=1, max_length=6)


class TargetApproved(Event):
    type_name = "TargetApproved"
    target_id: ItemId
    pupil_id: PupilId


class TargetRevised(Event):
    """A changed target; it needs approving again before stages can be recorded against it."""

    type_name = "TargetRevised"
    target_id: ItemId
    pupil_id: PupilId
    description: Text
    terms: list[TermText] = Field(min_length=1, max_length=6)
    reason: Reason


class TargetWithdrawn(Event):
    type_name = "TargetWithdrawn"
    target_id: ItemId
    pupil_id: PupilId
    reason: Reason


class StageRecorded(Event):
    """Progress on the personal learning record; ``reason`` is required when it is a regression."""

    type_name = "StageRecorded"
    target_id: ItemId
    pupil_id: PupilId
    stage: StageName
    stage_index: int = Field(ge=0)
    achieved_on: date
    note: Note = ""
    reason: Reason | None = None


LEARNING_EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_name: cls
    for cls in (
        FrameworkDefined, OutcomeSet, OutcomeRevised, OutcomeClosed, TargetSet, TargetApproved,
        TargetRevised, TargetWithdrawn, StageRecorded,
    )
}


def framework_stream(framework_id: str) -> str:
    return f"framework-{framework_id}"


def outcome_stream(outcome_id: str) -> str:
    return f"outcome-{outcome_id}"


def target_stream(target_id: str) -> str:
    """One stream per target: set, approvals, revisions, withdrawal and every stage recorded."""
    return f"target-{target_id}"
