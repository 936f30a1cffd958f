"""Projection tables for the personal learning record (outcomes, targets, stages, frameworks).

Like the judgement tables they only ever grow, one row per event with its position, so every
question can be asked "as the ledger stood at position p".
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Protocol

import pyarrow as pa


class Batch(Protocol):
    def add(self, table: str, **values: Any) -> None: ...


TABLES: dict[str, list[tuple[str, str, pa.DataType]]] = {
    "outcomes": [
        ("position", "BIGINT", pa.int64()), ("recorded_at", "VARCHAR", pa.string()),
        ("actor", "VARCHAR", pa.string()), ("kind", "VARCHAR", pa.string()),
        ("outcome_id", "VARCHAR", pa.string()), ("pupil_id", "VARCHAR", pa.string()),
        ("area", "VARCHAR", pa.string()), ("description", "VARCHAR", pa.string()),
        ("reason", "VARCHAR", pa.string()),
    ],
    "targets": [
        ("position", "BIGINT", pa.int64()), ("recorded_at", "VARCHAR", pa.string()),
        ("actor", "VARCHAR", pa.string()), ("kind", "VARCHAR", pa.string()),
        ("target_id", "VARCHAR", pa.string()), ("pupil_id", "VARCHAR", pa.string()),
        ("outcome_id", "VARCHAR", pa.string()), ("framework_id", "VARCHAR", pa.string()),
        ("description", "VARCHAR", pa.string()), ("reason", "VARCHAR", pa.string()),
    ],
    "target_terms": [
        ("position", "BIGINT", pa.int64()), ("target_id", "VARCHAR", pa.string()),
        ("term_key", "INTEGER", pa.int32()),
    ],
    "stages": [
        ("position", "BIGINT", pa.int64()), ("recorded_at", "VARCHAR", pa.string()),
        ("actor", "VARCHAR", pa.string()), ("target_id", "VARCHAR", pa.string()),
        ("pupil_id", "VARCHAR", pa.string()), ("stage", "VARCHAR", pa.string()),
        ("stage_index", "INTEGER", pa.int32()), ("achieved_on", "DATE", pa.date32()),
        ("note", "VARCHAR", pa.string()), ("reason", "VARCHAR", pa.string()),
    ],
    "frameworks": [
        ("position", "BIGINT", pa.int64()), ("framework_id", "VARCHAR", pa.string()),
        ("name", "VARCHAR", pa.string()), ("stages", "VARCHAR", pa.string()),
    ],
}


def _term_key(term: str) -> int:
    return int(term[:4]) * 10 + int(term[-1])


def _outcome(kind: str):  # noqa: ANN202 - small factory
    def flatten(b: Batch, e: Any, d: dict[str, Any]) -> None:
        b.add("outcomes", position=e.position, recorded_at=e.recorded_at, actor=e.actor, kind=kind,
              outcome_id=d["outcome_id"], pupil_id=d.get("pupil_id"), area=d.get("area"),
              description=d.get("description"), reason=d.get("reason"))
    return flatten


def _target(kind: str):  # noqa: ANN202 - small factory
    def flatten(b: Batch, e: Any, d: dict[str, Any]) -> None:
        b.add("targets", position=e.position, recorded_at=e.recorded_at, actor=e.actor, kind=kind,
              target_id=d["target_id"], pupil_id=d["pupil_id"], outcome_id=d.get("outcome_id"),
              framework_id=d.get("framework_id"), description=d.get("description"), reason=d.get("reason"))
        for term in d.get("terms") or ():
            b.add("target_terms", position=e.position, target_id=d["target_id"], term_key=_term_key(term))
    return flatten


def _stage(b: Batch, e: Any, d: dict[str, Any]) -> None:
    b.add("stages", position=e.position, recorded_at=e.recorded_at, actor=e.actor, target_id=d["target_id"],
          pupil_id=d["pupil_id"], stage=d["stage"], stage_index=d["stage_index"],
          achieved_on=date.fromisoformat(d["achieved_on"]), note=d.get("note"),
          reason=d.get("reason"))


def _framework(b: Batch, e: Any, d: dict[str, Any]) -> None:
    b.add("frameworks", position=e.position, framework_id=d["framework_id"], name=d["name"],
          stages=json.dumps(d["stages"]))


FLATTEN = {
    "OutcomeSet": _outcome("set"),
    "OutcomeRevised": _outcome("revised"),
    "OutcomeClosed": _outcome("closed"),
    "TargetSet": _target("set"),
    "TargetApproved": _target("approved"),
    "TargetRevised": _target("revised"),
    "TargetWithdrawn": _target("withdrawn"),
    "StageRecorded": _stage,
    "FrameworkDefined": _framework,
}
