"""What the PostgreSQL store adds to the contract, and where it must agree with SQLite exactly.

* Positions are handed out in commit order: an append holds ``LOCK TABLE events IN EXCLUSIVE MODE``
  until it commits, so a second append waits for the first, and a reader following the log with
  ``read_all(after=...)`` can never see position N+1 before N. Proved with a transaction held open.
* Times are UTC text whatever the server's or session's time zone, and as-at queries give the same
  answer on both stores for the same instants.
* The stored schema version: an older ledger is migrated forward on open (on both stores), a newer
  one is refused.
* ``ledger copy --to`` from SQLite to PostgreSQL keeps positions, times and hashes.

Tests that need PostgreSQL are skipped, saying why, when ``LEDGER_TEST_POSTGRES_URL`` is unset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli import cli
from concurrency_workers import judgement_write, with_pg_settings
from conftest import FakeClock, postgres_schema_url
from ledger.bootstrap import ledger_for_store
from ledger.domain.calendar import Term
from ledger.errors import StoreError
from ledger.services import commands, imports, queries
from ledger.store import open_store
from ledger.store.base import EventStore
from ledger.store.chain import verify_chain
from ledger.store.mapper import format_time
from ledger.store.sql import SCHEMA_VERSION

REPO = Path(__file__).resolve().parent.parent
WAIT = 120  # seconds any thread or child may take before the test fails; nothing is timed
T1, T2, T3 = (Term.parse(f"2023-24/T{n}") for n in (1, 2, 3))
ROLL = "pupil_id,class,enrolled_on\n" + "".join(
    f"P-000{n},{'1AJ' if n % 2 else '2MD'},2023-09-04\n" for n in range(1, 7)
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema (skipped with the conftest's reason when none is configured)."""
    yield from postgres_schema_url()


@pytest.fixture(autouse=True)
def projections_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_PROJECTION", ":memory:")


def new_store(url: str, clock: Any = None) -> EventStore:
    store = open_store(url, must_exist=False, **({"clock": clock} if clock else {}))
    store.create_schema()
    return store


def snapshot(store: EventStore) -> tuple[Any, tuple[int, str], list]:
    return store.head(), store.recorded_head(), list(store.read_all())


def wait_for(condition: Any, what: str) -> None:
    """Poll ``condition`` until it holds; fail (never hang) after about WAIT seconds."""
    for _ in range(WAIT * 20):
        if condition():
            return
        threading.Event().wait(0.05)
    pytest.fail(f"gave up waiting for {what}")


# -- (a) commit order ---------------------------------------------------------------------------


def test_a_second_append_waits_for_the_first_to_commit_and_a_follower_never_skips(pg_url: str) -> None:
    clock = FakeClock()
    setup = new_store(pg_url, clock)
    for n in range(3):
        setup.append([judgement_write(f"P-000{n}")], actor="T.AJ", command_id=f"setup-{n}")
    setup.close()

    # Three clients, as three processes would be: A appends and is held inside its transaction after
    # inserting its row; B appends behind it; R follows the log. On PostgreSQL each names itself, and
    # gives up (an error, not a hang) if it waits too long.
    first = open_store(with_pg_settings(pg_url, application_name="append-a"), clock=clock)
    second = open_store(with_pg_settings(pg_url, application_name="append-b", lock_timeout=f"{WAIT}s"), clock=clock)
    reader = open_store(with_pg_settings(pg_url, application_name="follower", statement_timeout=f"{WAIT}s"))
    inserted, release = threading.Event(), threading.Event()
    real_insert = first._insert  # type: ignore[attr-defined]

    def insert_then_hold(conn: sa.Connection, *args: Any) -> Any:
        rows = real_insert(conn, *args)  # row N is in the table, the transaction is open, the lock is held
        inserted.set()
        assert release.wait(timeout=WAIT), "the test never released the first append"
        return rows

    first._insert = insert_then_hold  # type: ignore[attr-defined]
    results: dict[str, Any] = {}

    def run(name: str, store: EventStore, pupil: str) -> None:
        try:
            results[name] = store.append([judgement_write(pupil)], actor="T.AJ", command_id=f"cmd-{name}")
        except BaseException as exc:  # noqa: BLE001 - checked by the test
            results[name] = exc

    # The follower: reads after the last position it has seen, again and again, as a projector does.
    batches: list[list[int]] = []
    stop = threading.Event()

    def follow() -> None:
        last = 3
        while not stop.is_set():
            batch = [e.position for e in reader.read_all(after=last)]
            if batch:
                batches.append(batch)
                last = batch[-1]
            stop.wait(0.005)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    a = threading.Thread(target=run, args=("a", first, "P-0100"), daemon=True)
    a.start()
    assert inserted.wait(timeout=WAIT), "the first append never reached its insert"

    b = threading.Thread(target=run, args=("b", second, "P-0200"), daemon=True)
    b.start()
    watcher = open_store(pg_url)
    with watcher.engine.connect() as admin:  # type: ignore[attr-defined]
        def b_is_waiting_for_the_events_lock() -> bool:
            return bool(admin.exec_driver_sql(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid "
                "WHERE s.application_name = 'append-b' AND l.relation = 'events'::regclass "
                "AND l.mode = 'ExclusiveLock' AND NOT l.granted"
            ).scalar())

        wait_for(b_is_waiting_for_the_events_lock, "the second append to queue for the lock on events")
        held = admin.exec_driver_sql(
            "SELECT l.mode FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid "
            "WHERE s.application_name = 'append-a' AND l.relation = 'events'::regclass AND l.granted"
        ).scalars().all()
    watcher.close()
    assert "ExclusiveLock" in held
    assert "b" not in results and "a" not in results  # B has no position yet; A has not committed
    # Readers are not blocked by the lock, and see neither the uncommitted N nor anything after it.
    assert [e.position for e in reader.read_all(after=3)] == []
    assert reader.head().position == 3

    release.set()
    a.join(timeout=WAIT)
    b.join(timeout=WAIT)
    assert not a.is_alive() and not b.is_alive()
    assert [e.position for e in results["a"]] == [4], results["a"]
    assert [e.position for e in results["b"]] == [5], results["b"]  # N+1 only once N committed
    assert results["b"][0].recorded_at >= results["a"][0].recorded_at

    wait_for(lambda: bool(batches) and batches[-1][-1] == 5, "the follower to reach position 5")
    stop.set()
    follower.join(timeout=WAIT)
    seen = [p for batch in batches for p in batch]
    assert seen == [4, 5]  # in order, each once, never 5 without 4
    assert verify_chain(reader.read_all(), reader.recorded_head()) == 5
    for s in (first, second, reader):
        s.close()


# -- (b) time zones and as-at queries --------------------------------------------------------------

# (moment of the write, what is written). The ledger's time zone is Europe/London: BST began at
# 01:00 UTC on 31 March 2024 and ended at 01:00 UTC on 27 October 2024.
TIMELINE = [
    (datetime(2024, 1, 10, 12, 0, tzinfo=timezone.utc), ("P-0001", T1, "appropriate")),       # GMT
    (datetime(2024, 3, 30, 23, 30, tzinfo=timezone.utc), ("P-0002", T1, "smaller-steps")),    # GMT, late evening
    (datetime(2024, 4, 15, 10, 30, tzinfo=timezone.utc), ("P-0003", T2, "appropriate")),      # 11:30 BST
    (datetime(2024, 5, 1, 23, 30, tzinfo=timezone.utc), ("P-0004", T2, "appropriate")),       # 00:30 BST on 2 May
    (datetime(2024, 10, 27, 0, 30, tzinfo=timezone.utc), ("P-0005", T3, "smaller-steps")),    # 01:30 BST, the hour that repeats
]
# as-at text -> how many of the TIMELINE writes it includes
AS_AT = {
    "2024-01-10T12:00:00Z": 1,                   # exactly the first write's recorded time: it counts
    "2024-01-10T11:59:59.999999Z": 0,
    "2024-01-10T12:00:00.000000+00:00": 1,
    "2024-01-10T12:00": 1,                       # naive, GMT: local time is UTC
    "2024-01-10T11:59:59": 0,
    "2024-03-30T23:30": 2,                       # naive, GMT, exactly the second write
    "2024-03-30": 2,                             # a date: the end of that day in London (GMT)
    "2024-04-15T11:30:00+01:00": 3,              # exactly the third write, in BST's offset
    "2024-04-15T11:29:59.999999+01:00": 2,
    "2024-04-15T11:30": 3,                       # naive, BST: 10:30 UTC, exactly the third write
    "2024-04-15T10:30": 2,                       # naive, BST: 09:30 UTC (10:30 UTC would include it)
    "2024-05-01": 3,                             # end of 1 May in BST is 22:59:59.999999 UTC: excludes 23:30 UTC
    "2024-05-02": 4,
    "2024-05-01T23:30:00Z": 4,
    "2024-10-27T01:30": 5,                       # naive, the first 01:30 (BST) is 00:30 UTC: the fifth write
    "2024-10-27T00:29:59.999999Z": 4,
    "2024-10-27T01:30:00+00:00": 5,
}


def build_timeline_ledger(store: EventStore, clock: FakeClock, folder: Path) -> list[int]:
    """The same ledger, write for write and instant for instant, on any store; returns the
    positions of the TIMELINE writes."""
    clock.set(datetime(2023, 9, 1, 8, 0, tzinfo=timezone.utc))
    ledger = ledger_for_store(store, None, actor="dm1")
    commands.init(ledger)
    commands.add_staff(ledger, "T.AJ", "teacher")
    commands.add_staff(ledger, "LM1", "line-manager")
    commands.open_class(ledger, "1AJ", "EYFS/KS1", None, T1)
    commands.open_class(ledger, "2MD", "KS1/KS2", "PMLD", T1)
    roll = folder / "roll.csv"
    roll.write_text(ROLL, encoding="utf-8")
    imports.import_pupils(ledger, roll)
    teacher = ledger_for_store(store, None, actor="T.AJ")
    positions = []
    for moment, (pupil, term, status) in TIMELINE:
        clock.set(moment)
        reason = "long absence" if status == "smaller-steps" else None
        positions.append(commands.record_judgement(teacher, pupil, term, status, reason)[0].position)
    return positions


def test_as_at_queries_give_the_same_answer_on_both_stores(
    pg_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    odd_zone_url = with_pg_settings(pg_url, timezone="Pacific/Auckland")
    stores = {
        "sqlite": new_store(f"sqlite:///{tmp_path / 'events.db'}", clock),
        "postgres": new_store(odd_zone_url, clock),
    }
    try:
        positions = {name: build_timeline_ledger(store, clock, tmp_path) for name, store in stores.items()}
        assert positions["sqlite"] == positions["postgres"]
        written = positions["sqlite"]
        with stores["postgres"].engine.connect() as conn:  # type: ignore[attr-defined]
            assert conn.exec_driver_sql("SHOW timezone").scalar() == "Pacific/Auckland"
        # the times are the instants of the writes, in UTC, as identical text on both stores
        for store in stores.values():
            recorded = {e.position: e.recorded_at for e in store.read_all()}
            assert [recorded[p] for p in written] == [format_time(m) for m, _ in TIMELINE]
            assert all(t.endswith("Z") and len(t) == 27 for t in recorded.values())
        def content(store: EventStore) -> list[tuple]:  # command ids are random, and so the hashes differ
            return [(e.position, e.stream_id, e.stream_version, e.event_type, e.payload, e.recorded_at, e.actor)
                    for e in store.read_all()]

        assert content(stores["sqlite"]) == content(stores["postgres"])

        ledgers = {name: ledger_for_store(store, None) for name, store in stores.items()}
        for as_at, included in AS_AT.items():
            reports = {name: queries.report(ledger, "2023-24", as_at=as_at) for name, ledger in ledgers.items()}
            assert reports["sqlite"] == reports["postgres"], as_at
            expected = written[included - 1] if included else written[0] - 1
            assert reports["sqlite"].position == expected, as_at
            histories = {name: queries.history(ledger, "P-0003", as_at=as_at) for name, ledger in ledgers.items()}
            assert histories["sqlite"] == histories["postgres"], as_at
        t2 = queries.report(ledgers["postgres"], "2023-24", as_at="2024-04-15T11:30")
        assert t2.totals["T2"].appropriate == 1
        for ledger in ledgers.values():
            ledger.close()
    finally:
        for store in stores.values():
            store.close()


def test_times_written_by_the_system_clock_are_utc_whatever_the_local_and_session_zones(store_url: str) -> None:
    """A real ``ledger init`` in a process whose local zone is Auckland, on PostgreSQL with the
    session's zone set to Auckland too: the recorded times are the UTC instants of the writes."""
    url = with_pg_settings(store_url, timezone="Pacific/Auckland")
    env = {**os.environ, "TZ": "Pacific/Auckland", "LEDGER_PROJECTION": ":memory:"}
    before = datetime.now(timezone.utc)
    done = subprocess.run([sys.executable, "-m", "cli", "--db", url, "--actor", "dm1", "init"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=WAIT)
    after = datetime.now(timezone.utc)
    assert done.returncode == 0, done.stderr
    store = open_store(url)
    try:
        events = list(store.read_all())
    finally:
        store.close()
    assert len(events) == 2
    for e in events:
        assert e.recorded_at.endswith("Z")
        assert before <= e.recorded_time <= after  # Auckland is 12 or 13 hours away from UTC


# -- (c) schema versions ----------------------------------------------------------------------------


def downgrade_to_schema_1(store: EventStore) -> None:
    """What a version-1 ledger looks like: no recorded_at index, version 1 in ledger_meta."""
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql("DROP INDEX ix_events_recorded_at")
        conn.exec_driver_sql("UPDATE ledger_meta SET value = '1' WHERE key = 'schema_version'")


def indexes(store: EventStore) -> set[str]:
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        return {ix["name"] for ix in sa.inspect(conn).get_indexes("events")}


def seeded(store_url: str, clock: FakeClock) -> EventStore:
    store = new_store(store_url, clock)
    ledger = ledger_for_store(store, None, actor="dm1")
    commands.init(ledger)
    commands.add_staff(ledger, "T.AJ", "teacher")
    return store


def test_a_schema_1_ledger_is_migrated_forward_on_open(store_url: str, clock: FakeClock) -> None:
    store = seeded(store_url, clock)
    downgrade_to_schema_1(store)
    assert "ix_events_recorded_at" not in indexes(store)
    events = list(store.read_all())
    store.close()

    result = CliRunner().invoke(cli, ["--db", store_url, "verify"])
    assert result.exit_code == 0, result.output
    reopened = open_store(store_url)
    try:
        assert reopened.schema_version == SCHEMA_VERSION == 2  # type: ignore[attr-defined]
        assert "ix_events_recorded_at" in indexes(reopened)
        assert list(reopened.read_all()) == events
        assert verify_chain(reopened.read_all(), reopened.recorded_head()) == len(events)
        # and it is an ordinary ledger again: writes work, opening again changes nothing
        reopened.append([judgement_write("P-0001")], actor="T.AJ", command_id="after-migration")
        assert reopened.is_initialised() and reopened.schema_version == 2  # type: ignore[attr-defined]
    finally:
        reopened.close()


def test_several_clients_opening_a_schema_1_ledger_at_once_all_migrate_it_safely(
    store_url: str, clock: FakeClock
) -> None:
    store = seeded(store_url, clock)
    downgrade_to_schema_1(store)
    store.close()
    start = threading.Barrier(4, timeout=WAIT)
    outcomes: list[Any] = []

    def open_it() -> None:
        s = open_store(store_url)
        try:
            start.wait()
            outcomes.append(s.is_initialised())
        except BaseException as exc:  # noqa: BLE001
            outcomes.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=open_it, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
    assert outcomes == [True] * 4
    after = open_store(store_url)
    try:
        assert after.schema_version == 2 and "ix_events_recorded_at" in indexes(after)  # type: ignore[attr-defined]
    finally:
        after.close()


def test_a_ledger_from_a_newer_version_is_refused_and_left_alone(store_url: str, clock: FakeClock) -> None:
    store = seeded(store_url, clock)
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql("UPDATE ledger_meta SET value = '99' WHERE key = 'schema_version'")
    before = snapshot(store)
    store.close()

    reopened = open_store(store_url)
    try:
        with pytest.raises(StoreError, match=r"written by a newer version of this program \(schema 99, this "
                                             r"program knows 2\); upgrade ehcp-ledger"):
            reopened.is_initialised()
        for args in (["report", "--year", "2023-24"], ["--actor", "dm1", "staff", "add", "T.X", "--role", "teacher"],
                     ["verify"]):
            result = CliRunner().invoke(cli, ["--db", store_url, *args])
            assert result.exit_code == 1, (args, result.output)
            assert "newer version of this program (schema 99" in result.output
            assert "Traceback" not in result.output
        assert snapshot(reopened) == before
        assert reopened.schema_version == 99  # type: ignore[attr-defined]
    finally:
        reopened.close()


# -- (d) ledger copy ---------------------------------------------------------------------------------


def build_sqlite_ledger(path: Path, clock: FakeClock) -> EventStore:
    store = new_store(f"sqlite:///{path}", clock)
    build_timeline_ledger(store, clock, path.parent)
    clock.advance(days=1)
    commands.revise_judgement(ledger_for_store(store, None, actor="LM1"), "P-0002", T1, "appropriate", "moderated")
    return store


def cli_ok(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_copy_from_sqlite_to_postgres_keeps_positions_times_and_hashes(
    pg_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    source_path = tmp_path / "school.db"
    source = build_sqlite_ledger(source_path, clock)
    source_events = list(source.read_all())
    source_head = source.recorded_head()

    out = cli_ok("--db", str(source_path), "--actor", "dm1", "copy", "--to", pg_url)
    assert f"copied {len(source_events)} events" in out

    target = open_store(pg_url)
    try:
        assert list(target.read_all()) == source_events  # positions, times, actors, command ids, hashes
        assert target.recorded_head() == source_head
        assert target.head().position == len(source_events)
        assert target.schema_version == SCHEMA_VERSION  # type: ignore[attr-defined]
        verified = json.loads(cli_ok("--db", pg_url, "verify", "--format", "json"))
        assert verified["intact"] is True and verified["events"] == len(source_events)
        for moment in (["--position", str(len(source_events))], ["--position", "12"], ["--as-at", "2024-04-15"],
                       ["--as-at", "2024-01-10T12:00:00Z"]):
            reports = [cli_ok("--db", db, "report", "--year", "2023-24", "--format", "json", *moment)
                       for db in (str(source_path), pg_url)]
            assert reports[0] == reports[1], moment
        # and back again, PostgreSQL -> SQLite, unchanged
        back = tmp_path / "back.db"
        cli_ok("--db", pg_url, "--actor", "dm1", "copy", "--to", str(back))
        returned = open_store(str(back))
        assert list(returned.read_all()) == source_events and returned.recorded_head() == source_head
        returned.close()
        # the copy is a working ledger: it carries on from the copied head
        clock.advance(days=1)
        added = commands.record_judgement(ledger_for_store(open_store(pg_url, clock=clock), None, actor="T.AJ"),
                                          "P-0006", T1, "appropriate")
        assert added[0].position == len(source_events) + 1
        cli_ok("--db", pg_url, "verify")
    finally:
        target.close()
        source.close()


def test_copy_into_a_ledger_that_is_not_empty_is_refused_and_leaves_it_unchanged(
    pg_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    source_path = tmp_path / "school.db"
    build_sqlite_ledger(source_path, clock).close()
    other = seeded(pg_url, clock)  # a different ledger already lives there
    before = snapshot(other)

    result = CliRunner().invoke(cli, ["--db", str(source_path), "--actor", "dm1", "copy", "--to", pg_url])
    assert result.exit_code == 1, result.output
    assert "already holds a ledger (3 events); copy into an empty database" in result.output
    assert snapshot(other) == before

    # nor into one holding this very ledger already (a copy run twice)
    copy_path = tmp_path / "copy.db"
    cli_ok("--db", str(source_path), "--actor", "dm1", "copy", "--to", str(copy_path))
    copied = open_store(str(copy_path))
    again_before = snapshot(copied)
    result = CliRunner().invoke(cli, ["--db", str(source_path), "--actor", "dm1", "copy", "--to", str(copy_path)])
    assert result.exit_code == 1 and "already holds a ledger" in result.output
    assert snapshot(copied) == again_before
    copied.close()
    other.close()


def test_only_a_data_manager_or_head_may_copy_and_a_refused_copy_creates_nothing(
    pg_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    source_path = tmp_path / "school.db"
    build_sqlite_ledger(source_path, clock).close()
    result = CliRunner().invoke(cli, ["--db", str(source_path), "--actor", "T.AJ", "copy", "--to", pg_url])
    assert result.exit_code == 1 and "may not copy the whole ledger" in result.output
    target = open_store(pg_url)
    try:
        assert not target.is_initialised()
    finally:
        target.close()
