"""Concurrency on both stores, with real processes, bounded in time.

Every test runs on a SQLite file and on a PostgreSQL schema (the ``store_url`` fixture; PostgreSQL
is skipped, saying why, when ``LEDGER_TEST_POSTGRES_URL`` is unset). Writers are separate
interpreters started with multiprocessing's ``spawn`` context (their code is in
``tests/concurrency_workers.py``) or plain ``python -c`` subprocesses, as separate ``ledger``
commands would be. They line up at a barrier so that they really start together. Every wait has a
timeout and no assertion depends on how long anything took.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import concurrency_workers as workers
from conftest import FakeClock
from ledger.bootstrap import ledger_for_store
from ledger.domain.calendar import Term
from ledger.errors import Conflict
from ledger.events import judgement_stream
from ledger.readmodel import Counts
from ledger.services import commands, imports, queries
from ledger.services.context import Ledger
from ledger.store import open_store
from ledger.store.base import EventStore
from ledger.store.chain import verify_chain
from ledger.store.mapper import StoredEvent
from projections.duckdb_model import DuckDbProjection

REPO = Path(__file__).resolve().parent.parent
SPAWN = multiprocessing.get_context("spawn")
WAIT = 300  # seconds: the most any group of children may take before the test fails (never a pass/fail on speed)
T1, T2 = Term.parse("2023-24/T1"), Term.parse("2023-24/T2")


# -- helpers --------------------------------------------------------------------------------


def run_children(target: Callable[..., None], arg_lists: list[tuple], *, barrier: bool = True) -> list[tuple]:
    """Start one spawned process per argument tuple, collect one message from each, join them all.

    With ``barrier`` each child gets a start line (``multiprocessing.Barrier``) it waits at once it
    is connected, so the work itself starts at the same moment in every process.
    """
    results = SPAWN.Queue()
    start = SPAWN.Barrier(len(arg_lists)) if barrier else None
    procs = [
        SPAWN.Process(target=target, args=(*args, *((start,) if barrier else ()), results), daemon=True)
        for args in arg_lists
    ]
    for p in procs:
        p.start()
    messages = []
    try:
        for _ in procs:
            try:
                messages.append(results.get(timeout=WAIT))
            except queue.Empty:
                dead = [p.exitcode for p in procs if not p.is_alive()]
                pytest.fail(f"only {len(messages)} of {len(procs)} children reported within {WAIT}s (exit codes of "
                            f"those that ended: {dead})")
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
                p.join(timeout=10)
    errors = [m for m in messages if m[0] == "error"]
    assert not errors, "a child failed:\n" + "\n".join(str(m[2]) for m in errors)
    return messages


def new_store(url: str, clock: FakeClock | None = None) -> EventStore:
    store = open_store(url, must_exist=False, **({"clock": clock} if clock else {}))
    if not store.is_initialised():
        store.create_schema()
    return store


def snapshot(store: EventStore) -> tuple[Any, tuple[int, str], list[StoredEvent]]:
    return store.head(), store.recorded_head(), list(store.read_all())


def assert_log_is_whole(store: EventStore) -> list[StoredEvent]:
    """Positions 1..N with no gap or repeat, and the chain and recorded head verify."""
    events = list(store.read_all())
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    assert verify_chain(store.read_all(), store.recorded_head()) == len(events)
    assert store.head().position == store.recorded_head()[0] == len(events)
    return events


@pytest.fixture
def fresh_url(store_url: str) -> Iterator[str]:
    """An empty ledger schema on each backend (SQLite file, PostgreSQL schema)."""
    new_store(store_url).close()
    yield store_url


# -- (a) many writers, distinct streams -------------------------------------------------------

WRITERS, APPENDS = 8, 200


def test_eight_processes_appending_to_their_own_streams_store_every_event_once(fresh_url: str) -> None:
    messages = run_children(workers.append_many, [(fresh_url, w, APPENDS) for w in range(WRITERS)])

    store = open_store(fresh_url)
    try:
        events = assert_log_is_whole(store)
        assert len(events) == WRITERS * APPENDS
        by_position = {e.position: e for e in events}
        # every reply a writer got is exactly what is stored at that position...
        replies = [e for m in messages for e in m[2]]
        assert len(replies) == WRITERS * APPENDS
        assert all(by_position[e.position] == e for e in replies)
        # ...and every command, stream and event is stored once
        assert len({e.command_id for e in events}) == len({e.stream_id for e in events}) == len(events)
        assert all(e.stream_version == 1 for e in events)
        assert Counter(e.actor for e in events) == {f"T{w}": APPENDS for w in range(WRITERS)}
        # each writer's own appends are in the order it made them
        for w in range(WRITERS):
            mine = [e.command_id for e in events if e.actor == f"T{w}"]
            assert mine == [f"w{w}-{k}" for k in range(APPENDS)]
    finally:
        store.close()


# -- (b) a race at one expected version ---------------------------------------------------------

RACERS = 20


def test_twenty_processes_racing_for_one_expected_version_exactly_one_wins(fresh_url: str) -> None:
    messages = run_children(workers.race_once, [(fresh_url, w) for w in range(RACERS)])

    outcomes = Counter(m[0] for m in messages)
    assert outcomes == {"won": 1, "conflict": RACERS - 1}
    assert all("changed while you were working" in m[2] or "at the same moment" in m[2]
               for m in messages if m[0] == "conflict")
    (winner,) = [m for m in messages if m[0] == "won"]
    store = open_store(fresh_url)
    try:
        stream = store.read_stream(judgement_stream("P-0001", "2023-24/T1"))
        assert stream == winner[2]  # the winner's reply is what is stored, and nothing else is
        assert stream[0].command_id == f"race-{winner[1]}"
        assert assert_log_is_whole(store) == stream
    finally:
        store.close()


# -- (c) a projector following writers ----------------------------------------------------------

TEACHERS = ["T1", "T2", "T3", "T4"]
PUPILS_EACH = 15


def set_up_school(url: str, clock: FakeClock, teachers: list[str], pupils_each: int, tmp: Path) -> dict[str, list[str]]:
    """Classes 1AJ and 2MD, a teacher per group of pupils; returns each teacher's pupils."""
    store = new_store(url, clock)
    ledger = ledger_for_store(store, None, actor="dm1")
    try:
        commands.init(ledger)
        for t in teachers:
            commands.add_staff(ledger, t, "teacher")
        commands.open_class(ledger, "1AJ", "EYFS/KS1", None, T1)
        commands.open_class(ledger, "2MD", "KS1/KS2", "PMLD", T1)
        groups = {t: [f"P-{n}{i:03d}" for i in range(pupils_each)] for n, t in enumerate(teachers, 1)}
        rows = ["pupil_id,class,enrolled_on"]
        for n, pupils in enumerate(groups.values()):
            rows += [f"{p},{'1AJ' if n % 2 == 0 else '2MD'},2023-09-04" for p in pupils]
        roll = tmp / "roll.csv"
        roll.write_text("\n".join(rows) + "\n", encoding="utf-8")
        imports.import_pupils(ledger, roll)
        return groups
    finally:
        ledger.close()


def test_a_projector_catching_up_while_processes_write_converges_to_the_rebuilt_report(
    store_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    groups = set_up_school(store_url, clock, TEACHERS, PUPILS_EACH, tmp_path)
    store = open_store(store_url, clock=clock)
    projection = DuckDbProjection(store, None)  # in-memory DuckDB, caught up incrementally
    following = Ledger(store, lambda: projection)
    seen: list[int] = []
    snapshots: dict[int, Any] = {}
    stop = threading.Event()
    problems: list[BaseException] = []

    def follow() -> None:
        try:
            while not stop.is_set():
                applied = projection.catch_up()
                positions = [r[0] for r in projection.con.execute("SELECT position FROM log ORDER BY position").fetchall()]
                assert positions == list(range(1, applied + 1)), "the projection skipped or repeated a position"
                if applied not in snapshots and len(snapshots) < 60:
                    snapshots[applied] = queries.report(following, "2023-24", position=applied)
                seen.append(applied)
                stop.wait(0.01)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            problems.append(exc)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        messages = run_children(
            workers.record_judgements,
            [(store_url, t, pupils, [str(T1), str(T2)]) for t, pupils in groups.items()],
        )
    finally:
        stop.set()
        follower.join(timeout=WAIT)
    assert not follower.is_alive(), "the projector did not stop"
    assert not problems, problems[0]
    assert seen, "the projector never caught up"

    try:
        events = assert_log_is_whole(store)
        head = events[-1].position
        written = sorted(p for m in messages for p in m[2])
        assert len(written) == len(set(written)) == len(TEACHERS) * PUPILS_EACH * 2
        assert written == [e.position for e in events if e.event_type == "JudgementRecorded"]

        final = queries.report(following, "2023-24", position=head)
        assert projection.position == head
        rebuilt_ledger = ledger_for_store(store, None)  # a fresh in-memory projection, built from the log
        try:
            assert final == queries.report(rebuilt_ledger, "2023-24", position=head)
            # what the follower reported at each position it stopped at is what the whole log says
            for position, report in snapshots.items():
                assert report == queries.report(rebuilt_ledger, "2023-24", position=position), position
        finally:
            rebuilt_ledger.close()
        smaller = len(range(0, PUPILS_EACH, 3)) * len(TEACHERS)
        expected = Counts(len(TEACHERS) * PUPILS_EACH - smaller, smaller)
        assert final.totals["T1"] == final.totals["T2"] == expected
    finally:
        projection.close()
        store.close()


# -- (d) a retried command after a lost reply ---------------------------------------------------


def test_a_command_retried_after_a_lost_reply_is_written_once_and_answered_with_the_original(
    fresh_url: str,
) -> None:
    # The first attempt commits in another process, which dies before it can answer.
    proc = SPAWN.Process(target=workers.append_and_lose_the_reply, args=(fresh_url, "cmd-lost"), daemon=True)
    proc.start()
    proc.join(timeout=WAIT)
    assert proc.exitcode == 0, f"the first attempt did not finish (exit code {proc.exitcode})"

    store = open_store(fresh_url)
    try:
        (original,) = store.read_stream(judgement_stream("P-0042", "2023-24/T1"))
        assert original.command_id == "cmd-lost"
        # Someone else moves the stream on before the caller retries: its expected version (0) is stale twice over.
        revision = workers.judgement_write("P-0042", status="smaller-steps", expected=1)
        store.append([revision], actor="LM1", command_id="cmd-other")
        before = snapshot(store)

        # The caller retries from several processes at once (a nervous user and a retry loop).
        messages = run_children(workers.retry, [(fresh_url, w, "cmd-lost") for w in range(5)])
        assert [m[0] for m in messages] == ["ok"] * 5
        assert all(m[2] == [original] for m in messages)
        assert snapshot(store) == before

        # and in this process, through the store API, the same again
        assert store.append([workers.judgement_write("P-0042")], actor="T.AJ", command_id="cmd-lost") == [original]
        # the id with other content is refused, not mistaken for a retry
        with pytest.raises(Conflict, match="already used for a different command"):
            store.append([workers.judgement_write("P-0042", status="smaller-steps")], actor="T.AJ",
                         command_id="cmd-lost")
        assert snapshot(store) == before
        assert len(assert_log_is_whole(store)) == 2
    finally:
        store.close()


def test_an_append_whose_reply_is_lost_in_transit_is_retried_once(fresh_url: str) -> None:
    """The same, in one process: the commit happens and the reply is lost on the way back."""
    store = open_store(fresh_url)
    real_append = store.append
    calls = []

    def append_then_drop_the_reply(*args: Any, **kwargs: Any) -> Any:
        calls.append(real_append(*args, **kwargs))
        if len(calls) == 1:
            raise ConnectionResetError("the reply was lost")
        return calls[-1]

    store.append = append_then_drop_the_reply  # type: ignore[method-assign]
    ledger = ledger_for_store(store, None, actor="T.AJ")
    write = workers.judgement_write("P-0007")
    try:
        with pytest.raises(ConnectionResetError):
            ledger.append([write], command_id="cmd-7")
        again = ledger.append([write], command_id="cmd-7")  # expected version 0 is now stale
        assert again == calls[0]
        assert [e.command_id for e in assert_log_is_whole(store)] == ["cmd-7"]
    finally:
        store.close()


def test_a_ledger_command_retried_with_its_command_id_after_a_lost_reply_answers_with_the_original(
    store_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    """The same at the command line: `ledger --command-id` run twice, the first reply never read."""
    from click.testing import CliRunner

    from cli import cli

    set_up_school(store_url, clock, ["T1"], 1, tmp_path)
    args = ["--db", store_url, "--actor", "T1", "--command-id", "cmd-cli-1", "judgement", "record", "P-1000",
            "--term", "2023-24/T1", "--status", "appropriate"]
    env = {**os.environ, "LEDGER_PROJECTION": ":memory:"}
    first = subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, timeout=WAIT)  # the reply is lost
    assert first.returncode == 0, first.stderr
    store = open_store(store_url)
    try:
        (original,) = store.read_stream(judgement_stream("P-1000", "2023-24/T1"))
        before = snapshot(store)
        retried = CliRunner().invoke(cli, args, env={"LEDGER_PROJECTION": ":memory:"})
        assert retried.exit_code == 0, retried.output
        assert f"(position {original.position})" in retried.output
        assert snapshot(store) == before
        assert_log_is_whole(store)
    finally:
        store.close()


# -- (e) kill -9 in the middle of an import -----------------------------------------------------

# Runs `ledger import pupils` in a child interpreter and stops it in the middle of its write, then
# the parent kills it with SIGKILL, which no code in the child can see or clean up after. Two places:
# * "inside-insert": half way through the INSERT of the events. On SQLite a progress handler pauses
#   the statement once part of the rows are in the WAL; on PostgreSQL a test-only trigger makes the
#   server pause on the row half way through the file (the child's session checks for a lost client
#   every 100 ms, as a server should be configured to, so the server notices the kill mid-statement).
# * "before-commit": every row is inserted, the head is not yet updated, nothing is committed.
KILLED_IMPORT = r"""
import sys, time
from sqlalchemy import event
from sqlalchemy.engine import Engine

url, csv_path, where = sys.argv[1], sys.argv[2], sys.argv[3]
steps = {"n": 0}

def stop_here():
    print("MIDWAY", flush=True)
    time.sleep(600)  # killed long before this ends

def is_events_insert(statement):
    return statement.lstrip().upper().startswith("INSERT INTO EVENTS")

@event.listens_for(Engine, "before_cursor_execute")
def before(conn, cursor, statement, parameters, context, executemany):
    if where == "inside-insert" and is_events_insert(statement) and conn.dialect.name == "sqlite":
        def progress():
            steps["n"] += 1
            if steps["n"] == 50:
                stop_here()
            return 0
        conn.connection.dbapi_connection.set_progress_handler(progress, 1000)

@event.listens_for(Engine, "after_cursor_execute")
def after(conn, cursor, statement, parameters, context, executemany):
    if where == "before-commit" and is_events_insert(statement):
        stop_here()

from cli import main
sys.argv = ["ledger", "--db", url, "--actor", "dm1", "import", "pupils", csv_path]
main()
"""
BIG_ROLL = 2000  # pupils: many thousand SQLite steps and PostgreSQL rows in one INSERT
MIDDLE = f"pupil-P-9{BIG_ROLL // 2:04d}"
PAUSE_TRIGGER = [  # PostgreSQL only, for "inside-insert"; dropped again before the ledger is checked
    "CREATE FUNCTION ledger_test_pause() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF NEW.stream_id = '{MIDDLE}' AND current_setting('application_name') = 'killed-import' "
    "THEN PERFORM pg_sleep(600); END IF; RETURN NEW; END $$",
    "CREATE TRIGGER ledger_test_pause BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION ledger_test_pause()",
]


def wait_until_midway(proc: subprocess.Popen, store: EventStore, server_side: bool) -> None:
    """Until the child says (or, for the server-side pause, PostgreSQL shows) that it is mid-write."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    for _ in range(WAIT * 20):
        if server_side:
            with store.engine.connect() as conn:  # type: ignore[attr-defined]
                if conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'killed-import' "
                    "AND wait_event = 'PgSleep'"
                ).scalar():
                    return
        else:
            try:
                if lines.get(timeout=0.05).startswith("MIDWAY"):
                    return
            except queue.Empty:
                pass
        if proc.poll() is not None:
            pytest.fail(f"the import ended (exit {proc.returncode}) before the middle of its write: "
                        f"{proc.stderr.read()}")  # type: ignore[union-attr]
        threading.Event().wait(0.05)
    pytest.fail(f"the import did not reach the middle of its write within about {WAIT}s")


def end_killed_backend(store: EventStore) -> None:
    """Make sure the server has let go of the killed client's session.

    PostgreSQL notices a vanished client only when it next looks at the socket (here every 100 ms,
    ``client_connection_check_interval``); on a loaded machine that can take longer than the lock
    timeout of the checks below. If the session is still there after a while, end it as the server
    would: its transaction is rolled back either way, which is what this test is about.
    """
    query = "SELECT pid FROM pg_stat_activity WHERE application_name = 'killed-import'"
    for _ in range(300):  # about 30 s
        with store.engine.connect() as conn:  # type: ignore[attr-defined]
            if not conn.exec_driver_sql(query).fetchall():
                return
        threading.Event().wait(0.1)
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM ({query}) AS killed")


@pytest.mark.parametrize("where", ["inside-insert", "before-commit"])
def test_kill_9_in_the_middle_of_an_import_leaves_nothing_and_the_chain_verifies(
    store_url: str, clock: FakeClock, tmp_path: Path, where: str
) -> None:
    set_up_school(store_url, clock, ["T1"], 1, tmp_path)
    roll = tmp_path / "big-roll.csv"
    roll.write_text(
        "pupil_id,class,enrolled_on\n" + "".join(f"P-9{i:04d},1AJ,2023-09-04\n" for i in range(BIG_ROLL)),
        encoding="utf-8",
    )
    # On PostgreSQL a fresh connection that gives up rather than wait for ever on a lock the killed
    # client might still hold: a hang becomes a failure.
    store = open_store(workers.with_pg_settings(store_url, lock_timeout="60s"), clock=clock)
    postgres = store_url.startswith("postgresql")
    server_side = postgres and where == "inside-insert"
    if server_side:
        with store.engine.begin() as conn:  # type: ignore[attr-defined]
            for statement in PAUSE_TRIGGER:
                conn.exec_driver_sql(statement)
    before = snapshot(store)
    child_url = workers.with_pg_settings(store_url, application_name="killed-import",
                                         client_connection_check_interval="100ms")
    env = {**os.environ, "LEDGER_PROJECTION": ":memory:", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_IMPORT, child_url, str(roll), where], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_midway(proc, store, server_side)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    try:
        if server_side:  # waits (bounded by lock_timeout) until the server has rolled the import back
            end_killed_backend(store)
            with store.engine.begin() as conn:  # type: ignore[attr-defined]
                conn.exec_driver_sql("DROP TRIGGER ledger_test_pause ON events")
                conn.exec_driver_sql("DROP FUNCTION ledger_test_pause()")
        assert snapshot(store) == before
        assert_log_is_whole(store)
        assert not any(e.stream_id.startswith("pupil-P-9") for e in store.read_all())
        # nothing is left locked or half-done: the same import now runs to the end, once
        clock.advance(minutes=5)
        result = imports.import_pupils(ledger_for_store(store, None, actor="dm1"), roll)
        assert result.written == BIG_ROLL
        events = assert_log_is_whole(store)
        assert len(events) == before[0].position + BIG_ROLL
    finally:
        store.close()
