"""The DuckDB read model: the event log flattened into history tables, caught up incrementally.

Every table keeps the position of the event each row came from and nothing is ever updated, so a
question "as the ledger stood at position p" is a ``WHERE position <= p`` in SQL; nothing is
replayed in Python per query. The last applied position and its hash are written in the same
DuckDB transaction as the rows, so a crash mid-batch loses the batch and the next read redoes it.
The file is a cache: delete it at any time and the next read rebuilds it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ledger.leadership_views import AuditEntry, ClassChange, JudgementChange, LearningChange, ReasonGroup
from ledger.errors import TamperingFound
from ledger.readmodel import HistoryRow, JudgementView, OutcomeView, Report, TargetView, TermProgress
from ledger.store.base import EventStore
from ledger.store.chain import GENESIS
from ledger.store.mapper import StoredEvent, format_time, parse_time
from projections import figures_tables, leadership_sql, learning_sql, learning_tables, report_sql

PROJECTION_VERSION = "4"  # 3: log keeps command_id and payload (for ledger audit); 4: historic_figures
BATCH = 50_000

_TABLES: dict[str, list[tuple[str, str, pa.DataType]]] = {
    "log": [
        ("position", "BIGINT", pa.int64()), ("recorded_at", "VARCHAR", pa.string()),
        ("actor", "VARCHAR", pa.string()), ("event_type", "VARCHAR", pa.string()),
        ("stream_id", "VARCHAR", pa.string()), ("command_id", "VARCHAR", pa.string()),
        ("payload", "VARCHAR", pa.string()),
    ],
    "classes": [
        ("position", "BIGINT", pa.int64()), ("class_id", "VARCHAR", pa.string()),
        ("kind", "VARCHAR", pa.string()), ("phase", "VARCHAR", pa.string()),
        ("mark", "VARCHAR", pa.string()), ("term_key", "INTEGER", pa.int32()),
    ],
    "placements": [
        ("position", "BIGINT", pa.int64()), ("pupil_id", "VARCHAR", pa.string()),
        ("kind", "VARCHAR", pa.string()), ("class_id", "VARCHAR", pa.string()),
        ("on_date", "DATE", pa.date32()),
    ],
    "judgements": [
        ("position", "BIGINT", pa.int64()), ("recorded_at", "VARCHAR", pa.string()),
        ("actor", "VARCHAR", pa.string()), ("kind", "VARCHAR", pa.string()),
        ("pupil_id", "VARCHAR", pa.string()), ("term", "VARCHAR", pa.string()),
        ("year_start", "INTEGER", pa.int32()), ("term_n", "INTEGER", pa.int32()),
        ("class_id", "VARCHAR", pa.string()), ("status", "VARCHAR", pa.string()),
        ("reason", "VARCHAR", pa.string()), ("supersedes_position", "BIGINT", pa.int64()),
    ],
    "term_dates": [
        ("position", "BIGINT", pa.int64()), ("term_key", "INTEGER", pa.int32()),
        ("start_date", "DATE", pa.date32()), ("end_date", "DATE", pa.date32()),
    ],
    **learning_tables.TABLES,
    **figures_tables.TABLES,
}


def _term_key(term: str) -> int:
    return int(term[:4]) * 10 + int(term[-1])


class _Batch:
    """Column lists for one catch-up batch, turned into Arrow tables in one go."""

    def __init__(self, school: str = "") -> None:
        self.school = school
        self.columns = {t: {c: [] for c, _, _ in cols} for t, cols in _TABLES.items()}

    def add(self, table: str, **values: Any) -> None:
        for column, items in self.columns[table].items():
            items.append(values.get(column))

    def arrow(self, table: str) -> pa.Table:
        schema = pa.schema([(c, t) for c, _, t in _TABLES[table]])
        return pa.table(self.columns[table], schema=schema)

    def apply(self, e: StoredEvent) -> None:
        self.add("log", position=e.position, recorded_at=e.recorded_at, actor=e.actor,
                 event_type=e.event_type, stream_id=e.stream_id, command_id=e.command_id, payload=e.payload)
        kind = e.event_type
        # Positions are global, so the log keeps every event (as-at lookups); the facts are this school's.
        if kind not in _FLATTEN or e.school != self.school:
            return
        try:
            _FLATTEN[kind](self, e, json.loads(e.payload))
        except (ValueError, KeyError, TypeError, IndexError):
            # The store validated this payload on the way in, so a payload that no longer parses
            # was changed behind its back.
            raise TamperingFound(e.position, "payload is not the event that was stored; run 'ledger verify'") from None


def _date(text: str) -> Any:
    return date.fromisoformat(text)  # the stored payload's YYYY-MM-DD; a tenth of strptime's cost


def _judgement(kind: str):  # noqa: ANN202 - tiny factory
    def flatten(b: _Batch, e: StoredEvent, d: dict[str, Any]) -> None:
        key = _term_key(d["term"])
        b.add("judgements", position=e.position, recorded_at=e.recorded_at, actor=e.actor, kind=kind,
              pupil_id=d["pupil_id"], term=d["term"], year_start=key // 10, term_n=key % 10,
              class_id=d["class_id"], status=d["status"], reason=d.get("reason"),
              supersedes_position=d.get("supersedes_position"))
    return flatten


_FLATTEN = {
    "ClassOpened": lambda b, e, d: b.add("classes", position=e.position, class_id=d["class_id"], kind="opened",
                                         phase=d["phase"], mark=d.get("mark"), term_key=_term_key(d["from_term"])),
    "ClassClosed": lambda b, e, d: b.add("classes", position=e.position, class_id=d["class_id"], kind="closed",
                                         term_key=_term_key(d["after_term"])),
    "PupilEnrolled": lambda b, e, d: b.add("placements", position=e.position, pupil_id=d["pupil_id"],
                                           kind="enrolled", class_id=d["class_id"], on_date=_date(d["on"])),
    "PupilMoved": lambda b, e, d: b.add("placements", position=e.position, pupil_id=d["pupil_id"],
                                        kind="moved", class_id=d["to_class"], on_date=_date(d["on"])),
    "PupilLeft": lambda b, e, d: b.add("placements", position=e.position, pupil_id=d["pupil_id"],
                                       kind="left", class_id=d["class_id"], on_date=_date(d["on"])),
    "JudgementRecorded": _judgement("recorded"),
    "JudgementRevised": _judgement("revised"),
    "TermDatesSet": lambda b, e, d: b.add("term_dates", position=e.position, term_key=_term_key(d["term"]),
                                          start_date=_date(d["start"]), end_date=_date(d["end"])),
    **learning_tables.FLATTEN,
    **figures_tables.FLATTEN,
}


class DuckDbProjection:
    """Implements :class:`ledger.readmodel.ReadModel` over a DuckDB file (or memory)."""

    def __init__(self, store: EventStore, path: Path | None = None, school: str = "") -> None:
        self.store = store
        self.path = path
        self.school = school
        self.con = _connect(path)
        self._ensure_schema()

    # -- maintenance -------------------------------------------------------------------------
    def _meta(self) -> dict[str, str]:
        return dict(self.con.execute("SELECT k, v FROM meta").fetchall())

    def _ensure_schema(self) -> None:
        tables = {r[0] for r in self.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "meta" in tables and self._meta().get("version") == PROJECTION_VERSION:
            return
        self._create()

    def _create(self) -> None:
        self.con.execute("BEGIN")
        for table in ["meta", *_TABLES]:
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        self.con.execute("CREATE TABLE meta (k VARCHAR PRIMARY KEY, v VARCHAR)")
        for table, cols in _TABLES.items():
            self.con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t, _ in cols)})")
        self.con.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("version", PROJECTION_VERSION), ("position", "0"), ("hash", GENESIS)],
        )
        self.con.execute("COMMIT")

    def rebuild(self) -> int:
        self._create()
        return self.catch_up()

    @property
    def position(self) -> int:
        return int(self._meta()["position"])

    def catch_up(self) -> int:
        meta = self._meta()
        applied, applied_hash = int(meta["position"]), meta["hash"]
        if applied and not self._still_matches(applied, applied_hash):
            self._create()  # the ledger behind this cache was replaced: start again
            applied = 0
        while True:
            batch_events = list(self.store.read_all(after=applied, limit=BATCH))
            if not batch_events:
                return applied
            self._apply(batch_events)
            applied = batch_events[-1].position

    def apply_batch(self, events: list[StoredEvent]) -> None:
        """Apply events that follow the current position (used by catch-up and its tests)."""
        self._apply(events)

    def _still_matches(self, position: int, hash_: str) -> bool:
        at = next(iter(self.store.read_all(after=position - 1, limit=1)), None)
        return at is not None and at.position == position and at.hash == hash_

    def _apply(self, events: list[StoredEvent]) -> None:
        batch = _Batch(self.school)
        for e in events:
            batch.apply(e)
        self.con.execute("BEGIN")
        try:
            for table in _TABLES:
                arrow_table = batch.arrow(table)
                if arrow_table.num_rows:
                    self.con.register("incoming", arrow_table)
                    self.con.execute(f"INSERT INTO {table} SELECT * FROM incoming")
                    self.con.unregister("incoming")
            self.con.execute("UPDATE meta SET v = ? WHERE k = 'position'", [str(events[-1].position)])
            self.con.execute("UPDATE meta SET v = ? WHERE k = 'hash'", [events[-1].hash])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.con.close()

    # -- queries -----------------------------------------------------------------------------
    def position_at(self, instant: datetime) -> int:
        row = self.con.execute(
            "SELECT coalesce(max(position), 0) FROM log WHERE recorded_at <= ?", [format_time(instant)]
        ).fetchone()
        return int(row[0]) if row else 0

    def recorded_at(self, position: int) -> datetime | None:
        row = self.con.execute("SELECT recorded_at FROM log WHERE position = ?", [position]).fetchone()
        return parse_time(row[0]) if row else None

    def report(self, year_start: int, position: int, as_at: datetime, tz_name: str) -> Report:
        return report_sql.build_report(self.con, year_start, position, as_at, tz_name)

    def history(self, pupil_id: str, term: str | None, position: int) -> list[HistoryRow]:
        rows = self.con.execute(
            "SELECT position, recorded_at, actor, kind, term, class_id, status, reason, supersedes_position "
            "FROM judgements WHERE pupil_id = ? AND position <= ? AND (? IS NULL OR term = ?) ORDER BY position",
            [pupil_id, position, term, term],
        ).fetchall()
        return [
            HistoryRow(r[0], parse_time(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows
        ]

    # -- the learning record -------------------------------------------------------------------
    def targets(self, position: int, pupil_id: str | None = None, with_stages: bool = False) -> list[TargetView]:
        return learning_sql.targets(self.con, position, pupil_id, with_stages)

    def term_progress(self, position: int, term_key: int, start: date, end: date, year_start: date,
                      year_end: date) -> list[TermProgress]:
        return learning_sql.progress(self.con, position, term_key, start, end, year_start, year_end)

    def outcomes(self, position: int, pupil_id: str) -> list[OutcomeView]:
        return learning_sql.outcomes(self.con, position, pupil_id)

    def judgements_in_force(self, position: int, year_start: int | None = None, term_n: int | None = None,
                            pupil_id: str | None = None) -> list[JudgementView]:
        return learning_sql.judgements_in_force(self.con, position, year_start, term_n, pupil_id)

    def frameworks(self, position: int) -> list[tuple[str, str, list[str]]]:
        return learning_sql.frameworks(self.con, position)

    def roll_on(self, position: int, day: date) -> dict[str, str]:
        return report_sql.roll_on(self.con, position, day)

    def term_dates(self, position: int, year_start: int) -> dict[int, tuple[date, date]]:
        return report_sql.term_dates(self.con, position, year_start)

    # -- leadership queries (projections/leadership_sql.py) ------------------------------------
    def judgement_changes(self, lo: int, hi: int, year_start: int | None = None) -> list[JudgementChange]:
        return leadership_sql.judgement_changes(self.con, lo, hi, year_start)

    def learning_changes(self, lo: int, hi: int) -> list[LearningChange]:
        return leadership_sql.learning_changes(self.con, lo, hi)

    def class_changes(self, lo: int, hi: int) -> list[ClassChange]:
        return leadership_sql.class_changes(self.con, lo, hi)

    def audit(self, actor: str | None = None, since: datetime | None = None, until: datetime | None = None,
              event_types: list[str] | None = None) -> list[AuditEntry]:
        return leadership_sql.audit(self.con, actor, since and format_time(since), until and format_time(until),
                                    event_types)

    def actors(self) -> set[str]:
        return leadership_sql.actors(self.con)

    def years(self, position: int) -> list[int]:
        return leadership_sql.years(self.con, position)

    def smaller_steps(self, position: int, year_start: int, term_n: int, class_id: str | None = None
                      ) -> list[ReasonGroup]:
        return leadership_sql.smaller_steps(self.con, position, year_start, term_n, class_id)

    def class_phases(self, position: int) -> dict[str, str]:
        return leadership_sql.class_phases(self.con, position)


def _connect(path: Path | None) -> duckdb.DuckDBPyConnection:
    """Open the projection file; if another process holds it (DuckDB allows one writer per file)
    or it cannot be written, fall back to a private in-memory projection rather than fail."""
    if path is None:
        return duckdb.connect(":memory:")
    try:
        return duckdb.connect(str(path))
    except (duckdb.IOException, duckdb.PermissionException, duckdb.InvalidInputException, OSError):
        return duckdb.connect(":memory:")
