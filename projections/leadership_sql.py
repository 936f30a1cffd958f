"""The leadership queries as SQL over the projection: what changed between two positions, the audit
log, the years held, and smaller steps grouped by reason.

Like every other query here, "as the ledger stood at position p" is ``WHERE position <= p``; a range
of the log is ``position BETWEEN lo AND hi``. Previous values (the judgement a revision replaced, the
stage recorded before) come from window functions over the whole history up to ``hi``, so the first
event in a range still knows what it changed.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ledger.leadership_views import AuditEntry, ClassChange, JudgementChange, LearningChange, ReasonGroup
from ledger.store.mapper import parse_time

_JUDGEMENT_CHANGES = """
SELECT * FROM (
    SELECT position, recorded_at, actor, kind, pupil_id, term, class_id, status, reason,
           lag(status) OVER w, lag(class_id) OVER w, lag(reason) OVER w
    FROM judgements WHERE position <= $hi AND ($y IS NULL OR year_start = $y)
    WINDOW w AS (PARTITION BY pupil_id, term ORDER BY position)
) WHERE position >= $lo
ORDER BY position
"""

_LEARNING_CHANGES = """
WITH st AS (
    SELECT position, recorded_at, actor, 'stage' AS item, 'recorded' AS kind, pupil_id, target_id AS item_id,
           stage AS value, lag(stage) OVER (PARTITION BY target_id ORDER BY position) AS previous,
           CAST(achieved_on AS VARCHAR) AS on_date, note, reason,
           coalesce(stage_index < lag(stage_index) OVER (PARTITION BY target_id ORDER BY position), FALSE)
               AS regression
    FROM stages WHERE position <= $hi
), tg AS (
    SELECT position, recorded_at, actor, 'target', kind, pupil_id, target_id, description, NULL, NULL, NULL, reason,
           FALSE
    FROM targets WHERE position <= $hi
), owners AS (
    SELECT outcome_id, any_value(pupil_id) AS owner FROM outcomes WHERE kind = 'set' GROUP BY outcome_id
), oc AS (
    SELECT o.position, o.recorded_at, o.actor, 'outcome', o.kind, coalesce(o.pupil_id, owners.owner), o.outcome_id,
           o.description, NULL, NULL, NULL, o.reason, FALSE
    FROM outcomes o LEFT JOIN owners USING (outcome_id) WHERE o.position <= $hi
)
SELECT * FROM (SELECT * FROM st UNION ALL SELECT * FROM tg UNION ALL SELECT * FROM oc)
WHERE position >= $lo
ORDER BY position
"""

_CLASS_CHANGES = """
SELECT c.position, l.recorded_at, l.actor, c.class_id, c.kind, c.term_key
FROM classes c JOIN log l USING (position)
WHERE c.position BETWEEN $lo AND $hi
ORDER BY c.position
"""

# The judgement in force per pupil for the term; smaller steps grouped by the reason's text with
# case and runs of spaces ignored (the first spelling, alphabetically, names the group).
_SMALLER_STEPS = r"""
WITH in_force AS (
    SELECT pupil_id, class_id, status, reason FROM judgements
    WHERE position <= $p AND year_start = $y AND term_n = $n
    QUALIFY row_number() OVER (PARTITION BY pupil_id ORDER BY position DESC) = 1
)
SELECT min(trim(reason)) AS label, list([class_id, pupil_id] ORDER BY class_id, pupil_id) AS pupils
FROM in_force
WHERE status = 'smaller-steps' AND ($c IS NULL OR class_id = $c)
GROUP BY lower(regexp_replace(trim(coalesce(reason, '')), '\s+', ' ', 'g'))
ORDER BY count(*) DESC, lower(label), label
"""


def _from_key(key: int) -> str:
    y = key // 10
    return f"{y}-{(y + 1) % 100:02d}/T{key % 10}"


def judgement_changes(con: duckdb.DuckDBPyConnection, lo: int, hi: int, year_start: int | None = None
                      ) -> list[JudgementChange]:
    rows = con.execute(_JUDGEMENT_CHANGES, {"lo": lo, "hi": hi, "y": year_start}).fetchall()
    return [JudgementChange(r[0], parse_time(r[1]), *r[2:]) for r in rows]


def learning_changes(con: duckdb.DuckDBPyConnection, lo: int, hi: int) -> list[LearningChange]:
    rows = con.execute(_LEARNING_CHANGES, {"lo": lo, "hi": hi}).fetchall()
    return [LearningChange(r[0], parse_time(r[1]), *r[2:]) for r in rows]


def class_changes(con: duckdb.DuckDBPyConnection, lo: int, hi: int) -> list[ClassChange]:
    rows = con.execute(_CLASS_CHANGES, {"lo": lo, "hi": hi}).fetchall()
    return [ClassChange(r[0], parse_time(r[1]), r[2], r[3], r[4], _from_key(r[5])) for r in rows]


def audit(con: duckdb.DuckDBPyConnection, actor: str | None = None, since: str | None = None,
          until: str | None = None, event_types: list[str] | None = None) -> list[AuditEntry]:
    """The log, oldest first; ``since``/``until`` are stored-time strings, both inclusive."""
    where, params = ["TRUE"], {}
    if actor is not None:
        where.append("actor = $actor")
        params["actor"] = actor
    if since is not None:
        where.append("recorded_at >= $since")
        params["since"] = since
    if until is not None:
        where.append("recorded_at <= $until")
        params["until"] = until
    if event_types:
        names = [f"$t{i}" for i in range(len(event_types))]
        where.append(f"event_type IN ({', '.join(names)})")
        params.update({f"t{i}": t for i, t in enumerate(event_types)})
    rows = con.execute(
        "SELECT position, recorded_at, actor, event_type, stream_id, command_id, payload FROM log "
        f"WHERE {' AND '.join(where)} ORDER BY position", params,
    ).fetchall()
    return [AuditEntry(r[0], parse_time(r[1]), *r[2:]) for r in rows]


def actors(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Everyone who wrote to the ledger or was registered as staff in it."""
    return {r[0] for r in con.execute(
        "SELECT actor FROM log UNION SELECT json_extract_string(payload, '$.staff_id') FROM log "
        "WHERE event_type = 'StaffRegistered'"
    ).fetchall() if r[0] is not None}


def years(con: duckdb.DuckDBPyConnection, position: int) -> list[int]:
    """Every academic year (by its first calendar year) with judgements or figures at ``position``.

    Any projection table with ``position`` and ``year_start`` columns counts, so a table of another
    kind of yearly figures is picked up without changing this query.
    """
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'year_start' "
        "INTERSECT SELECT table_name FROM information_schema.columns WHERE column_name = 'position'"
    ).fetchall()]
    if not tables:
        return []
    union = " UNION ".join(f"SELECT year_start FROM {t} WHERE position <= $p" for t in sorted(tables))
    return [r[0] for r in con.execute(f"SELECT DISTINCT year_start FROM ({union}) ORDER BY 1", {"p": position})
            .fetchall() if r[0] is not None]


def smaller_steps(con: duckdb.DuckDBPyConnection, position: int, year_start: int, term_n: int,
                  class_id: str | None = None) -> list[ReasonGroup]:
    params: dict[str, Any] = {"p": position, "y": year_start, "n": term_n, "c": class_id}
    return [ReasonGroup(reason or "", [(p, c) for c, p in pupils])
            for reason, pupils in con.execute(_SMALLER_STEPS, params).fetchall()]


def class_phases(con: duckdb.DuckDBPyConnection, position: int) -> dict[str, str]:
    """Every class opened at ``position``, in the order opened, with its phase."""
    rows = con.execute(
        "SELECT class_id, any_value(phase) FROM classes WHERE position <= $p AND kind = 'opened' "
        "GROUP BY class_id ORDER BY min(position)", {"p": position},
    ).fetchall()
    return dict(rows)
