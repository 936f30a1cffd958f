"""Importing outcomes, targets and stages: all or nothing, FILE:LINE errors, re-import writes nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ledger.domain.calendar import parse_date
from ledger.domain.learning import Framework, Stage, TargetState, decide_set_target, parse_area, require_framework, require_open_outcome
from ledger.domain.staff import Action
from ledger.errors import InvalidInput, LedgerError
from ledger.events import build
from ledger.learning_events import OutcomeSet, TargetSet, outcome_stream, target_stream
from ledger.services import learning
from ledger.services.context import Ledger
from ledger.services.imports import ImportResult, finish_import
from ledger.services.tabular import read_table, tracked
from ledger.store.base import StreamWrite


def import_outcomes(ledger: Ledger, path: Path, *, dry_run: bool = False, sheet: str | None = None) -> ImportResult:
    ledger.authorise(Action.MANAGE_OUTCOMES)
    rows, digest = read_table(path, ("outcome_id", "pupil_id", "area", "description"), sheet=sheet)
    result, writes, problems = ImportResult(str(path), len(rows), dry_run=dry_run), [], []
    seen: set[str] = set()
    for row in tracked(rows):
        try:
            event = build(OutcomeSet, outcome_id=row.get("outcome_id"), pupil_id=row.get("pupil_id"),
                          area=parse_area(row.get("area")), description=row.get("description"))
            if event.outcome_id in seen:
                raise InvalidInput(f"outcome {event.outcome_id} appears twice in the file")
            seen.add(event.outcome_id)
            version, existing = learning.outcome(ledger, event.outcome_id)
            if existing is not None:
                if (existing.pupil_id, existing.area, existing.description) != (event.pupil_id, event.area, event.description):
                    raise InvalidInput(f"outcome {event.outcome_id} is recorded differently; use 'ledger outcome revise'")
                continue
            if not ledger.pupil(event.pupil_id)[1].placements:
                raise InvalidInput(f"pupil {event.pupil_id} is not on the roll; import pupils first")
            writes.append(ledger.write(outcome_stream(event.outcome_id), version, [event]))
            result.kinds[event.type_name] += 1
        except LedgerError as exc:
            problems.append(f"{row.where}: {exc}")
    rows.refuse_if_any(str(path), problems)
    return finish_import(ledger, result, writes, digest, "outcomes", (outcome_stream(o) for o in seen))


def import_targets(ledger: Ledger, path: Path, *, dry_run: bool = False, sheet: str | None = None) -> ImportResult:
    ledger.authorise(Action.SET_TARGETS)
    rows, digest = read_table(path, ("target_id", "pupil_id", "outcome_id", "framework", "description", "terms"), sheet=sheet)
    result, writes, problems = ImportResult(str(path), len(rows), dry_run=dry_run), [], []
    frameworks: dict[str, Framework] = {}
    seen: set[str] = set()
    for row in tracked(rows):
        try:
            event = build(TargetSet, target_id=row.get("target_id"), pupil_id=row.get("pupil_id"),
                          outcome_id=row.get("outcome_id"), framework_id=row.get("framework"),
                          description=row.get("description"), terms=learning.planned_terms(ledger, row.get("terms")))
            if event.target_id in seen:
                raise InvalidInput(f"target {event.target_id} appears twice in the file")
            seen.add(event.target_id)
            version, existing = learning.target(ledger, event.target_id)
            if existing is not None and _same_target(existing, event):
                continue
            if existing is not None:
                raise InvalidInput(f"target {event.target_id} is recorded differently; use 'ledger target revise'")
            decide_set_target(None, event.target_id,
                              require_open_outcome(learning.outcome(ledger, event.outcome_id)[1], event.outcome_id),
                              event.pupil_id)
            if event.framework_id not in frameworks:
                frameworks[event.framework_id] = require_framework(
                    learning.framework(ledger, event.framework_id)[1], event.framework_id)
            writes.append(ledger.write(target_stream(event.target_id), version, [event]))
            result.kinds[event.type_name] += 1
        except LedgerError as exc:
            problems.append(f"{row.where}: {exc}")
    rows.refuse_if_any(str(path), problems)
    return finish_import(ledger, result, writes, digest, "targets", (target_stream(t) for t in seen))


def _same_target(existing: TargetState, event: TargetSet) -> bool:
    return (existing.pupil_id, existing.outcome_id, existing.framework_id, existing.description, existing.terms) == (
        event.pupil_id, event.outcome_id, event.framework_id, event.description, tuple(event.terms))


def import_stages(ledger: Ledger, path: Path, *, dry_run: bool = False, sheet: str | None = None) -> ImportResult:
    ledger.authorise(Action.RECORD_STAGES)
    rows, digest = read_table(path, ("target_id", "stage", "achieved_on"), ("note", "reason"), sheet=sheet)
    result = ImportResult(str(path), len(rows), dry_run=dry_run)
    problems: list[str] = []
    frameworks: dict[str, Framework] = {}
    targets: dict[str, tuple[int, TargetState | None, list]] = {}
    parsed = []
    for row in rows:
        try:
            parsed.append((parse_date(row.get("achieved_on"), "achieved_on"), row))
        except LedgerError as exc:
            problems.append(f"{row.where}: {exc}")
    # Stages are recorded in date order per target, whatever order the file lists them in.
    for achieved_on, row in tracked(sorted(parsed, key=lambda pr: pr[0])):
        target_id = row.get("target_id")
        try:
            if target_id not in targets:
                version, state = learning.target(ledger, target_id)
                targets[target_id] = (version, state, [])
            version, state, new = targets[target_id]
            if state is not None and _already_recorded(state, row.get("stage"), achieved_on, frameworks, ledger):
                continue
            event = learning.stage_event(ledger, state, target_id, row.get("stage"), achieved_on,
                                         row.get("note"), row.get("reason") or None, frameworks)
            assert state is not None
            state = replace(state, stages=(*state.stages, Stage(event.stage_index, event.stage, achieved_on, 0)))
            targets[target_id] = (version, state, [*new, event])
            result.kinds[event.type_name] += 1
        except LedgerError as exc:
            problems.append(f"{row.where}: {exc}")
    rows.refuse_if_any(str(path), problems)  # in line order, though rows were checked in date order
    writes: list[StreamWrite] = [
        ledger.write(target_stream(tid), version, new) for tid, (version, _, new) in targets.items() if new
    ]
    return finish_import(ledger, result, writes, digest, "stages", (target_stream(t) for t in targets))


def _already_recorded(state: TargetState, stage: str, achieved_on: object, frameworks: dict[str, Framework],
                      ledger: Ledger) -> bool:
    if state.framework_id not in frameworks:
        found = learning.framework(ledger, state.framework_id)[1]
        if found is None:
            return False
        frameworks[state.framework_id] = found
    try:
        index = frameworks[state.framework_id].stage_index(stage)
    except InvalidInput:
        return False
    return any(s.index == index and s.achieved_on == achieved_on for s in state.stages)

