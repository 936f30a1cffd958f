"""The personal learning record: frameworks, EHCP outcomes, targets and stages.

The school's process, as its own document describes it: long-term outcomes are broken into smaller
targets on a framework of at least 3 distinct stages; a Key Stage lead approves each target (never
the person who set it); progress is recorded as stages; a step back (regression) needs a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from ledger.errors import InvalidInput, NotAllowed, NotFound
from ledger.events import Event
from ledger.learning_events import (
    FrameworkDefined, OutcomeClosed, OutcomeRevised, OutcomeSet, StageRecorded, TargetApproved,
    TargetRevised, TargetSet, TargetWithdrawn,
)


@dataclass(frozen=True)
class Framework:
    framework_id: str
    name: str
    stages: tuple[str, ...]
    builtin: bool = False

    def stage_index(self, stage: str) -> int:
        """A stage by name (any case) or by its 1-based number on the scale.

        On a school's scale whose stages are themselves numbers (0, 1, 2, 3) a number is only ever
        a stage's name: '1' is the stage called 1, never the first stage, and '4' is no stage."""
        text = stage.strip()
        for i, name in enumerate(self.stages):
            if name.casefold() == text.casefold():
                return i
        numbered = any(name.strip().isdigit() for name in self.stages)
        if text.isdigit() and not numbered and 1 <= int(text) <= len(self.stages):
            return int(text) - 1
        raise InvalidInput(
            f"'{stage}' is not a stage of framework {self.framework_id}; use one of: {', '.join(self.stages)}"
        )


BUILTIN_FRAMEWORKS: dict[str, Framework] = {
    f.framework_id: f
    for f in (
        Framework("engagement", "Engagement scale", ("Encountered", "Emerging", "Developing", "Secure", "Mastered"), True),
        Framework("three-step", "Emerging, developing, secure", ("Emerging", "Developing", "Secure"), True),
        Framework(
            "prompt", "Prompt hierarchy",
            ("Full physical prompt", "Partial physical prompt", "Gestural prompt", "Verbal prompt", "Independent"), True,
        ),
        Framework("fluency", "Fluency and generalisation", ("Acquiring", "Fluent", "Maintained", "Generalised"), True),
    )
}


def fold_framework(framework_id: str, events: list[Event]) -> Framework | None:
    if framework_id in BUILTIN_FRAMEWORKS:
        return BUILTIN_FRAMEWORKS[framework_id]
    defined = next((e for e in events if isinstance(e, FrameworkDefined)), None)
    return Framework(defined.framework_id, defined.name, tuple(defined.stages)) if defined else None


def decide_define_framework(existing: Framework | None, framework_id: str, stages: list[str]) -> None:
    if existing is not None:
        where = "ships with the ledger" if existing.builtin else "is already defined"
        raise InvalidInput(f"framework {framework_id} {where}; choose another id")
    distinct = {s.strip().casefold() for s in stages if s.strip()}
    if len(distinct) < 3:
        raise InvalidInput(
            f"framework {framework_id} has {len(distinct)} distinct stage(s); a framework needs at least 3"
        )
    if len(distinct) != len(stages):
        raise InvalidInput(f"framework {framework_id}: stages must be distinct and non-empty")


def require_framework(framework: Framework | None, framework_id: str) -> Framework:
    if framework is None:
        known = ", ".join(BUILTIN_FRAMEWORKS)
        raise NotFound(f"framework {framework_id} does not exist; use one shipped ({known}) or add it with 'ledger framework add'")
    return framework


# -- outcomes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutcomeState:
    outcome_id: str
    pupil_id: str
    area: str
    description: str
    closed: bool = False


def fold_outcome(events: list[Event]) -> OutcomeState | None:
    state: OutcomeState | None = None
    for e in events:
        if isinstance(e, OutcomeSet):
            state = OutcomeState(e.outcome_id, e.pupil_id, e.area, e.description)
        elif isinstance(e, OutcomeRevised) and state:
            state = replace(state, area=e.area, description=e.description)
        elif isinstance(e, OutcomeClosed) and state:
            state = replace(state, closed=True)
    return state


def decide_set_outcome(existing: OutcomeState | None, outcome_id: str, pupil_known: bool, pupil_id: str) -> None:
    if existing is not None:
        raise InvalidInput(f"outcome {outcome_id} already exists (for pupil {existing.pupil_id})")
    if not pupil_known:
        raise NotFound(f"pupil {pupil_id} is not on the roll; import them first with 'ledger import pupils'")


def require_open_outcome(existing: OutcomeState | None, outcome_id: str) -> OutcomeState:
    if existing is None:
        raise NotFound(f"outcome {outcome_id} does not exist; set it with 'ledger outcome set'")
    if existing.closed:
        raise InvalidInput(f"outcome {outcome_id} is closed")
    return existing


# -- targets and stages --------------------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    index: int
    name: str
    achieved_on: date
    position: int


@dataclass(frozen=True)
class TargetState:
    target_id: str
    pupil_id: str
    outcome_id: str
    framework_id: str
    description: str
    terms: tuple[str, ...]
    set_by: str
    approved_by: str | None = None
    withdrawn: bool = False
    stages: tuple[Stage, ...] = field(default_factory=tuple)

    @property
    def last_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


def fold_target(events: list[tuple[int, str, Event]]) -> TargetState | None:
    """Fold ``(position, actor, event)``; the actor matters because approval must be by someone else."""
    state: TargetState | None = None
    for position, actor, e in events:
        if isinstance(e, TargetSet):
            state = TargetState(e.target_id, e.pupil_id, e.outcome_id, e.framework_id, e.description,
                                tuple(e.terms), set_by=actor)
        elif state is None:
            continue
        elif isinstance(e, TargetApproved):
            state = replace(state, approved_by=actor)
        elif isinstance(e, TargetRevised):
            state = replace(state, description=e.description, terms=tuple(e.terms), set_by=actor, approved_by=None)
        elif isinstance(e, TargetWithdrawn):
            state = replace(state, withdrawn=True)
        elif isinstance(e, StageRecorded):
            state = replace(state, stages=(*state.stages, Stage(e.stage_index, e.stage, e.achieved_on, position)))
    return state


def require_target(state: TargetState | None, target_id: str) -> TargetState:
    if state is None:
        raise NotFound(f"target {target_id} does not exist; set it with 'ledger target set'")
    if state.withdrawn:
        raise InvalidInput(f"target {target_id} was withdrawn")
    return state


def decide_set_target(existing: TargetState | None, target_id: str, outcome: OutcomeState, pupil_id: str) -> None:
    if existing is not None:
        raise InvalidInput(f"target {target_id} already exists (for pupil {existing.pupil_id}); revise it instead")
    if outcome.pupil_id != pupil_id:
        raise InvalidInput(f"outcome {outcome.outcome_id} belongs to pupil {outcome.pupil_id}, not {pupil_id}")


def decide_approve(state: TargetState | None, target_id: str, actor: str) -> None:
    target = require_target(state, target_id)
    if target.approved_by is not None:
        raise InvalidInput(f"target {target_id} is already approved (by {target.approved_by})")
    if target.set_by == actor:
        raise NotAllowed(f"{actor} set target {target_id} and may not approve it; another leader must approve it")


def decide_stage(
    state: TargetState | None, target_id: str, framework: Framework, stage: str, achieved_on: date,
    today: date, reason: str | None,
) -> int:
    """The stage's index on the framework, once the rules allow recording it."""
    target = require_target(state, target_id)
    if target.approved_by is None:
        raise InvalidInput(f"target {target_id} is not approved yet; stages can only be recorded for approved targets")
    index = framework.stage_index(stage)
    if achieved_on > today:
        raise InvalidInput(f"achieved_on {achieved_on} is in the future")
    last = target.last_stage
    if last is not None and achieved_on < last.achieved_on:
        raise InvalidInput(
            f"stages are recorded in date order: target {target_id}'s last stage was on {last.achieved_on}"
        )
    if last is not None and index < last.index and not (reason or "").strip():
        raise InvalidInput(
            f"'{framework.stages[index]}' is lower than the last stage recorded ('{last.name}'): "
            "a regression needs a reason (--reason)"
        )
    return index


def parse_area(text: str) -> str:
    """An EHCP area of need by its short key or its full name, in any case."""
    from ledger.learning_events import AREAS

    wanted = " ".join(text.strip().casefold().replace("_", "-").split())
    for key, name in AREAS.items():
        if wanted in (key, name.casefold(), name.casefold().replace(" and/or ", " or ")):
            return key
    raise InvalidInput(f"'{text}' is not an EHCP area of need; use one of: {', '.join(AREAS)}")
