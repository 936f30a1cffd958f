"""Projection tables for the personal learning record (outcomes, targets, stages, frameworks).

Like the judgement tables they only ever grow, one row per event with its position, so every
question can be asked "as the ledger stood at position p" (see :mod:`projections.flatten`).
"""

from __future__ import annotations

from projections.flatten import Table

_OUTCOME_EVENTS = ("OutcomeSet", "OutcomeRevised", "OutcomeClosed")
_TARGET_EVENTS = ("TargetSet", "TargetApproved", "TargetRevised", "TargetWithdrawn")


def _in(events: tuple[str, ...]) -> str:
    return "event_type IN (" + ", ".join(f"'{e}'" for e in events) + ")"


OUTCOMES = Table(
    "outcomes",
    (("position", "BIGINT"), ("recorded_at", "VARCHAR"), ("actor", "VARCHAR"), ("kind", "VARCHAR"),
     ("outcome_id", "VARCHAR"), ("pupil_id", "VARCHAR"), ("area", "VARCHAR"), ("description", "VARCHAR"),
     ("reason", "VARCHAR")),
    _OUTCOME_EVENTS,
    f"""SELECT position, recorded_at, actor, lower(regexp_replace(event_type, '^Outcome', '')), p->>'outcome_id', p->>'pupil_id',
               p->>'area', p->>'description', p->>'reason'
        FROM ev WHERE {_in(_OUTCOME_EVENTS)}""",
    "outcome_id IS NULL",
)

TARGETS = Table(
    "targets",
    (("position", "BIGINT"), ("recorded_at", "VARCHAR"), ("actor", "VARCHAR"), ("kind", "VARCHAR"),
     ("target_id", "VARCHAR"), ("pupil_id", "VARCHAR"), ("outcome_id", "VARCHAR"), ("framework_id", "VARCHAR"),
     ("description", "VARCHAR"), ("reason", "VARCHAR")),
    _TARGET_EVENTS,
    f"""SELECT position, recorded_at, actor, lower(regexp_replace(event_type, '^Target', '')), p->>'target_id', p->>'pupil_id',
               p->>'outcome_id', p->>'framework_id', p->>'description', p->>'reason'
        FROM ev WHERE {_in(_TARGET_EVENTS)}""",
    "target_id IS NULL OR pupil_id IS NULL",
)

TARGET_TERMS = Table(
    "target_terms",
    (("position", "BIGINT"), ("target_id", "VARCHAR"), ("term_key", "INTEGER")),
    _TARGET_EVENTS,
    f"""SELECT position, target_id, term_key(term) FROM (
            SELECT position, p->>'target_id' AS target_id, unnest(from_json(p->'terms', '["VARCHAR"]')) AS term
            FROM ev WHERE {_in(_TARGET_EVENTS)} AND json_type(p->'terms') = 'ARRAY')""",
    "target_id IS NULL OR term_key IS NULL",
)

STAGES = Table(
    "stages",
    (("position", "BIGINT"), ("recorded_at", "VARCHAR"), ("actor", "VARCHAR"), ("target_id", "VARCHAR"),
     ("pupil_id", "VARCHAR"), ("stage", "VARCHAR"), ("stage_index", "INTEGER"), ("achieved_on", "DATE"),
     ("note", "VARCHAR"), ("reason", "VARCHAR")),
    ("StageRecorded",),
    """SELECT position, recorded_at, actor, p->>'target_id', p->>'pupil_id', p->>'stage',
              TRY_CAST(p->>'stage_index' AS INTEGER), TRY_CAST(p->>'achieved_on' AS DATE), p->>'note', p->>'reason'
       FROM ev WHERE event_type = 'StageRecorded'""",
    "target_id IS NULL OR pupil_id IS NULL OR stage IS NULL OR stage_index IS NULL OR achieved_on IS NULL",
)

FRAMEWORKS = Table(
    "frameworks",
    (("position", "BIGINT"), ("framework_id", "VARCHAR"), ("name", "VARCHAR"), ("stages", "VARCHAR")),
    ("FrameworkDefined",),
    """SELECT position, p->>'framework_id', p->>'name', CAST(p->'stages' AS VARCHAR)
       FROM ev WHERE event_type = 'FrameworkDefined'""",
    "framework_id IS NULL OR name IS NULL OR stages IS NULL",
)

TABLES = [OUTCOMES, TARGETS, TARGET_TERMS, STAGES, FRAMEWORKS]
