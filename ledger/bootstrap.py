"""Wiring: one place that turns a ``--db`` target into a ready :class:`Ledger`."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ledger.errors import InvalidInput
from ledger.services.context import Ledger
from ledger.store import open_store, to_url
from ledger.store.base import Clock, EventStore, system_clock


def projection_path(target: str, school: str = "") -> Path | None:
    path = _projection_path(target)
    # Each school of a trust ledger has its own projection (the facts differ, positions are shared).
    return path.with_name(f"{path.name}.{school}") if path is not None and school else path


def _projection_path(target: str) -> Path | None:
    """Where the DuckDB cache for a ledger lives.

    ``$LEDGER_PROJECTION`` wins (``:memory:`` for none). A SQLite ledger keeps it beside the file
    (``events.db`` -> ``events.db.projection.duckdb``); a server ledger under ``~/.cache``.
    """
    chosen = os.environ.get("LEDGER_PROJECTION")
    if chosen:
        return None if chosen == ":memory:" else Path(chosen)
    url = to_url(target)
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        return None if path in ("", ":memory:") else Path(path + ".projection.duckdb")
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ehcp-ledger"
    cache.mkdir(parents=True, exist_ok=True)
    return cache / f"{digest}.duckdb"


def ledger_for_store(store: EventStore, projection: Path | None = None, actor: str | None = None,
                     command_id: str | None = None, school: str = "") -> Ledger:
    """A Ledger around any store (tests inject one); the projection opens on first read."""

    def read_model():  # noqa: ANN202 - imported lazily so writes never load DuckDB
        from projections.duckdb_model import DuckDbProjection

        return DuckDbProjection(store, projection, school)

    return Ledger(store, read_model, actor=actor, command_id=command_id, school=check_school(school))


def check_school(code: str) -> str:
    code = code.strip().upper()
    if code and not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{1,15}", code):
        raise InvalidInput(f"school code '{code}' is not valid: use 2 to 16 capital letters, digits or dashes, e.g. OAK")
    return code


def open_ledger(target: str, *, actor: str | None = None, command_id: str | None = None,
                clock: Clock = system_clock, create: bool = False, school: str = "") -> Ledger:
    school = check_school(school)
    store = open_store(target, clock=clock, must_exist=not create)
    return ledger_for_store(store, projection_path(target, school), actor, command_id, school)
