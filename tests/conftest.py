"""Shared fixtures: a store for every backend, a controllable clock, and a seeded ledger.

PostgreSQL runs when ``LEDGER_TEST_POSTGRES_URL`` is set (``.ci/run`` always sets it); each test
gets its own schema, dropped afterwards. Without it the PostgreSQL cases are skipped, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from ledger.bootstrap import ledger_for_store
from ledger.services.context import Ledger
from ledger.store.base import EventStore

# CI explores the same examples on every run, so a red build can be reproduced rather than being a
# roll of the dice; a developer's runs explore new ones each time (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

PG_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class FakeClock:
    """A clock the test moves by hand; starts in the middle of the 2023-24 summer term."""

    def __init__(self, start: datetime = datetime(2024, 7, 1, 9, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def postgres_schema_url() -> Iterator[str]:
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: LEDGER_TEST_POSTGRES_URL is not set (see .ci/run)")
        pytest.skip("PostgreSQL not configured: set LEDGER_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty ledger database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'events.db'}"
    else:
        yield from postgres_schema_url()


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[EventStore]:
    """An empty store with its schema created, on each backend, using the fake clock."""
    from ledger.store import open_store

    s = open_store(store_url, clock=clock, must_exist=False)
    s.create_schema()
    yield s
    s.close()


@pytest.fixture
def ledger(store: EventStore, clock: FakeClock) -> Iterator[Ledger]:
    """An initialised ledger on each backend with a data manager ``dm1`` acting, and an in-memory projection."""
    from ledger.services import commands

    led = ledger_for_store(store, projection=None, actor="dm1")
    commands.init(led)
    yield led
    led.close()
