"""Code that ``tests/test_concurrency.py`` runs in child processes.

The children are started with multiprocessing's ``spawn`` context (a fresh interpreter, as two
separate ``ledger`` commands would be), so everything they run lives here, importable by name and
free of pytest. Each child reports one message on the results queue and never raises: a child that
dies without reporting is caught by the parent's bounded wait.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

START_TIMEOUT = 120  # seconds a child waits at the start line for the others


def judgement_write(pupil_id: str, term: str = "2023-24/T1", status: str = "appropriate",
                    class_id: str = "1AJ", expected: int = 0, prefix: str = ""):  # noqa: ANN201 - StreamWrite
    """One JudgementRecorded event for a pupil's term stream, as the judgement service would write it."""
    from ledger.events import JudgementRecorded, judgement_stream
    from ledger.store.base import StreamWrite
    from ledger.store.mapper import NewEvent

    event = JudgementRecorded(pupil_id=pupil_id, term=term, class_id=class_id, status=status,
                              reason=None if status == "appropriate" else "long absence")
    return StreamWrite(prefix + judgement_stream(pupil_id, term), expected, (NewEvent.from_event(event),))


def _report(results: Any, message: tuple) -> None:
    results.put(message)


def append_many(url: str, worker: int, count: int, start: Any, results: Any) -> None:
    """``count`` appends, one judgement each, into streams no other worker touches."""
    from ledger.store import open_store

    store = None
    try:
        store = open_store(url)
        store.head()  # connected and warmed up before the start line
        start.wait(timeout=START_TIMEOUT)
        stored = []
        for k in range(count):
            write = judgement_write(f"P-{worker:02d}{k:04d}")
            stored += store.append([write], actor=f"T{worker}", command_id=f"w{worker}-{k}")
        _report(results, ("ok", worker, stored))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        _report(results, ("error", worker, traceback.format_exc()))
    finally:
        if store is not None:
            store.close()


def race_once(url: str, worker: int, start: Any, results: Any) -> None:
    """Append P-0001's 2023-24/T1 judgement at expected version 0, as every other racer does."""
    from ledger.errors import Conflict
    from ledger.store import open_store

    store = None
    try:
        store = open_store(url)
        store.head()
        write = judgement_write("P-0001", status="appropriate" if worker % 2 else "smaller-steps")
        start.wait(timeout=START_TIMEOUT)
        try:
            stored = store.append([write], actor=f"T{worker}", command_id=f"race-{worker}")
        except Conflict as exc:
            _report(results, ("conflict", worker, str(exc)))
        else:
            _report(results, ("won", worker, stored))
    except BaseException:  # noqa: BLE001
        _report(results, ("error", worker, traceback.format_exc()))
    finally:
        if store is not None:
            store.close()


def record_judgements(url: str, actor: str, pupils: list[str], terms: list[str], start: Any, results: Any) -> None:
    """The judgement service, as a teacher at a keyboard would call it, for each pupil and term."""
    from ledger.bootstrap import ledger_for_store
    from ledger.domain.calendar import Term
    from ledger.services import commands
    from ledger.store import open_store

    ledger = None
    try:
        ledger = ledger_for_store(open_store(url), None, actor=actor)
        ledger.store.head()
        start.wait(timeout=START_TIMEOUT)
        positions = []
        for term in terms:
            for i, pupil in enumerate(pupils):
                status, reason = ("smaller-steps", "long absence") if i % 3 == 0 else ("appropriate", None)
                stored = commands.record_judgement(ledger, pupil, Term.parse(term), status, reason)
                positions += [e.position for e in stored]
        _report(results, ("ok", actor, positions))
    except BaseException:  # noqa: BLE001
        _report(results, ("error", actor, traceback.format_exc()))
    finally:
        if ledger is not None:
            ledger.close()


def append_and_lose_the_reply(url: str, command_id: str) -> None:
    """The append commits, then the process dies before anyone hears the answer."""
    from ledger.store import open_store

    store = open_store(url)
    store.append([judgement_write("P-0042")], actor="T.AJ", command_id=command_id)
    os._exit(0)  # no reply, no clean-up: the caller only knows it sent the command


def retry(url: str, worker: int, command_id: str, start: Any, results: Any) -> None:
    """Send the same command again, with the expected version the caller saw before its first try."""
    from ledger.errors import Conflict
    from ledger.store import open_store

    store = None
    try:
        store = open_store(url)
        store.head()
        start.wait(timeout=START_TIMEOUT)
        try:
            stored = store.append([judgement_write("P-0042")], actor="T.AJ", command_id=command_id)
        except Conflict as exc:
            _report(results, ("conflict", worker, str(exc)))
        else:
            _report(results, ("ok", worker, stored))
    except BaseException:  # noqa: BLE001
        _report(results, ("error", worker, traceback.format_exc()))
    finally:
        if store is not None:
            store.close()


def with_pg_settings(url: str, **settings: str) -> str:
    """The same PostgreSQL URL with session settings added to its ``options`` (a SQLite URL unchanged),
    e.g. ``lock_timeout="60s"`` so that a test waiting on a lock fails instead of hanging."""
    if not url.startswith("postgresql"):
        return url
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    options = str(parsed.query.get("options", ""))
    extra = " ".join(f"-c {name}={value}" for name, value in settings.items())
    return parsed.update_query_dict({"options": f"{options} {extra}".strip()}).render_as_string(hide_password=False)
