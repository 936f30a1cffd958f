"""Learning-record questions as SQL over the projection, at any position $p."""

from __future__ import annotations

import json
from datetime import date

import duckdb

from ledger.readmodel import JudgementView, OutcomeView, StageView, TargetView, TermProgress
from ledger.store.mapper import parse_time

# The definition in force for each target (its latest set or revision), whether an approval came
# after it, whether it was withdrawn, and its latest stage by date achieved.
_TARGETS = """
WITH t AS (SELECT * FROM targets WHERE position <= $p),
defs AS (SELECT target_id, pupil_id, outcome_id, framework_id FROM t WHERE kind = 'set'),
latest_def AS (
    SELECT target_id, description, position AS def_pos FROM t WHERE kind IN ('set', 'revised')
    QUALIFY row_number() OVER (PARTITION BY target_id ORDER BY position DESC) = 1
),
appr AS (
    SELECT target_id, position AS appr_pos, actor AS approved_by FROM t WHERE kind = 'approved'
    QUALIFY row_number() OVER (PARTITION BY target_id ORDER BY position DESC) = 1
),
wd AS (SELECT DISTINCT target_id FROM t WHERE kind = 'withdrawn'),
cur AS (
    SELECT target_id, stage, stage_index FROM stages WHERE position <= $p
    QUALIFY row_number() OVER (PARTITION BY target_id ORDER BY achieved_on DESC, position DESC) = 1
),
terms AS (
    SELECT tt.target_id, list(tt.term_key ORDER BY tt.term_key) AS term_keys
    FROM target_terms tt JOIN latest_def l ON tt.target_id = l.target_id AND tt.position = l.def_pos
    GROUP BY tt.target_id
)
SELECT d.target_id, d.pupil_id, d.outcome_id, d.framework_id, l.description,
       coalesce(a.appr_pos > l.def_pos, false) AS approved,
       CASE WHEN a.appr_pos > l.def_pos THEN a.approved_by END AS approved_by,
       wd.target_id IS NOT NULL AS withdrawn, cur.stage, cur.stage_index, terms.term_keys
FROM defs d JOIN latest_def l USING (target_id)
LEFT JOIN appr a USING (target_id) LEFT JOIN wd USING (target_id)
LEFT JOIN cur USING (target_id) LEFT JOIN terms USING (target_id)
"""

# Per target covering a term: the stage before the term began (or, for a target first recorded
# during the term, its first stage in the term) against the last stage by the term's end.
_PROGRESS = f"""
WITH tv AS ({_TARGETS}),
s AS (SELECT * FROM stages WHERE position <= $p),
before AS (
    SELECT target_id, stage_index FROM s WHERE achieved_on < $start
    QUALIFY row_number() OVER (PARTITION BY target_id ORDER BY achieved_on DESC, position DESC) = 1
),
first_in AS (
    SELECT target_id, stage_index FROM s WHERE achieved_on BETWEEN $start AND $end
    QUALIFY row_number() OVER (PARTITION BY target_id ORDER BY achieved_on, position) = 1
),
at_end AS (
    SELECT target_id, stage_index FROM s WHERE achieved_on <= $end
    QUALIFY row_number() OVER (PARTITION BY target_id ORDER BY achieved_on DESC, position DESC) = 1
),
counts AS (
    SELECT target_id,
           count(*) FILTER (WHERE achieved_on BETWEEN $start AND $end) AS in_term,
           count(DISTINCT stage_index) FILTER (WHERE achieved_on BETWEEN $year_start AND least($end, $year_end)) AS distinct_year
    FROM s GROUP BY target_id
)
SELECT tv.target_id, tv.pupil_id, tv.approved, coalesce(before.stage_index, first_in.stage_index) AS baseline,
       at_end.stage_index AS end_index, coalesce(counts.in_term, 0), coalesce(counts.distinct_year, 0)
FROM tv
LEFT JOIN before USING (target_id) LEFT JOIN first_in USING (target_id)
LEFT JOIN at_end USING (target_id) LEFT JOIN counts USING (target_id)
WHERE NOT tv.withdrawn AND list_contains(tv.term_keys, $term_key)
ORDER BY tv.pupil_id, tv.target_id
"""


def _from_key(key: int) -> str:
    y = key // 10
    return f"{y}-{(y + 1) % 100:02d}/T{key % 10}"


def targets(con: duckdb.DuckDBPyConnection, position: int, pupil_id: str | None = None,
            with_stages: bool = False) -> list[TargetView]:
    rows = con.execute(
        f"SELECT * FROM ({_TARGETS}) WHERE $pupil IS NULL OR pupil_id = $pupil ORDER BY pupil_id, target_id",
        {"p": position, "pupil": pupil_id},
    ).fetchall()
    stage_map: dict[str, list[StageView]] = {}
    if with_stages:
        for r in con.execute(
            "SELECT target_id, position, recorded_at, actor, stage, stage_index, achieved_on, note, reason "
            "FROM stages WHERE position <= $p AND ($pupil IS NULL OR pupil_id = $pupil) "
            "ORDER BY achieved_on, position",
            {"p": position, "pupil": pupil_id},
        ).fetchall():
            stage_map.setdefault(r[0], []).append(StageView(r[1], parse_time(r[2]), *r[3:]))
    return [
        TargetView(r[0], r[1], r[2], r[3], r[4], [_from_key(k) for k in (r[10] or [])], r[5], r[6], r[7], r[8], r[9],
                   stage_map.get(r[0], []))
        for r in rows
    ]


def progress(con: duckdb.DuckDBPyConnection, position: int, term_key: int, start: date, end: date,
             year_start: date, year_end: date) -> list[TermProgress]:
    rows = con.execute(
        _PROGRESS,
        {"p": position, "term_key": term_key, "start": start, "end": end, "year_start": year_start,
         "year_end": year_end},
    ).fetchall()
    return [TermProgress(*r) for r in rows]


def outcomes(con: duckdb.DuckDBPyConnection, position: int, pupil_id: str) -> list[OutcomeView]:
    rows = con.execute(
        """
        WITH o AS (SELECT * FROM outcomes WHERE position <= $p),
        owner AS (SELECT outcome_id FROM o WHERE kind = 'set' AND pupil_id = $pupil),
        latest AS (
            SELECT outcome_id, area, description FROM o WHERE kind IN ('set', 'revised')
            QUALIFY row_number() OVER (PARTITION BY outcome_id ORDER BY position DESC) = 1
        ),
        closed AS (SELECT DISTINCT outcome_id FROM o WHERE kind = 'closed')
        SELECT l.outcome_id, l.area, l.description, closed.outcome_id IS NOT NULL
        FROM owner JOIN latest l USING (outcome_id) LEFT JOIN closed USING (outcome_id)
        ORDER BY l.outcome_id
        """,
        {"p": position, "pupil": pupil_id},
    ).fetchall()
    return [OutcomeView(*r) for r in rows]


def judgements_in_force(con: duckdb.DuckDBPyConnection, position: int, year_start: int | None = None,
                        term_n: int | None = None, pupil_id: str | None = None) -> list[JudgementView]:
    rows = con.execute(
        """
        SELECT pupil_id, term, class_id, status, reason, position FROM judgements
        WHERE position <= $p AND ($y IS NULL OR year_start = $y) AND ($n IS NULL OR term_n = $n)
          AND ($pupil IS NULL OR pupil_id = $pupil)
        QUALIFY row_number() OVER (PARTITION BY pupil_id, term ORDER BY position DESC) = 1
        ORDER BY pupil_id, term
        """,
        {"p": position, "y": year_start, "n": term_n, "pupil": pupil_id},
    ).fetchall()
    return [JudgementView(*r) for r in rows]


def frameworks(con: duckdb.DuckDBPyConnection, position: int) -> list[tuple[str, str, list[str]]]:
    rows = con.execute(
        "SELECT framework_id, name, stages FROM frameworks WHERE position <= $p ORDER BY position", {"p": position}
    ).fetchall()
    return [(f, n, json.loads(s)) for f, n, s in rows]
