"""Writes to the personal learning record: frameworks, outcomes, targets, approvals and stages."""

from __future__ import annotations

from datetime import date

from ledger.domain.calendar import Term
from ledger.domain.horizon import check_term_ahead
from ledger.domain.learning import (
    Framework, OutcomeState, TargetState, decide_approve, decide_define_framework, decide_set_outcome,
    decide_set_target, decide_stage, fold_framework, fold_outcome, fold_target, require_framework,
    require_open_outcome, require_target,
)
from ledger.domain.staff import Action
from ledger.errors import InvalidInput
from ledger.events import build
from ledger.learning_events import (
    FrameworkDefined, OutcomeClosed, OutcomeRevised, OutcomeSet, StageRecorded, TargetApproved,
    TargetRevised, TargetSet, TargetWithdrawn, framework_stream, outcome_stream, target_stream,
)
from ledger.services.context import Ledger
from ledger.store.mapper import StoredEvent


# -- reading the streams this module owns -------------------------------------------------------
def framework(ledger: Ledger, framework_id: str) -> tuple[int, Framework | None]:
    version, events = ledger.events_of(framework_stream(framework_id))
    return version, fold_framework(framework_id, events)


def outcome(ledger: Ledger, outcome_id: str) -> tuple[int, OutcomeState | None]:
    version, events = ledger.events_of(outcome_stream(outcome_id))
    return version, fold_outcome(events)


def target(ledger: Ledger, target_id: str) -> tuple[int, TargetState | None]:
    stored = ledger.stored_stream(target_stream(target_id))
    version = stored[-1].stream_version if stored else 0
    return version, fold_target([(s.position, s.actor, s.to_event()) for s in stored])


def parse_terms(text: str | list[str]) -> list[str]:
    """``2023-24/T1;2023-24/T2`` (or commas, or spaces) as a sorted list of distinct terms."""
    parts = text if isinstance(text, list) else text.replace(",", " ").replace(";", " ").split()
    if not parts:
        raise InvalidInput("a target needs the term(s) it is for, e.g. 2023-24/T1;2023-24/T2")
    return [str(t) for t in sorted({Term.parse(p) for p in parts})]


def planned_terms(ledger: Ledger, text: str | list[str]) -> list[str]:
    """The terms a target is for (as :func:`parse_terms`), none beyond the end of next academic year."""
    today = ledger.today()
    return [str(check_term_ahead(Term.parse(t), today, "a target can be for")) for t in parse_terms(text)]


# -- commands -------------------------------------------------------------------------------------
def add_framework(ledger: Ledger, framework_id: str, name: str, stages: list[str]) -> list[StoredEvent]:
    ledger.authorise(Action.MANAGE_FRAMEWORKS)
    stages = [s.strip() for s in stages]
    if (done := ledger.replay(framework_stream(framework_id))) is not None:
        return done
    version, existing = framework(ledger, framework_id)
    decide_define_framework(existing, framework_id, stages)
    event = build(FrameworkDefined, framework_id=framework_id, name=name, stages=stages)
    return ledger.append([ledger.write(framework_stream(framework_id), version, [event])])


def set_outcome(ledger: Ledger, outcome_id: str, pupil_id: str, area: str, description: str) -> list[StoredEvent]:
    ledger.authorise(Action.MANAGE_OUTCOMES)
    event = build(OutcomeSet, outcome_id=outcome_id, pupil_id=pupil_id, area=area, description=description)
    if (done := ledger.replay(outcome_stream(event.outcome_id))) is not None:
        return done
    version, existing = outcome(ledger, event.outcome_id)
    _, pupil = ledger.pupil(event.pupil_id)
    decide_set_outcome(existing, event.outcome_id, bool(pupil.placements), event.pupil_id)
    return ledger.append([ledger.write(outcome_stream(event.outcome_id), version, [event])])


def revise_outcome(ledger: Ledger, outcome_id: str, area: str | None, description: str | None,
                   reason: str) -> list[StoredEvent]:
    ledger.authorise(Action.MANAGE_OUTCOMES)
    version, existing = outcome(ledger, outcome_id)
    state = require_open_outcome(existing, outcome_id)
    event = build(OutcomeRevised, outcome_id=outcome_id, area=area or state.area,
                  description=description or state.description, reason=reason)
    if (event.area, event.description) == (state.area, state.description):
        raise InvalidInput(f"outcome {outcome_id} already reads like that; nothing to revise")
    return ledger.append([ledger.write(outcome_stream(outcome_id), version, [event])])


def close_outcome(ledger: Ledger, outcome_id: str, reason: str) -> list[StoredEvent]:
    ledger.authorise(Action.MANAGE_OUTCOMES)
    version, existing = outcome(ledger, outcome_id)
    require_open_outcome(existing, outcome_id)
    event = build(OutcomeClosed, outcome_id=outcome_id, reason=reason)
    return ledger.append([ledger.write(outcome_stream(outcome_id), version, [event])])


def set_target(ledger: Ledger, target_id: str, pupil_id: str, outcome_id: str, framework_id: str,
               description: str, terms: str | list[str]) -> list[StoredEvent]:
    ledger.authorise(Action.SET_TARGETS)
    event = build(TargetSet, target_id=target_id, pupil_id=pupil_id, outcome_id=outcome_id,
                  framework_id=framework_id, description=description, terms=planned_terms(ledger, terms))
    if (done := ledger.replay(target_stream(event.target_id))) is not None:
        return done
    version, existing = target(ledger, event.target_id)
    _, outcome_state = outcome(ledger, outcome_id)
    decide_set_target(existing, event.target_id, require_open_outcome(outcome_state, outcome_id), event.pupil_id)
    require_framework(framework(ledger, framework_id)[1], framework_id)
    return ledger.append([ledger.write(target_stream(event.target_id), version, [event])])


def approve_targets(ledger: Ledger, target_ids: list[str]) -> list[StoredEvent]:
    """Approve one or more targets in one atomic write: all are approved, or none."""
    ledger.authorise(Action.APPROVE_TARGETS)
    if (done := ledger.replay(*(target_stream(t.strip()) for t in target_ids))) is not None:
        return done
    writes = []
    for target_id in dict.fromkeys(t.strip() for t in target_ids):
        version, state = target(ledger, target_id)
        decide_approve(state, target_id, ledger.actor or "")
        assert state is not None
        event = build(TargetApproved, target_id=target_id, pupil_id=state.pupil_id)
        writes.append(ledger.write(target_stream(target_id), version, [event]))
    return ledger.append(writes)


def revise_target(ledger: Ledger, target_id: str, description: str | None, terms: str | None,
                  reason: str) -> list[StoredEvent]:
    ledger.authorise(Action.CHANGE_TARGETS)
    version, state = target(ledger, target_id)
    current = require_target(state, target_id)
    event = build(TargetRevised, target_id=target_id, pupil_id=current.pupil_id,
                  description=description or current.description,
                  terms=planned_terms(ledger, terms) if terms else list(current.terms), reason=reason)
    if (event.description, tuple(event.terms)) == (current.description, current.terms):
        raise InvalidInput(f"target {target_id} already reads like that; nothing to revise")
    return ledger.append([ledger.write(target_stream(target_id), version, [event])])


def withdraw_target(ledger: Ledger, target_id: str, reason: str) -> list[StoredEvent]:
    ledger.authorise(Action.CHANGE_TARGETS)
    version, state = target(ledger, target_id)
    current = require_target(state, target_id)
    event = build(TargetWithdrawn, target_id=target_id, pupil_id=current.pupil_id, reason=reason)
    return ledger.append([ledger.write(target_stream(target_id), version, [event])])


def stage_event(ledger: Ledger, state: TargetState | None, target_id: str, stage: str, achieved_on: date,
                note: str, reason: str | None, frameworks: dict[str, Framework] | None = None) -> StageRecorded:
    """The StageRecorded event the rules allow (shared by the command and the import)."""
    current = require_target(state, target_id)
    cache = frameworks if frameworks is not None else {}
    if current.framework_id not in cache:
        cache[current.framework_id] = require_framework(framework(ledger, current.framework_id)[1], current.framework_id)
    scale = cache[current.framework_id]
    index = decide_stage(state, target_id, scale, stage, achieved_on, ledger.today(), reason)
    return build(StageRecorded, target_id=target_id, pupil_id=current.pupil_id, stage=scale.stages[index],
                 stage_index=index, achieved_on=achieved_on, note=(note or "").strip(),
                 reason=(reason or "").strip() or None)


def record_stage(ledger: Ledger, target_id: str, stage: str, achieved_on: date, note: str = "",
                 reason: str | None = None) -> list[StoredEvent]:
    ledger.authorise(Action.RECORD_STAGES)
    target_id = target_id.strip()
    if (done := ledger.replay(target_stream(target_id))) is not None:
        return done
    version, state = target(ledger, target_id)
    event = stage_event(ledger, state, target_id, stage, achieved_on, note, reason)
    return ledger.append([ledger.write(target_stream(target_id), version, [event])])
