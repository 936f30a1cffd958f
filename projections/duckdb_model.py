"""The DuckDB read model: the event log flattened into history tables, caught up incrementally.

Every table keeps the position of the event each row came from and nothing is ever updated, so a
question "as the ledger stood at position p" is a ``WHERE position <= p`` in SQL; nothing is
replayed in Python per query. The last applied position and its hash are written in the same
DuckDB transaction as the rows, so a crash mid-batch loses the batch and the next read redoes it.
The file is a cache: delete it at any time and the next read rebuilds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb

from ledger.errors import TamperingFound
from ledger.leadership_views import AuditEntry, ClassChange, JudgementChange, LearningChange, ReasonGroup
from ledger.readmodel import HistoryRow, JudgementView, OutcomeView, Report, TargetView, TermProgress
from ledger.store.base import EventStore
from ledger.store.chain import GENESIS
from ledger.store.mapper import StoredEvent, format_time, parse_time
from projections import core_tables, figures_tables, flatten, leadership_sql, learning_sql, learning_tables, report_sql

# 3: log keeps command_id and payload (for ledger audit); 4: historic_figures; 5: flattened in DuckDB
PROJECTION_VERSION = "5"
BATCH = 50_000
TABLES: list[flatten.Table] = [*core_tables.TABLES, *learning_tables.TABLES, *figures_tables.TABLES]


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
        for name in ["meta", *(t.name for t in TABLES)]:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
        self.con.execute("CREATE TABLE meta (k VARCHAR PRIMARY KEY, v VARCHAR)")
        for table in TABLES:
            self.con.execute(table.ddl())
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
        """Apply the events after the projection's position; refuse a log that has lost or gained
        rows behind the store's back (the cheap checks: ``ledger verify`` re-hashes the whole chain)."""
        meta = self._meta()
        applied, applied_hash = int(meta["position"]), meta["hash"]
        if applied and not self._still_matches(applied, applied_hash):
            self._create()  # the ledger behind this cache was replaced: start again
            applied = 0
        # Appends only move the recorded head on, in the same transaction as their rows, so the
        # log read in between must end between the head before and the head after.
        head_before = self.store.recorded_head()[0]
        while True:
            batch = self.store.read_all_columns(applied, BATCH, flatten.BATCH_COLUMNS)
            if not batch["position"]:
                break
            _check_follows(applied, batch["position"])
            flatten.apply(self.con, TABLES, batch, self.school)
            applied = batch["position"][-1]
        if applied < head_before:
            raise TamperingFound(applied + 1, f"event is missing (the log should end at position {head_before})")
        head_after = self.store.recorded_head()[0]
        if applied > head_after:
            raise TamperingFound(head_after + 1, "event was added behind the store's back (after the recorded head)")
        return applied

    def apply_batch(self, events: list[StoredEvent]) -> None:
        """Apply events that follow the current position (used by catch-up and its tests)."""
        if events:
            _check_follows(self.position, [e.position for e in events])
            flatten.apply(self.con, TABLES, flatten.transpose(events), self.school)

    def _still_matches(self, position: int, hash_: str) -> bool:
        at = next(iter(self.store.read_all(after=position - 1, limit=1)), None)
        return at is not None and at.position == position and at.hash == hash_

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


def _check_follows(applied: int, positions: Sequence[int]) -> None:
    """Positions are handed out one by one, so a batch that does not carry on from ``applied``
    without a gap has lost an event."""
    if positions[0] == applied + 1 and positions[-1] - positions[0] == len(positions) - 1:
        return
    expected = applied + 1
    for position in positions:
        if position != expected:
            raise TamperingFound(expected, f"event is missing (the next stored is {position})")
        expected += 1


def _connect(path: Path | None) -> duckdb.DuckDBPyConnection:
    """Open the projection file; if another process holds it (DuckDB allows one writer per file)
    or it cannot be written, fall back to a private in-memory projection rather than fail."""
    try:
        con = duckdb.connect(":memory:" if path is None else str(path))
    except (duckdb.IOException, duckdb.PermissionException, duckdb.InvalidInputException, OSError):
        con = duckdb.connect(":memory:")
    flatten.prepare(con)
    return con
