"""The event store over SQLAlchemy Core, shared by the SQLite and PostgreSQL backends.

Backends differ only in how a write transaction excludes other writers (so positions are handed out
in commit order) and how the database is told to refuse UPDATE and DELETE; they supply those as
hooks. Driver errors become ledger errors in :func:`translate_errors`, and nowhere else.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ledger.errors import Conflict, LedgerError, StoreError, TamperingFound
from ledger.store.base import LOG_COLUMNS, Clock, EventStore, Head, StreamWrite, system_clock
from ledger.store.chain import GENESIS, canonical_bytes, link
from ledger.store.mapper import StoredEvent, format_time, parse_time

SCHEMA_VERSION = 2
# Steps that bring a database written by an older version forward, keyed by the version they start
# from. Each runs in one transaction with the version bump, so a failed step leaves the old schema.
MIGRATIONS: dict[int, list[str]] = {
    1: ["CREATE INDEX IF NOT EXISTS ix_events_recorded_at ON events (recorded_at)"],
}
_PAGE = 5000

metadata = sa.MetaData()
events_table = sa.Table(
    "events",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("stream_id", sa.String(200), nullable=False),
    sa.Column("stream_version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.String(27), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("command_id", sa.String(200), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    sa.Index("ix_events_command_id", "command_id"),
    sa.Index("ix_events_recorded_at", "recorded_at"),  # as-at and audit queries by time (schema 2)
)
meta_table = sa.Table(
    "ledger_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
_COLUMNS = [c.name for c in events_table.columns]
# The columns in StoredEvent's field order: hot paths (read_all, read_streams) build it positionally,
# which costs a third of building it from each row's mapping.
_AS_STORED = sa.select(*(events_table.c[f.name] for f in dataclasses.fields(StoredEvent)))


@contextlib.contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """The one place where database driver errors become ledger errors."""
    try:
        yield
    except LedgerError:
        raise
    except sa_exc.IntegrityError:
        raise Conflict(
            "another command wrote to the same record at the same moment; reload and try again"
        ) from None
    except sa_exc.OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "immutable" in detail:
            raise StoreError(f"ledger events are immutable ({detail})") from None
        raise StoreError(f"cannot use the ledger at {url}: {detail}") from None
    except sa_exc.DBAPIError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreError(f"the ledger at {url} refused the operation: {detail}") from None


class SqlEventStore(EventStore):
    """The SQL part of the store; subclasses supply ``_lock_for_append`` and ``_immutability_ddl``."""

    def __init__(self, engine: sa.Engine, *, clock: Clock = system_clock) -> None:
        self.engine = engine
        self.clock = clock

    # -- backend hooks -----------------------------------------------------------------------
    def _write_connection(self) -> sa.Connection:
        return self.engine.connect()

    def _lock_for_append(self, conn: sa.Connection) -> None:
        """Exclude other appenders until this transaction ends."""
        raise NotImplementedError

    def _immutability_ddl(self) -> list[str]:
        """Statements that make the database refuse UPDATE and DELETE on events."""
        raise NotImplementedError

    # -- schema --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def is_initialised(self) -> bool:
        with translate_errors(self.url), self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("events"):
                return False
            version = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar()
        self._check_schema_version(self._number(version, "schema_version"))
        return True

    @property
    def schema_version(self) -> int:
        with translate_errors(self.url), self.engine.connect() as conn:
            value = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar()
        return self._number(value, "schema_version")

    def _check_schema_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the ledger at {self.url} was written by a newer version of this program "
                f"(schema {version}, this program knows {SCHEMA_VERSION}); upgrade ehcp-ledger"
            )
        if version < SCHEMA_VERSION:
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        if version not in MIGRATIONS:
            raise StoreError(f"the ledger at {self.url} has schema {version}, which this program cannot upgrade")
        with translate_errors(self.url), self._write_connection() as conn, conn.begin():
            self._lock_for_append(conn)
            current = int(conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar() or 0)
            while current < SCHEMA_VERSION:  # another process may have migrated while we waited
                for statement in MIGRATIONS[current]:
                    conn.exec_driver_sql(statement)
                current += 1
            conn.execute(
                meta_table.update().where(meta_table.c.key == "schema_version").values(value=str(current))
            )

    def create_schema(self) -> None:
        with translate_errors(self.url), self._write_connection() as conn, conn.begin():
            metadata.create_all(conn)
            for statement in self._immutability_ddl():
                conn.exec_driver_sql(statement)
            conn.execute(
                meta_table.insert(),
                [
                    {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"key": "head_position", "value": "0"},
                    {"key": "head_hash", "value": GENESIS},
                ],
            )

    def close(self) -> None:
        self.engine.dispose()

    # -- reads ---------------------------------------------------------------------------------
    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        query = (
            sa.select(events_table)
            .where(events_table.c.stream_id == stream_id)
            .order_by(events_table.c.stream_version)
        )
        with translate_errors(self.url), self.engine.connect() as conn:
            return [StoredEvent(**row._mapping) for row in conn.execute(query)]

    def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[StoredEvent]]:
        found: dict[str, list[StoredEvent]] = {sid: [] for sid in stream_ids}
        ids = list(found)
        with translate_errors(self.url), self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                query = (
                    _AS_STORED.where(events_table.c.stream_id.in_(ids[start : start + 500]))
                    .order_by(events_table.c.stream_id, events_table.c.stream_version)
                )
                for row in conn.execute(query).all():
                    found[row.stream_id].append(StoredEvent(*row))
        return found

    def read_command(self, command_id: str) -> list[StoredEvent]:
        query = (
            sa.select(events_table).where(events_table.c.command_id == command_id).order_by(events_table.c.position)
        )
        with translate_errors(self.url), self.engine.connect() as conn:
            return [StoredEvent(**row._mapping) for row in conn.execute(query)]

    def read_all(self, after: int = 0, limit: int | None = None) -> Iterator[StoredEvent]:
        remaining = limit
        while remaining is None or remaining > 0:
            page = _PAGE if remaining is None else min(_PAGE, remaining)
            query = _AS_STORED.where(events_table.c.position > after).order_by(events_table.c.position).limit(page)
            with translate_errors(self.url), self.engine.connect() as conn:
                rows = [StoredEvent(*row) for row in conn.execute(query).all()]  # one fetchall, not a fetch a row
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1].position
            if remaining is not None:
                remaining -= len(rows)

    def read_all_columns(self, after: int, limit: int, columns: Sequence[str] = LOG_COLUMNS) -> dict[str, Sequence[Any]]:
        unknown = set(columns) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"not columns of the log: {sorted(unknown)}")
        marker = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        sql = f"SELECT {', '.join(columns)} FROM events WHERE position > {marker} ORDER BY position LIMIT {marker}"
        driver_error = self.engine.dialect.loaded_dbapi.Error
        with translate_errors(self.url), self.engine.connect() as conn:
            try:
                rows = self._fetch_raw(conn.connection.dbapi_connection, sql, (after, limit))
            except driver_error as exc:
                # Off SQLAlchemy's path, so wrap the driver's error as SQLAlchemy would have, for
                # translate_errors to turn into ours like any other.
                raise sa_exc.DBAPIError.instance(sql, (after, limit), exc, driver_error) from exc
        if not rows:
            return {c: [] for c in columns}
        return dict(zip(columns, zip(*rows)))

    def _fetch_raw(self, dbapi_conn: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """One query on the driver's own cursor: plain tuples, no row objects (the bulk read's hot path)."""
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def head(self) -> Head:
        with translate_errors(self.url), self.engine.connect() as conn:
            return self._head(conn)

    def recorded_head(self) -> tuple[int, str]:
        """The (position, hash) written beside the log at the last append, for ``verify``."""
        with translate_errors(self.url), self.engine.connect() as conn:
            return self._recorded(conn)

    def _recorded(self, conn: sa.Connection) -> tuple[int, str]:
        values = dict(conn.execute(
            sa.select(meta_table.c.key, meta_table.c.value).where(meta_table.c.key.in_(["head_position", "head_hash"]))
        ).all())
        return self._number(values.get("head_position"), "head_position"), values.get("head_hash", GENESIS)

    def _number(self, value: str | None, key: str) -> int:
        """A number kept in ledger_meta; anything else there was written behind the store's back."""
        try:
            return int(value or 0)
        except ValueError:
            raise StoreError(
                f"the ledger at {self.url} is damaged: its {key} is {str(value)[:20]!r}, not a number; "
                "restore it from a backup"
            ) from None

    def _head(self, conn: sa.Connection) -> Head:
        row = conn.execute(
            sa.select(events_table.c.position, events_table.c.hash, events_table.c.recorded_at)
            .order_by(events_table.c.position.desc())
            .limit(1)
        ).first()
        if row is None:
            return Head(0, GENESIS, None)
        return Head(row.position, row.hash, parse_time(row.recorded_at))

    def stream_versions(self, stream_ids: Sequence[str]) -> dict[str, int]:
        with translate_errors(self.url), self.engine.connect() as conn:
            return self._versions(conn, stream_ids)

    def _versions(self, conn: sa.Connection, stream_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        ids = list(dict.fromkeys(stream_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = conn.execute(
                sa.select(events_table.c.stream_id, sa.func.max(events_table.c.stream_version))
                .where(events_table.c.stream_id.in_(chunk))
                .group_by(events_table.c.stream_id)
            )
            found.update({sid: int(v) for sid, v in rows})
        return {sid: found.get(sid, 0) for sid in ids}

    # -- the one write path --------------------------------------------------------------------
    def append(
        self, writes: Sequence[StreamWrite], *, actor: str, command_id: str
    ) -> list[StoredEvent]:
        with translate_errors(self.url), self._write_connection() as conn, conn.begin():
            self._lock_for_append(conn)
            earlier = self._same_command(conn, writes, command_id)
            if earlier is not None:
                return earlier
            self._check_versions(conn, writes)
            self._check_head(conn)
            stored = self._insert(conn, writes, actor, command_id)
        return stored

    def _same_command(
        self, conn: sa.Connection, writes: Sequence[StreamWrite], command_id: str
    ) -> list[StoredEvent] | None:
        rows = conn.execute(
            sa.select(events_table)
            .where(events_table.c.command_id == command_id)
            .order_by(events_table.c.position)
        ).all()
        if not rows:
            return None
        earlier = [StoredEvent(**r._mapping) for r in rows]
        wanted = [(w.stream_id, e.event_type, e.schema_version, e.payload) for w in writes for e in w.events]
        if wanted != [(e.stream_id, e.event_type, e.schema_version, e.payload) for e in earlier]:
            raise Conflict(
                f"command id {command_id} was already used for a different command; "
                "use a new command id for new work"
            )
        return earlier

    def _check_head(self, conn: sa.Connection) -> None:
        """Refuse to write onto a log whose end is not the one the last append recorded: rows cut off
        or added behind the store's back would otherwise be chained over and hidden from ``verify``."""
        last = self._head(conn)
        position, hash_ = self._recorded(conn)
        if last.position != position:
            raise TamperingFound(
                min(last.position, position) + 1,
                f"the log ends at position {last.position} but the last append recorded {position}; nothing was written",
            )
        if last.hash != hash_:
            raise TamperingFound(
                position, "the last event's hash is not the one the last append recorded; nothing was written"
            )

    def _check_versions(self, conn: sa.Connection, writes: Sequence[StreamWrite]) -> None:
        current = self._versions(conn, [w.stream_id for w in writes])
        for w in writes:
            if current[w.stream_id] != w.expected_version:
                raise Conflict(
                    f"{w.stream_id} changed while you were working (now at version "
                    f"{current[w.stream_id]}, expected {w.expected_version}); reload and try again"
                )

    def _insert(
        self, conn: sa.Connection, writes: Sequence[StreamWrite], actor: str, command_id: str
    ) -> list[StoredEvent]:
        head = self._head(conn)
        now = self.clock()
        if head.recorded_at is not None and now < head.recorded_at:
            now = head.recorded_at  # a clock step backwards must not reorder the log
        recorded_at = format_time(now)
        position, previous = head.position, head.hash
        rows: list[dict[str, Any]] = []
        for w in writes:
            version = w.expected_version
            for e in w.events:
                position += 1
                version += 1
                body = canonical_bytes(
                    position, w.stream_id, version, e.event_type, e.schema_version,
                    e.payload, recorded_at, actor, command_id,
                )
                previous = link(previous, body)
                rows.append(
                    dict(
                        position=position, stream_id=w.stream_id, stream_version=version,
                        event_type=e.event_type, schema_version=e.schema_version, payload=e.payload,
                        recorded_at=recorded_at, actor=actor, command_id=command_id, hash=previous,
                    )
                )
        if not rows:
            return []
        conn.execute(events_table.insert(), rows)
        conn.execute(
            meta_table.update().where(meta_table.c.key == "head_position").values(value=str(position))
        )
        conn.execute(meta_table.update().where(meta_table.c.key == "head_hash").values(value=previous))
        return [StoredEvent(**r) for r in rows]

    # -- for `ledger copy` and tests ----------------------------------------------------------
    def insert_verbatim(self, stored: Iterable[StoredEvent], batch: int = 5000) -> int:
        """Append already-chained events exactly as they are (positions, times and hashes kept),
        all in one transaction: a copy that fails half way leaves nothing behind."""
        count, last = 0, None
        with translate_errors(self.url), self._write_connection() as conn, conn.begin():
            self._lock_for_append(conn)
            rows: list[dict[str, Any]] = []
            for e in stored:
                rows.append({c: getattr(e, c) for c in _COLUMNS})
                last = e
                if len(rows) >= batch:
                    conn.execute(events_table.insert(), rows)
                    count, rows = count + len(rows), []
            if rows:
                conn.execute(events_table.insert(), rows)
                count += len(rows)
            if last is not None:
                conn.execute(
                    meta_table.update().where(meta_table.c.key == "head_position").values(value=str(last.position))
                )
                conn.execute(meta_table.update().where(meta_table.c.key == "head_hash").values(value=last.hash))
        return count
