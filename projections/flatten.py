"""How a batch of the log becomes rows of the projection's tables: in DuckDB, one statement a table.

The batch arrives as one Arrow table of the log's columns. DuckDB parses the payloads (``ev``: this
school's events of the kinds some table wants, payload cast to JSON) and every history table is
filled by its own ``INSERT ... SELECT`` over it, so no event is taken apart in Python: that was two
thirds of a rebuild's time. Every row keeps the position of the event it came from.

The store validated each payload on the way in, so a payload that is not JSON, or lacks a field its
event always has, was changed behind the store's back: each table names the rows no stored event can
give (``invalid``), and the batch is refused at the first such position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from ledger.errors import TamperingFound
from ledger.event_types import ALL_EVENT_TYPES
from ledger.store.mapper import SCHOOL_PREFIX

# The log's columns a batch carries (the type's schema version is checked in Python, the hash is read
# for the last event only: the meta row).
BATCH_COLUMNS = ("position", "stream_id", "event_type", "payload", "recorded_at", "actor", "command_id",
                 "schema_version", "hash")
_INCOMING = pa.schema([("position", pa.int64()), *((c, pa.string()) for c in BATCH_COLUMNS[1:-2])])
# Every (type, schema version) the store can have written; any other was written behind its back.
_KNOWN = {(name, cls.schema_version) for name, cls in ALL_EVENT_TYPES.items()}

# Session-level helpers the tables' SQL uses; created on every connection (see ``prepare``).
_MACROS = [
    # '2023-24/T2' -> 20232, as the report and the learning queries key terms; NULL if it is not a term.
    "CREATE OR REPLACE TEMP MACRO term_key(t) AS "
    "TRY_CAST(left(t, 4) AS INTEGER) * 10 + TRY_CAST(right(t, 1) AS INTEGER)",
]


@dataclass(frozen=True)
class Table:
    """One projection table: its columns, the events it is filled from and how.

    ``select`` is SQL over ``ev`` (position, recorded_at, actor, event_type and the payload as JSON
    ``p``; only this school's events) or, for the log itself, over ``incoming`` (every event of the
    batch), giving the rows in column order. ``invalid`` is a condition on the new rows that no stored
    event can meet (a required field missing or unreadable).
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    events: tuple[str, ...]
    select: str
    invalid: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def ddl(self) -> str:
        return f"CREATE TABLE {self.name} ({', '.join(f'{c} {t}' for c, t in self.columns)})"


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _MACROS:
        con.execute(statement)


def transpose(events: Sequence[Any]) -> dict[str, Sequence[Any]]:
    """Stored events (objects) as the columns a batch is made of."""
    return {c: [getattr(e, c) for e in events] for c in BATCH_COLUMNS}


def apply(con: duckdb.DuckDBPyConnection, tables: Sequence[Table], columns: dict[str, Sequence[Any]],
          school: str) -> None:
    """Add one batch (non-empty, following the projection's position) to every table, and move the
    projection's position and hash to its last event, all in one DuckDB transaction."""
    positions = columns["position"]
    _refuse_unknown_types(positions, columns["event_type"], columns["schema_version"])
    incoming = pa.table({c: columns[c] for c in _INCOMING.names}, schema=_INCOMING)
    kinds = sorted({k for t in tables for k in t.events})
    con.execute("BEGIN")
    try:
        con.register("incoming", incoming)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ev AS "
            "SELECT position, recorded_at, actor, event_type, TRY_CAST(payload AS JSON) AS p FROM incoming "
            "WHERE event_type IN (SELECT unnest($kinds)) AND regexp_extract(stream_id, $prefix, 1) = $school",
            {"kinds": kinds, "prefix": "^" + SCHOOL_PREFIX.pattern, "school": school},
        )
        for table in tables:
            con.execute(f"INSERT INTO {table.name} {table.select}")
        _refuse_changed_payloads(con, tables, positions[0])
        con.execute("UPDATE meta SET v = ? WHERE k = 'position'", [str(positions[-1])])
        con.execute("UPDATE meta SET v = ? WHERE k = 'hash'", [columns["hash"][-1]])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("incoming")
        con.execute("DROP TABLE IF EXISTS ev")


def _refuse_unknown_types(positions: Sequence[int], types: Sequence[str], versions: Sequence[int]) -> None:
    for position, kind, version in zip(positions, types, versions):
        if (kind, version) not in _KNOWN:
            raise TamperingFound(position, f"unknown event type {kind} v{version}; run 'ledger verify'")


def _refuse_changed_payloads(con: duckdb.DuckDBPyConnection, tables: Sequence[Table], first: int) -> None:
    checks = ["SELECT min(position) FROM ev WHERE p IS NULL"]
    checks += [f"SELECT min(position) FROM {t.name} WHERE position >= {first} AND ({t.invalid})"
               for t in tables if t.invalid]
    row = con.execute(f"SELECT min(bad) FROM ({' UNION ALL '.join(checks)}) AS found(bad)").fetchone()
    if row and row[0] is not None:
        raise TamperingFound(int(row[0]), "the event is not as it was stored (its payload or time no longer reads); run 'ledger verify'")
