"""Property (d): any tampering with the stored log is found, at the right position.

An attacker with access to the SQLite file can do anything the file format allows, so each example
copies a small real ledger, drops the triggers that refuse UPDATE and DELETE (as such an attacker
would), changes it with plain ``sqlite3``, and then asks ``ledger verify`` about it.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cli import cli
from conftest import FakeClock
from ledger.bootstrap import ledger_for_store, projection_path
from ledger.domain.calendar import Term
from ledger.errors import TamperingFound
from ledger.services import commands, imports, queries
from ledger.store import open_store

COLUMNS = (
    "position", "stream_id", "stream_version", "event_type", "schema_version",
    "payload", "recorded_at", "actor", "command_id", "hash",
)
INTEGER_COLUMNS = {"position", "stream_version", "schema_version"}
CONTENT_COLUMNS = tuple(c for c in COLUMNS if c != "position")
T1, T2 = Term.parse("2023-24/T1"), Term.parse("2023-24/T2")

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Template:
    path: Path
    rows: int
    rowids: tuple[int, ...]  # rowid of position 1, 2, ... (positions can themselves be tampered with)


@lru_cache(maxsize=1)
def template() -> Template:
    """A small but varied ledger, built once: several commands, a multi-event import, a revision,
    non-ASCII text, and a clock that steps backwards once."""
    folder = Path(tempfile.mkdtemp(prefix="ledger-chain-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    clock = FakeClock()
    store = open_store(f"sqlite:///{folder / 'template.db'}", clock=clock, must_exist=False)
    led = ledger_for_store(store, None, actor="dm1")
    commands.init(led, school="Ysgol Pen-y-Bryn – Café", timezone="Europe/London")
    clock.advance(minutes=3)
    commands.add_staff(led, "T.AJ", "teacher")
    commands.add_staff(led, "KS.LEAD", "ks-lead")
    clock.advance(seconds=41, microseconds=7)
    commands.open_class(led, "1AJ", "EYFS/KS1", None, T1)
    commands.open_class(led, "2MD", "KS1/KS2", "PMLD", T1)
    commands.set_term_dates(led, T1, date(2023, 9, 4), date(2023, 12, 20))
    clock.advance(hours=-2)  # a clock corrected backwards: recorded_at must not go back
    roll = folder / "roll.csv"
    roll.write_text(
        "pupil_id,class,enrolled_on,left_on\n"
        "P-0001,1AJ,2023-09-04,\n"
        "P-0002,1AJ,2023-09-04,2024-01-07\n"
        "P-0002,2MD,2024-01-08,\n"
        "P-0003,2MD,2023-09-04,2024-02-01\n",
        encoding="utf-8",
    )
    imports.import_pupils(led, roll)
    clock.advance(days=1)
    teacher = ledger_for_store(store, None, actor="T.AJ")
    commands.record_judgement(teacher, "P-0001", T1, "appropriate")
    commands.record_judgement(teacher, "P-0002", T1, "smaller-steps", "long absence – hospital stay (café trip)")
    lead = ledger_for_store(store, None, actor="KS.LEAD")
    clock.advance(minutes=17)
    commands.revise_judgement(lead, "P-0001", T1, "smaller-steps", "moderation: evidence thin")
    commands.record_judgement(teacher, "P-0003", T2, "appropriate", class_id="2MD")
    assert queries.verify(led) > 10
    store.close()
    final = folder / "events.db"
    with sqlite3.connect(folder / "template.db") as src, sqlite3.connect(final) as dst:
        src.backup(dst)
    with sqlite3.connect(final) as con:
        rowids = tuple(r[0] for r in con.execute("SELECT rowid FROM events ORDER BY position"))
    return Template(final, len(rowids), rowids)


@lru_cache(maxsize=1)
def template_rows() -> tuple[dict[str, object], ...]:
    with sqlite3.connect(template().path) as con:
        con.row_factory = sqlite3.Row
        return tuple(dict(r) for r in con.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY position"))


Mutation = Callable[[sqlite3.Connection], None]


@contextlib.contextmanager
def tampered_copy(*mutations: Mutation) -> Iterator[Path]:
    """A copy of the template ledger, changed behind the store's back; skipped (by ``assume``)
    when the change is one SQLite itself refuses, such as a duplicate position."""
    with tempfile.TemporaryDirectory(prefix="ledger-tamper-") as folder:
        path = Path(folder) / "events.db"
        shutil.copyfile(template().path, path)
        con = sqlite3.connect(path)
        try:
            con.execute("DROP TRIGGER events_no_update")
            con.execute("DROP TRIGGER events_no_delete")
            try:
                for mutate in mutations:
                    mutate(con)
            except sqlite3.IntegrityError:
                assume(False)  # e.g. two rows with one position: the file format itself refuses it
            con.commit()
        finally:
            con.close()
        yield path


def rowid(position: int) -> int:
    return template().rowids[position - 1]


def set_column(position: int, column: str, value: int | bytes) -> Mutation:
    """Store ``value`` in one column of the row that was at ``position``; bytes are stored as TEXT
    exactly as given, valid UTF-8 or not, as an edit of the file would leave them."""

    def mutate(con: sqlite3.Connection) -> None:
        placeholder = "CAST(? AS TEXT)" if isinstance(value, bytes) else "?"
        con.execute(f"UPDATE events SET {column} = {placeholder} WHERE rowid = ?", (value, rowid(position)))

    return mutate


def delete_row(position: int) -> Mutation:
    return lambda con: con.execute("DELETE FROM events WHERE rowid = ?", (rowid(position),))


def swap_rows(first: int, second: int) -> Mutation:
    """Swap every column but the position between two rows (via a placeholder stream id, so the
    unique (stream_id, stream_version) index never sees two equal rows)."""

    def mutate(con: sqlite3.Connection) -> None:
        cols = ", ".join(CONTENT_COLUMNS)
        a = con.execute(f"SELECT {cols} FROM events WHERE rowid = ?", (rowid(first),)).fetchone()
        b = con.execute(f"SELECT {cols} FROM events WHERE rowid = ?", (rowid(second),)).fetchone()
        assignments = ", ".join(f"{c} = ?" for c in CONTENT_COLUMNS)
        con.execute("UPDATE events SET stream_id = '__swap__' WHERE rowid = ?", (rowid(first),))
        con.execute(f"UPDATE events SET {assignments} WHERE rowid = ?", (*a, rowid(second)))
        con.execute(f"UPDATE events SET {assignments} WHERE rowid = ?", (*b, rowid(first)))

    return mutate


def changed_byte(value: object, index: int, new: int) -> int | bytes:
    """``value`` with byte ``index`` replaced by ``new``: UTF-8 bytes for text, the 8-byte
    two's-complement form for integers."""
    if isinstance(value, int):
        raw = bytearray(value.to_bytes(8, "big", signed=True))
        raw[index % 8] = new
        return int.from_bytes(raw, "big", signed=True)
    raw = bytearray(str(value).encode("utf-8"))
    raw[index % len(raw)] = new
    return bytes(raw)


@st.composite
def byte_changes(draw: st.DrawFn, position: int | None = None) -> tuple[int, Mutation]:
    """One changed byte in one column of one row: (the row's position, the change)."""
    rows = template_rows()
    if position is None:
        position = draw(st.integers(1, len(rows)))
    column = draw(st.sampled_from(COLUMNS))
    value = rows[position - 1][column]
    width = 8 if column in INTEGER_COLUMNS else len(str(value).encode("utf-8"))
    index = draw(st.integers(0, width - 1))
    old = (value.to_bytes(8, "big", signed=True) if isinstance(value, int) else str(value).encode("utf-8"))[index]
    new = draw(st.integers(0, 255).filter(lambda b: b != old))
    return position, set_column(position, column, changed_byte(value, index, new))


def verify_file(path: Path) -> int:
    store = open_store(str(path))
    led = ledger_for_store(store, None)
    try:
        return queries.verify(led)
    finally:
        led.close()


def tampering_position(path: Path) -> int:
    with pytest.raises(TamperingFound) as caught:
        verify_file(path)
    assert "restore the ledger from a backup" in str(caught.value)
    return caught.value.position


# -- the template itself --------------------------------------------------------------------


def test_the_untouched_copy_verifies() -> None:
    with tampered_copy() as path:  # triggers dropped, nothing else changed
        assert verify_file(path) == template().rows
    assert template().rows >= 14
    assert len({r["command_id"] for r in template_rows()}) >= 10


# -- the properties -------------------------------------------------------------------------


@PROPERTY
@given(change=byte_changes())
def test_any_changed_byte_is_found_at_its_position(change: tuple[int, Mutation]) -> None:
    position, mutate = change
    with tampered_copy(mutate) as path:
        assert tampering_position(path) == position


@PROPERTY
@given(data=st.data())
def test_several_changed_rows_are_reported_at_the_first(data: st.DataObject) -> None:
    positions = data.draw(st.sets(st.integers(1, template().rows), min_size=2, max_size=4))
    mutations = [data.draw(byte_changes(p))[1] for p in sorted(positions)]
    with tampered_copy(*mutations) as path:
        assert tampering_position(path) == min(positions)


@PROPERTY
@given(data=st.data())
def test_any_deleted_rows_are_found_as_the_first_missing_position(data: st.DataObject) -> None:
    positions = data.draw(st.sets(st.integers(1, template().rows), min_size=1, max_size=3))
    with tampered_copy(*(delete_row(p) for p in positions)) as path:
        assert tampering_position(path) == min(positions)


def test_deleting_the_last_row_is_caught_by_the_recorded_head() -> None:
    last = template().rows
    with tampered_copy(delete_row(last)) as path:
        assert tampering_position(path) == last
    with tampered_copy(delete_row(last), delete_row(last - 1)) as path:
        assert tampering_position(path) == last - 1


@PROPERTY
@given(data=st.data())
def test_any_swapped_pair_of_rows_is_found_at_the_first(data: st.DataObject) -> None:
    pair = data.draw(st.lists(st.integers(1, template().rows), min_size=2, max_size=2, unique=True))
    first, second = sorted(pair)
    with tampered_copy(swap_rows(first, second)) as path:
        assert tampering_position(path) == first


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("position", 0),
        ("position", -5),
        ("position", 10_000),
        ("payload", b'{"class_id":"1AJ"\xff'),  # not UTF-8 any more
        ("payload", b"not json"),
        ("recorded_at", b"yesterday"),
        ("recorded_at", b"2023-01-01T00:00:00.000000Z"),
        ("stream_version", 99),
        ("schema_version", 2),
        ("event_type", b"PupilLeft"),
        ("hash", b"0" * 64),
        ("actor", b"dm2"),
    ],
)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_chosen_changes_are_found_at_their_position(column: str, value: int | bytes, where: str) -> None:
    position = {"first": 1, "middle": template().rows // 2, "last": template().rows}[where]
    with tampered_copy(set_column(position, column, value)) as path:
        assert tampering_position(path) == position


# -- what the user sees ---------------------------------------------------------------------

def reason_position() -> int:
    return next(int(r["position"]) for r in template_rows() if "long absence" in str(r["payload"]))


def changed_reason() -> Mutation:
    """The quiet edit an auditor fears most: a smaller-steps reason reworded."""
    payload = str(template_rows()[reason_position() - 1]["payload"])
    return set_column(reason_position(), "payload", payload.replace("long absence", "short absence").encode())


KINDS: dict[str, Callable[[], tuple[list[Mutation], int]]] = {
    "byte not UTF-8": lambda: ([set_column(6, "payload", changed_byte(template_rows()[5]["payload"], 3, 0xFF))], 6),
    "changed reason": lambda: ([changed_reason()], reason_position()),
    "deleted middle": lambda: ([delete_row(9)], 9),
    "deleted last": lambda: ([delete_row(template().rows)], template().rows),
    "swapped": lambda: ([swap_rows(4, 11)], 4),
    "position moved off the end": lambda: ([set_column(7, "position", 999)], 7),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cli_verify_reports_tampering_in_one_line_even_with_a_projection_cache(kind: str) -> None:
    mutations, position = KINDS[kind]()
    runner = CliRunner(env={"LEDGER_PROJECTION": None, "LEDGER_DB": None, "LEDGER_ACTOR": None})
    with tampered_copy() as clean:
        # The projection cache is built from the honest ledger first, as it would be in use.
        built = runner.invoke(cli, ["--db", str(clean), "report", "--year", "2023-24"])
        assert built.exit_code == 0, built.output
        cache = projection_path(str(clean))
        assert cache is not None and cache.exists()
        con = sqlite3.connect(clean)
        con.execute("DROP TRIGGER IF EXISTS events_no_update")
        con.execute("DROP TRIGGER IF EXISTS events_no_delete")
        for mutate in mutations:
            mutate(con)
        con.commit()
        con.close()

        result = runner.invoke(cli, ["--db", str(clean), "verify"])

        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1
        assert lines[0].startswith(f"Error: tampering found at position {position}: ")
        assert result.stdout == ""
