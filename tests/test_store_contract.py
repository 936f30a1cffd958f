"""The event store contract (see ``ledger/store/base.py``), run against every backend.

Every test takes the ``store`` fixture (or ``store_url`` when it needs an empty database), which is
parametrised over SQLite and PostgreSQL, so one suite states what every store must do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

import ledger.store.sql as sql_module
from ledger.errors import Conflict, LedgerError, StoreError, TamperingFound
from ledger.store import open_store
from ledger.store.base import EventStore, Head, StreamWrite
from ledger.store.chain import GENESIS, event_hash, verify_chain
from ledger.store.mapper import NewEvent, StoredEvent, canonical_json, format_time

T0 = datetime(2024, 7, 1, 9, 0, tzinfo=timezone.utc)  # the FakeClock's start


def ev(n: int, kind: str = "Noted") -> NewEvent:
    return NewEvent(kind, 1, canonical_json({"n": n, "note": f"event {n}"}))


def write(stream: str, expected: int, *numbers: int) -> StreamWrite:
    return StreamWrite(stream, expected, tuple(ev(n) for n in numbers))


def snapshot(store: EventStore) -> tuple[Head, tuple[int, str], list[StoredEvent]]:
    return store.head(), store.recorded_head(), list(store.read_all())


def fill(store: EventStore, count: int, streams: int = 3) -> list[StoredEvent]:
    """``count`` events, one per append, spread round-robin over a few streams."""
    versions: dict[str, int] = {}
    stored: list[StoredEvent] = []
    for n in range(1, count + 1):
        sid = f"s-{n % streams}"
        stored += store.append([write(sid, versions.get(sid, 0), n)], actor="dm1", command_id=f"fill-{n}")
        versions[sid] = versions.get(sid, 0) + 1
    return stored


# -- appending ------------------------------------------------------------------------------


def test_append_to_a_new_stream_at_version_zero(store: EventStore) -> None:
    stored = store.append([write("pupil-P-0001", 0, 1, 2)], actor="dm1", command_id="c1")

    assert [(e.position, e.stream_id, e.stream_version) for e in stored] == [
        (1, "pupil-P-0001", 1),
        (2, "pupil-P-0001", 2),
    ]
    assert all(e.actor == "dm1" and e.command_id == "c1" for e in stored)
    assert [e.payload for e in stored] == [ev(1).payload, ev(2).payload]
    assert [(e.event_type, e.schema_version) for e in stored] == [("Noted", 1), ("Noted", 1)]
    assert stored[0].hash == event_hash(GENESIS, stored[0])
    assert stored[1].hash == event_hash(stored[0].hash, stored[1])
    assert store.read_stream("pupil-P-0001") == stored
    assert list(store.read_all()) == stored


def test_append_continues_a_stream_at_its_current_version(store: EventStore) -> None:
    store.append([write("a", 0, 1)], actor="dm1", command_id="c1")
    stored = store.append([write("a", 1, 2, 3)], actor="dm1", command_id="c2")
    assert [(e.position, e.stream_version) for e in stored] == [(2, 2), (3, 3)]


@pytest.mark.parametrize("expected", [0, 1, 3, 7])
def test_stale_expected_version_raises_conflict_and_stores_nothing(store: EventStore, expected: int) -> None:
    store.append([write("a", 0, 1, 2)], actor="dm1", command_id="c1")  # "a" is at version 2
    before = snapshot(store)

    with pytest.raises(Conflict, match="reload and try again"):
        store.append([write("a", expected, 3)], actor="dm1", command_id="c2")

    assert snapshot(store) == before
    assert store.stream_versions(["a"]) == {"a": 2}


def test_expected_version_on_a_stream_that_does_not_exist_yet(store: EventStore) -> None:
    store.append([write("other", 0, 1)], actor="dm1", command_id="c1")
    before = snapshot(store)

    with pytest.raises(Conflict):
        store.append([write("missing", 3, 2)], actor="dm1", command_id="c2")

    assert snapshot(store) == before
    assert store.read_stream("missing") == []
    assert store.stream_versions(["missing"]) == {"missing": 0}


def test_conflict_on_an_empty_ledger_leaves_it_empty(store: EventStore) -> None:
    with pytest.raises(Conflict):
        store.append([write("missing", 1, 1)], actor="dm1", command_id="c1")
    assert store.head() == Head(0, GENESIS, None)
    assert store.recorded_head() == (0, GENESIS)
    assert list(store.read_all()) == []


@pytest.mark.parametrize("stale_index", [0, 1, 2])
def test_multi_stream_append_is_atomic(store: EventStore, stale_index: int) -> None:
    store.append([write("a", 0, 1), write("b", 0, 2)], actor="dm1", command_id="c1")
    before = snapshot(store)
    writes = [write("a", 1, 10), write("b", 1, 11), write("c", 0, 12)]
    stale = writes[stale_index]
    writes[stale_index] = StreamWrite(stale.stream_id, stale.expected_version + 1, stale.events)

    with pytest.raises(Conflict, match=stale.stream_id):
        store.append(writes, actor="dm1", command_id="c2")

    assert snapshot(store) == before
    assert store.stream_versions(["a", "b", "c"]) == {"a": 1, "b": 1, "c": 0}


def test_multi_stream_append_numbers_positions_in_order_and_versions_per_stream(store: EventStore) -> None:
    store.append([write("a", 0, 1)], actor="dm1", command_id="c1")
    stored = store.append(
        [write("a", 1, 2, 3), write("b", 0, 4), write("c", 0, 5, 6)], actor="head1", command_id="c2"
    )
    assert [(e.position, e.stream_id, e.stream_version) for e in stored] == [
        (2, "a", 2), (3, "a", 3), (4, "b", 1), (5, "c", 1), (6, "c", 2),
    ]
    assert {e.recorded_at for e in stored} == {format_time(T0)}  # one command, one moment
    assert all(e.actor == "head1" and e.command_id == "c2" for e in stored)


def test_positions_are_contiguous_from_one(store: EventStore) -> None:
    stored = fill(store, 12)
    stored += store.append([write("x", 0, 100, 101), write("y", 0, 102)], actor="dm1", command_id="multi")
    assert [e.position for e in store.read_all()] == list(range(1, 16))
    assert [e.position for e in stored] == list(range(1, 16))


def test_recorded_at_comes_from_the_injected_clock_in_utc(store: EventStore, clock) -> None:
    first = store.append([write("a", 0, 1)], actor="dm1", command_id="c1")
    assert first[0].recorded_at == "2024-07-01T09:00:00.000000Z"
    assert first[0].recorded_time == T0

    clock.advance(minutes=5, microseconds=123)
    second = store.append([write("a", 1, 2)], actor="dm1", command_id="c2")
    assert second[0].recorded_at == "2024-07-01T09:05:00.000123Z"

    # A clock giving local (British Summer) time is stored as UTC.
    clock.set(datetime(2024, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/London")))
    third = store.append([write("a", 2, 3)], actor="dm1", command_id="c3")
    assert third[0].recorded_at == "2024-07-01T11:00:00.000000Z"
    assert store.head().recorded_at == datetime(2024, 7, 1, 11, 0, tzinfo=timezone.utc)


def test_recorded_at_never_goes_backwards_when_the_clock_does(store: EventStore, clock) -> None:
    clock.advance(hours=1)
    first = store.append([write("a", 0, 1)], actor="dm1", command_id="c1")
    clock.advance(hours=-3)  # the server's clock is corrected backwards
    second = store.append([write("a", 1, 2)], actor="dm1", command_id="c2")
    assert second[0].recorded_at == first[0].recorded_at == "2024-07-01T10:00:00.000000Z"

    clock.advance(hours=5)
    third = store.append([write("a", 2, 3)], actor="dm1", command_id="c3")
    assert third[0].recorded_at == "2024-07-01T12:00:00.000000Z"
    times = [e.recorded_at for e in store.read_all()]
    assert times == sorted(times)
    assert verify_chain(store.read_all(), store.recorded_head()) == 3


# -- retries and command ids ----------------------------------------------------------------


def test_retry_with_the_same_command_id_writes_nothing_and_returns_the_first_events(
    store: EventStore, clock
) -> None:
    writes = [write("a", 0, 1, 2), write("b", 0, 3)]
    first = store.append(writes, actor="dm1", command_id="c1")
    clock.advance(minutes=1)
    store.append([write("c", 0, 4)], actor="dm1", command_id="c2")
    before = snapshot(store)

    # The reply to c1 was lost; the client retries exactly what it sent, with the expected versions
    # it had then (now stale): it must be told what was stored, not refused, and nothing is added.
    again = store.append(writes, actor="dm1", command_id="c1")

    assert again == first
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "other",
    [
        pytest.param([write("a", 0, 99)], id="other payload"),
        pytest.param([write("z", 0, 1)], id="other stream"),
        pytest.param([write("a", 0, 1)], id="fewer events"),
        pytest.param([write("a", 0, 1, 2, 5)], id="more events"),
        pytest.param([StreamWrite("a", 0, (NewEvent("Other", 1, ev(1).payload), ev(2)))], id="other type"),
        pytest.param([StreamWrite("a", 0, (NewEvent("Noted", 2, ev(1).payload), ev(2)))], id="other schema"),
    ],
)
def test_same_command_id_with_other_content_is_a_conflict(store: EventStore, other: list[StreamWrite]) -> None:
    store.append([write("a", 0, 1, 2)], actor="dm1", command_id="c1")
    before = snapshot(store)
    with pytest.raises(Conflict, match="c1"):
        store.append(other, actor="dm1", command_id="c1")
    assert snapshot(store) == before


# -- reading --------------------------------------------------------------------------------


def test_read_stream_returns_one_stream_oldest_first(store: EventStore) -> None:
    store.append([write("a", 0, 1), write("b", 0, 2)], actor="dm1", command_id="c1")
    store.append([write("b", 1, 3)], actor="dm1", command_id="c2")
    store.append([write("a", 1, 4, 5)], actor="dm1", command_id="c3")

    a = store.read_stream("a")
    assert [(e.position, e.stream_version, e.payload) for e in a] == [
        (1, 1, ev(1).payload), (4, 2, ev(4).payload), (5, 3, ev(5).payload),
    ]
    assert [e.position for e in store.read_stream("b")] == [2, 3]
    assert store.read_stream("nope") == []
    assert store.read_stream("a-") == [] and store.read_stream("A") == []  # exact ids only


def test_read_all_after_and_limit(store: EventStore) -> None:
    stored = fill(store, 9)
    for after in range(0, 11):
        assert list(store.read_all(after=after)) == stored[after:]
        for limit in range(0, 12):
            assert list(store.read_all(after=after, limit=limit)) == stored[after : after + limit], (after, limit)


@pytest.mark.parametrize("page", [1, 2, 3, 4])
def test_read_all_pages_through_the_internal_page_size(
    store: EventStore, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    stored = fill(store, 10)
    monkeypatch.setattr(sql_module, "_PAGE", page)
    assert list(store.read_all()) == stored
    for after in (0, 1, 3, 4, 9, 10):
        for limit in (None, 0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 100):
            got = list(store.read_all(after=after, limit=limit))
            want = stored[after:] if limit is None else stored[after : after + limit]
            assert got == want, (page, after, limit)


def test_read_all_is_lazy_and_sees_one_consistent_order(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(store, 6)
    monkeypatch.setattr(sql_module, "_PAGE", 2)
    reader = store.read_all()
    first = [next(reader), next(reader)]
    store.append([write("late", 0, 99)], actor="dm1", command_id="late")
    rest = list(reader)
    assert [e.position for e in first + rest] == list(range(1, 8))


def test_head_and_recorded_head(store: EventStore, clock) -> None:
    assert store.head() == Head(0, GENESIS, None)
    assert store.recorded_head() == (0, GENESIS)

    store.append([write("a", 0, 1)], actor="dm1", command_id="c1")
    clock.advance(seconds=30)
    stored = store.append([write("a", 1, 2), write("b", 0, 3)], actor="dm1", command_id="c2")

    last = stored[-1]
    assert store.head() == Head(3, last.hash, T0 + timedelta(seconds=30))
    assert store.recorded_head() == (3, last.hash)


def test_stream_versions(store: EventStore) -> None:
    store.append([write("a", 0, 1, 2, 3), write("b", 0, 4)], actor="dm1", command_id="c1")
    assert store.stream_versions(["a", "b", "c"]) == {"a": 3, "b": 1, "c": 0}
    assert store.stream_versions(["b", "b", "a"]) == {"b": 1, "a": 3}
    assert store.stream_versions([]) == {}


def test_stream_versions_for_many_streams(store: EventStore) -> None:
    store.append([write(f"s{i}", 0, i) for i in range(0, 1200, 7)], actor="dm1", command_id="many")
    ids = [f"s{i}" for i in range(1200)]
    versions = store.stream_versions(ids)
    assert list(versions) == ids
    assert versions == {f"s{i}": (1 if i % 7 == 0 else 0) for i in range(1200)}


# -- immutability ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET actor = 'mallory' WHERE position = 2",
        "UPDATE events SET payload = '{}'",
        "DELETE FROM events WHERE position = 3",
        "DELETE FROM events",
    ],
)
def test_the_database_refuses_update_and_delete(store: EventStore, statement: str) -> None:
    fill(store, 4)
    before = snapshot(store)
    engine: sa.Engine = store.engine  # type: ignore[attr-defined]

    with pytest.raises(sa_exc.DBAPIError, match="immutable"):
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)

    assert snapshot(store) == before
    assert verify_chain(store.read_all(), store.recorded_head()) == 4


def test_postgres_refuses_truncate(store: EventStore) -> None:
    if not store.url.startswith("postgresql"):
        pytest.skip("TRUNCATE is a PostgreSQL statement; SQLite's DELETE without WHERE is covered above")
    fill(store, 3)
    before = snapshot(store)
    with pytest.raises(sa_exc.DBAPIError, match="immutable"):
        with store.engine.begin() as conn:  # type: ignore[attr-defined]
            conn.exec_driver_sql("TRUNCATE events")
    assert snapshot(store) == before


# -- schema ---------------------------------------------------------------------------------


def test_is_initialised_and_create_schema(store_url: str, clock) -> None:
    store = open_store(store_url, clock=clock, must_exist=False)
    try:
        assert store.is_initialised() is False
        store.create_schema()
        assert store.is_initialised() is True
        assert store.head() == Head(0, GENESIS, None)
        assert store.recorded_head() == (0, GENESIS)
        assert list(store.read_all()) == []
        stored = store.append([write("a", 0, 1)], actor="dm1", command_id="c1")
        assert stored[0].position == 1
    finally:
        store.close()

    reopened = open_store(store_url, clock=clock)
    try:
        assert reopened.is_initialised() is True
        assert list(reopened.read_all()) == stored
    finally:
        reopened.close()


def test_create_schema_on_an_existing_ledger_is_refused_and_changes_nothing(store: EventStore) -> None:
    fill(store, 3)
    before = snapshot(store)
    with pytest.raises(StoreError):
        store.create_schema()
    assert snapshot(store) == before
    assert store.is_initialised()


def test_a_newer_schema_version_is_refused_with_a_clear_message(store: EventStore) -> None:
    fill(store, 2)
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            sql_module.meta_table.update()
            .where(sql_module.meta_table.c.key == "schema_version")
            .values(value=str(sql_module.SCHEMA_VERSION + 1))
        )
    with pytest.raises(StoreError) as caught:
        store.is_initialised()
    message = str(caught.value)
    assert "newer version" in message
    assert f"schema {sql_module.SCHEMA_VERSION + 1}" in message
    assert f"knows {sql_module.SCHEMA_VERSION}" in message
    assert "upgrade" in message
    assert "\n" not in message


# -- the chain over what the store returns --------------------------------------------------


def test_verify_chain_over_read_all_passes(store: EventStore, clock) -> None:
    for n in range(1, 8):
        clock.advance(minutes=n)
        store.append([write(f"s{n % 2}", (n - 1) // 2, n)], actor="dm1", command_id=f"c{n}")
    store.append([write("m", 0, 20, 21), write("n", 0, 22)], actor="dm1", command_id="multi")

    assert verify_chain(store.read_all()) == 10
    assert verify_chain(store.read_all(), store.recorded_head()) == 10
    assert store.recorded_head() == (10, store.head().hash)


def test_verify_chain_notices_a_log_that_stops_short_of_the_recorded_head(store: EventStore) -> None:
    fill(store, 5)
    with pytest.raises(TamperingFound) as caught:
        verify_chain(store.read_all(limit=4), store.recorded_head())
    assert caught.value.position == 5


# -- schema upgrades and verbatim copies ----------------------------------------------------


def test_an_older_schema_is_brought_forward_without_touching_events(store: EventStore) -> None:
    fill(store, 3)
    before = snapshot(store)
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            sql_module.meta_table.update()
            .where(sql_module.meta_table.c.key == "schema_version")
            .values(value=str(sql_module.SCHEMA_VERSION - 1))
        )
    assert store.is_initialised() is True
    assert store.schema_version == sql_module.SCHEMA_VERSION  # type: ignore[attr-defined]
    assert snapshot(store) == before
    assert store.is_initialised() is True  # a second look finds nothing left to do


def make_source(tmp_path, clock, count: int) -> list[StoredEvent]:  # noqa: ANN001
    source = open_store(f"sqlite:///{tmp_path / 'source.db'}", clock=clock, must_exist=False)
    source.create_schema()
    try:
        return fill(source, count)
    finally:
        source.close()


def test_insert_verbatim_keeps_positions_times_and_hashes(store: EventStore, tmp_path, clock) -> None:  # noqa: ANN001
    clock.advance(days=-30)  # the copied events were recorded long before the copy is made
    events = make_source(tmp_path, clock, 7)
    clock.advance(days=30)

    assert store.insert_verbatim(iter(events)) == 7

    assert list(store.read_all()) == events
    assert store.recorded_head() == (7, events[-1].hash)
    assert verify_chain(store.read_all(), store.recorded_head()) == 7
    # and the log carries on from where the copy ended
    more = store.append([write("after", 0, 99)], actor="dm1", command_id="after-copy")
    assert more[0].position == 8 and more[0].hash == event_hash(events[-1].hash, more[0])
    assert verify_chain(store.read_all(), store.recorded_head()) == 8


def test_insert_verbatim_is_all_or_nothing(store: EventStore, tmp_path, clock) -> None:  # noqa: ANN001
    events = make_source(tmp_path, clock, 6)

    def failing() -> Iterator[StoredEvent]:
        yield from events[:4]
        raise OSError("the source went away")

    with pytest.raises(OSError):
        store.insert_verbatim(failing(), batch=2)  # type: ignore[call-arg]
    assert snapshot(store) == (Head(0, GENESIS, None), (0, GENESIS), [])

    store.append([write("a", 0, 1)], actor="dm1", command_id="c1")
    before = snapshot(store)
    with pytest.raises(LedgerError):
        store.insert_verbatim(events, batch=2)  # type: ignore[call-arg]  # position 1 is taken
    assert snapshot(store) == before
