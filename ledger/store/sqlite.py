"""SQLite backend: the embedded default.

WAL mode lets readers carry on while one process writes; a 30 s busy timeout makes a second writer
wait instead of failing with "database is locked"; appends start with ``BEGIN IMMEDIATE`` so the
writer lock is taken before the last position is read. Triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from ledger.store.base import Clock, system_clock
from ledger.store.sql import SqlEventStore

BUSY_TIMEOUT_MS = 30_000


def sqlite_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves so that appends can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        # Text that is not UTF-8 can only come from editing the file: read it (with U+FFFD) so that
        # verify reports tampering at that event instead of failing to read the log at all.
        dbapi_conn.text_factory = partial(str, encoding="utf-8", errors="replace")
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("ledger_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class SqliteEventStore(SqlEventStore):
    def __init__(self, url: str, *, clock: Clock = system_clock) -> None:
        super().__init__(sqlite_engine(url), clock=clock)

    def _write_connection(self) -> sa.Connection:
        return self.engine.connect().execution_options(ledger_write=True)

    def _fetch_raw(self, dbapi_conn: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        # Decoding with errors="replace" (see sqlite_engine) costs a third of a bulk read; plain str
        # decodes in C and fails only on text that is not UTF-8, which only editing the file leaves.
        careful = dbapi_conn.text_factory
        dbapi_conn.text_factory = str
        try:
            return super()._fetch_raw(dbapi_conn, sql, params)
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc):
                raise
        finally:
            dbapi_conn.text_factory = careful
        return super()._fetch_raw(dbapi_conn, sql, params)  # the careful way, so the tampering is reported

    def _lock_for_append(self, conn: sa.Connection) -> None:
        pass  # BEGIN IMMEDIATE already holds SQLite's single writer lock

    def _immutability_ddl(self) -> list[str]:
        return [
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            "BEGIN SELECT RAISE(ABORT, 'ledger events are immutable: UPDATE refused'); END",
            "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
            "BEGIN SELECT RAISE(ABORT, 'ledger events are immutable: DELETE refused'); END",
        ]
