"""Opening an event store from a ``--db`` target: a file path or a SQLAlchemy URL."""

from __future__ import annotations

from pathlib import Path

from ledger.errors import StoreError
from ledger.store.base import Clock, EventStore, StreamWrite, system_clock
from ledger.store.mapper import NewEvent, StoredEvent

__all__ = ["EventStore", "NewEvent", "StoredEvent", "StreamWrite", "open_store", "to_url"]


def to_url(target: str) -> str:
    if "://" in target:
        return target
    return f"sqlite:///{Path(target).expanduser().resolve()}"


def open_store(target: str, *, clock: Clock = system_clock, must_exist: bool = True) -> EventStore:
    try:
        return _open(target, clock, must_exist)
    except ImportError as exc:  # a URL naming a database driver this installation does not have
        raise StoreError(
            f"cannot open '{target}': its database driver is not installed ({exc.name or exc}); "
            "use sqlite:///FILE or postgresql+psycopg://HOST/DB"
        ) from None


def _open(target: str, clock: Clock, must_exist: bool) -> EventStore:
    url = to_url(target)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:" and must_exist and not Path(path).exists():
            raise StoreError(
                f"no ledger at {path}; create one with 'ledger --actor YOUR-ID init' or pass --db"
            )
        from ledger.store.sqlite import SqliteEventStore

        return SqliteEventStore(url, clock=clock)
    if url.startswith("postgresql"):
        from ledger.store.postgres import PostgresEventStore

        return PostgresEventStore(url, clock=clock)
    raise StoreError(
        f"unsupported ledger target '{target}'; give a file path, sqlite:///FILE or "
        "postgresql+psycopg://HOST/DB"
    )
