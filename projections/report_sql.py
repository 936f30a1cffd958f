"""The termly report as SQL over the projection's history tables, at any position."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb

from ledger.domain.calendar import Term
from ledger.readmodel import Cell, ClassRow, Counts, PhaseBlock, Report
from projections import figures_sql

_TERM_DATES = """
SELECT term_key, start_date, end_date FROM term_dates
WHERE position <= $p AND term_key BETWEEN $y * 10 + 1 AND $y * 10 + 3
QUALIFY row_number() OVER (PARTITION BY term_key ORDER BY position DESC) = 1
"""

_CLASSES = """
SELECT class_id,
       any_value(phase) FILTER (WHERE kind = 'opened') AS phase,
       any_value(mark) FILTER (WHERE kind = 'opened') AS mark,
       min(position) FILTER (WHERE kind = 'opened') AS opened_at,
       min(term_key) FILTER (WHERE kind = 'opened') AS from_key,
       min(term_key) FILTER (WHERE kind = 'closed') AS closed_key
FROM classes WHERE position <= $p
GROUP BY class_id
HAVING from_key <= $y * 10 + 3 AND (closed_key IS NULL OR closed_key >= $y * 10 + 1)
ORDER BY opened_at
"""

# The judgement in force for each pupil and term is the latest event in its stream as at $p.
_COUNTS = """
SELECT class_id, term_n,
       count(*) FILTER (WHERE status = 'appropriate') AS appropriate,
       count(*) FILTER (WHERE status = 'smaller-steps') AS smaller_steps
FROM (
    SELECT class_id, term_n, status FROM judgements
    WHERE position <= $p AND year_start = $y
    QUALIFY row_number() OVER (PARTITION BY pupil_id, term_n ORDER BY position DESC) = 1
)
GROUP BY class_id, term_n
"""

# Placements as at $p: each enrolment or move runs until the pupil's next event (a move ends the
# old placement the day before; leaving makes that date the last day on roll).
_SPANS = """
seg AS (
    SELECT pupil_id, kind, class_id, on_date,
           lead(on_date) OVER w AS next_on, lead(kind) OVER w AS next_kind
    FROM placements WHERE position <= $p
    WINDOW w AS (PARTITION BY pupil_id ORDER BY on_date, position)
), spans AS (
    SELECT pupil_id, class_id, on_date AS first_day,
           CASE WHEN next_kind IS NULL THEN NULL
                WHEN next_kind = 'left' THEN next_on
                ELSE next_on - 1 END AS last_day
    FROM seg WHERE kind <> 'left'
)"""

_UNJUDGED = f"""
WITH {_SPANS}, refs AS (
    SELECT * FROM (VALUES (1, $r1::DATE), (2, $r2::DATE), (3, $r3::DATE)) AS t(term_n, ref)
), roll AS (
    SELECT s.pupil_id, s.class_id, r.term_n FROM spans s
    JOIN refs r ON s.first_day <= r.ref AND (s.last_day IS NULL OR s.last_day >= r.ref)
), judged AS (
    SELECT DISTINCT pupil_id, term_n FROM judgements WHERE position <= $p AND year_start = $y
)
SELECT class_id, term_n, count(*) FROM roll ANTI JOIN judged USING (pupil_id, term_n)
GROUP BY class_id, term_n
"""


def roll_on(con: duckdb.DuckDBPyConnection, position: int, day: date) -> dict[str, str]:
    """Pupil id to class for everyone on roll on ``day``, as the ledger stood at ``position``."""
    rows = con.execute(
        f"WITH {_SPANS} SELECT pupil_id, class_id FROM spans "
        "WHERE first_day <= $d AND (last_day IS NULL OR last_day >= $d) ORDER BY pupil_id",
        {"p": position, "d": day},
    ).fetchall()
    return dict(rows)


def reference_date(start: date, end: date, today: date) -> date:
    """Whose roll counts as unjudged: the roll at the end of the term, or today while it runs."""
    if today < start:
        return start
    return min(end, today)


def term_dates(con: duckdb.DuckDBPyConnection, position: int, year_start: int) -> dict[int, tuple[date, date]]:
    """Term number to (first day, last day) in force at ``position``: the school's own or the defaults."""
    overrides = {k % 10: (s, e) for k, s, e in con.execute(_TERM_DATES, {"p": position, "y": year_start}).fetchall()}
    return {n: overrides.get(n) or Term.from_key(year_start * 10 + n).default_dates() for n in (1, 2, 3)}


def build_report(
    con: duckdb.DuckDBPyConnection, year_start: int, position: int, as_at: datetime, tz_name: str
) -> Report:
    aggregate = figures_sql.build_report(con, year_start, position, as_at)
    if aggregate is not None:  # a year kept as the school's historic aggregate figures
        return aggregate
    params = {"p": position, "y": year_start}
    dates = term_dates(con, position, year_start)
    today = as_at.astimezone(ZoneInfo(tz_name)).date()
    terms = [Term.from_key(year_start * 10 + n) for n in (1, 2, 3)]
    refs = {f"r{n}": reference_date(*dates[n], today) for n in (1, 2, 3)}
    classes = con.execute(_CLASSES, params).fetchall()
    counts = {(c, n): (a, s) for c, n, a, s in con.execute(_COUNTS, params).fetchall()}
    unjudged = {(c, n): u for c, n, u in con.execute(_UNJUDGED, {**params, **refs}).fetchall()}

    # Plain ints summed per phase and term, Counts made once at the end: a school of a thousand
    # classes would otherwise build tens of thousands of frozen dataclasses per report.
    keyed = [(t.label, t.key, t.number) for t in terms]
    not_open = Cell("not_open")  # frozen: one instance serves every cell that is not open
    phases: dict[str, PhaseBlock] = {}
    sums: dict[str, dict[str, list[int]]] = {}
    for class_id, phase, mark, _opened, from_key, closed_key in classes:
        cells: dict[str, Cell] = {}
        if phase not in phases:
            phases[phase] = PhaseBlock(phase, [], {})
            sums[phase] = {label: [0, 0] for label, _, _ in keyed}
        phase_sums = sums[phase]
        for label, key, number in keyed:
            if not (from_key <= key and (closed_key is None or key <= closed_key)):
                cells[label] = not_open
                continue
            a, s = counts.get((class_id, number), (0, 0))
            left = unjudged.get((class_id, number), 0)
            cells[label] = Cell("recorded" if a + s else "not_recorded", a, s, left)
            phase_sums[label][0] += a
            phase_sums[label][1] += s
        row_label = f"{class_id} ({mark})" if mark else class_id
        phases[phase].classes.append(ClassRow(class_id, row_label, cells))
    school = {label: Counts() for label, _, _ in keyed}
    for phase, block in phases.items():
        for label, (a, s) in sums[phase].items():
            block.totals[label] = Counts(a, s)
            school[label] += block.totals[label]
    return Report(
        year=f"{year_start}-{(year_start + 1) % 100:02d}",
        as_at=as_at, position=position, phases=list(phases.values()), totals=school,
    )
