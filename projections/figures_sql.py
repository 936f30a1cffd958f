"""The termly report for a year kept as the school's historic aggregate figures.

Same shape as the pupil-level report (phases, classes, cells, totals); phases and classes come in
the order of the school's own table, and ``source`` is ``"aggregate"`` with a note saying so.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from ledger.domain.calendar import Term
from ledger.readmodel import Cell, ClassRow, Counts, PhaseBlock, Report

# The table in force as at $p: every row of the latest figures event for the year.
_LATEST = """
SELECT position, kind, source, reason, class_order, phase, class_id, mark, term_n, state, appropriate, smaller_steps
FROM historic_figures
WHERE year_start = $y AND position = (
    SELECT max(position) FROM historic_figures WHERE year_start = $y AND position <= $p
)
ORDER BY class_order, term_n
"""


def build_report(con: duckdb.DuckDBPyConnection, year_start: int, position: int, as_at: datetime) -> Report | None:
    """The aggregate report, or None when the year has no historic figures as at ``position``."""
    rows = con.execute(_LATEST, {"y": year_start, "p": position}).fetchall()
    if not rows:
        return None
    terms = [Term.from_key(year_start * 10 + n) for n in (1, 2, 3)]
    phases: dict[str, PhaseBlock] = {}
    school = {t.label: Counts() for t in terms}
    classes: dict[str, tuple[str, str | None, dict[str, Cell]]] = {}
    for _pos, _kind, _source, _reason, _order, phase, class_id, mark, term_n, state, a, s in rows:
        block = phases.setdefault(phase, PhaseBlock(phase, [], {t.label: Counts() for t in terms}))
        if class_id not in classes:
            classes[class_id] = (phase, mark, {})
            label = f"{class_id} ({mark})" if mark else class_id
            block.classes.append(ClassRow(class_id, label, classes[class_id][2]))
        cells = classes[class_id][2]
        label_t = f"T{term_n}"
        if state == "not_open":
            cells[label_t] = Cell("not_open")
            continue
        a, s = a or 0, s or 0
        # As for pupil-level figures, a cell counts as recorded only when someone was counted in it.
        cells[label_t] = Cell("recorded" if a + s else "not_recorded", a, s, 0)
        block.totals[label_t] += Counts(a, s)
        school[label_t] += Counts(a, s)
    position_of, kind, source, reason = rows[0][0], rows[0][1], rows[0][2], rows[0][3]
    year = f"{year_start}-{(year_start + 1) % 100:02d}"
    revised = f", revised: {reason}" if kind == "revised" and reason else ""
    note = (f"Aggregate figures: the school's own table for {year}, imported from {source} "
            f"(ledger position {position_of}{revised}). No pupil-level records stand behind them, so pupils "
            "not yet judged are not known.")
    return Report(year=year, as_at=as_at, position=position, phases=list(phases.values()), totals=school,
                  source="aggregate", note=note)
