"""Projection table for historic aggregate figures: one row per class and term of each recorded table.

Like every projection table it only grows: a revision adds the whole corrected table under its own
position, and the report reads the latest table for the year as the ledger stood at position p.
"""

from __future__ import annotations

from projections.flatten import Table

_TERM = '{"state": "VARCHAR", "appropriate": "INTEGER", "smaller_steps": "INTEGER"}'
_CLASSES = f'[{{"phase": "VARCHAR", "class_id": "VARCHAR", "mark": "VARCHAR", "t1": {_TERM}, "t2": {_TERM}, "t3": {_TERM}}}]'

HISTORIC_FIGURES = Table(
    "historic_figures",
    (("position", "BIGINT"), ("recorded_at", "VARCHAR"), ("actor", "VARCHAR"), ("kind", "VARCHAR"),
     ("year_start", "INTEGER"), ("source", "VARCHAR"), ("reason", "VARCHAR"), ("class_order", "INTEGER"),
     ("phase", "VARCHAR"), ("class_id", "VARCHAR"), ("mark", "VARCHAR"), ("term_n", "INTEGER"),
     ("state", "VARCHAR"), ("appropriate", "INTEGER"), ("smaller_steps", "INTEGER")),
    ("HistoricFiguresRecorded", "HistoricFiguresRevised"),
    # Each class of the document in its order (class_order from 0), then its three terms.
    f"""WITH tables AS (
            SELECT position, recorded_at, actor, event_type, p, from_json(p->'classes', '{_CLASSES}') AS classes
            FROM ev WHERE event_type IN ('HistoricFiguresRecorded', 'HistoricFiguresRevised')
        ), rows AS (
            SELECT *, unnest(classes) AS c, unnest(range(CAST(len(classes) AS BIGINT))) AS class_order FROM tables
        )
        SELECT position, recorded_at, actor,
               CASE event_type WHEN 'HistoricFiguresRecorded' THEN 'recorded' ELSE 'revised' END,
               TRY_CAST(left(p->>'year', 4) AS INTEGER), p->>'source', p->>'reason', class_order,
               c.phase, c.class_id, c.mark, n, t.state, t.appropriate, t.smaller_steps
        FROM rows, LATERAL (SELECT n, CASE n WHEN 1 THEN c.t1 WHEN 2 THEN c.t2 ELSE c.t3 END AS t
                            FROM range(1, 4) AS terms(n))""",
    "year_start IS NULL OR phase IS NULL OR class_id IS NULL OR state IS NULL",
)

TABLES = [HISTORIC_FIGURES]
