"""Bad input found by trying to break the shipped sample: each is refused in one line, with the
contract's exit code, and the ledger is left as it was.

Every test works on a copy of the shipped ``events.db``. Tampering is done the way an attacker with
the file would do it: drop the database's triggers and change the events table behind the store.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from ledger.cli_support import one_line
from test_cli import head, ok, refused, run, write_csv

SHIPPED = Path(__file__).resolve().parent.parent / "events.db"
TAMPERED = ("tampering found at position {p}: {what}; "
            "restore the ledger from a backup and report it to the data protection lead")


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "events.db"
    shutil.copy(SHIPPED, db)
    return db


def _behind_the_store(db: Path, sql: str) -> None:
    con = sqlite3.connect(db)
    con.executescript(f"DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; {sql}")
    con.close()


# -- --output never destroys the ledger or a device ----------------------------------------------
@pytest.mark.parametrize("target", ["events.db", "events.db-wal", "events.db.projection.duckdb", "./events.db"])
def test_output_over_the_ledgers_own_files_is_refused(sample: Path, target: str) -> None:
    for command in (["report", "--year", "2023-24"], ["export", "judgements", "--year", "2023-24"]):
        option = "'--output' / '-o'" if command[0] == "report" else "'--output'"
        refused(sample, "--db", str(sample), *command, "--output", target, code=2,
                errors=f"Invalid value for {option}: {target} is the ledger's own file; write the output somewhere else")
    assert sqlite3.connect(sample).execute("SELECT count(*) FROM events").fetchone()[0] == head(sample)[0]


def test_output_to_a_device_or_a_folder_is_refused(sample: Path, tmp_path: Path) -> None:
    for target in ("/dev/null", str(tmp_path)):
        refused(sample, "--db", str(sample), "report", "--year", "2023-24", "--output", target, code=2,
                errors=f"Invalid value for '--output' / '-o': {target} is not a regular file; "
                       "give the path of a file to write")
    assert Path("/dev/null").is_char_device()


def test_output_dash_is_the_screen(sample: Path) -> None:
    assert ok("--db", str(sample), "report", "--year", "2023-24", "--output", "-", "--format", "csv") == \
        ok("--db", str(sample), "report", "--year", "2023-24", "--format", "csv")
    assert not (sample.parent / "-").exists()


@pytest.mark.parametrize("args, message", [
    (["--db", "", "report", "--year", "2023-24"],
     "Invalid value for '--db': give a ledger file or a database URL (or leave --db out for events.db here)"),
    (["--command-id", "x" * 65, "--actor", "DM1", "staff", "add", "ZZ1", "--role", "teacher"],
     "Invalid value for '--command-id': a command id is 1 to 64 printable characters, without spaces at either end"),
    (["report", "--year", "9999-00"],
     "Invalid value for '--year': academic year 9999-00 is outside 1950-51 to 2149-50; check the year"),
    (["report", "--year", "0000-01"],
     "Invalid value for '--year': academic year 0000-01 is outside 1950-51 to 2149-50; check the year"),
    (["--actor", "DM1", "judgement", "record", "P-0024", "--term", "9999-00/T1", "--status", "appropriate"],
     "Invalid value for '--term': academic year 9999-00 is outside 1950-51 to 2149-50; check the year"),
])
def test_wrong_command_lines(sample: Path, args: list[str], message: str) -> None:
    refused(sample, *args, code=2, errors=message)


def test_a_date_beyond_the_calendar_in_an_import_names_its_line(sample: Path, tmp_path: Path) -> None:
    roll = write_csv(tmp_path / "roll.csv", "pupil_id,class,enrolled_on", "P-9001,1AJ,9999-12-31")
    result = run("--db", str(sample), "--actor", "DM1", "import", "pupils", str(roll))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(f"Error: {roll}:2: ")
    assert head(sample) == head(SHIPPED)


def test_a_local_time_the_clocks_skip_is_refused(sample: Path) -> None:
    refused(sample, "report", "--year", "2023-24", "--as-at", "2024-03-31T01:30", code=1,
            errors="'2024-03-31T01:30' does not exist in Europe/London (the clocks went forward); "
                   "give the time with its UTC offset, e.g. 2024-03-31T01:30Z")
    # The hour that happens twice in October is the first of the two (PEP 495's fold=0).
    doc = json.loads(ok("report", "--year", "2023-24", "--as-at", "2023-10-29T01:30", "--format", "json"))
    assert doc["as_at"] == "2023-10-29T00:30:00Z"


def test_a_week_date_is_the_whole_day_like_any_date(sample: Path) -> None:
    week = json.loads(ok("report", "--year", "2023-24", "--as-at", "2024-W16", "--format", "json"))
    day = json.loads(ok("report", "--year", "2023-24", "--as-at", "2024-04-15", "--format", "json"))
    assert week == day


def test_position_0_is_the_moment_before_the_first_event(sample: Path) -> None:
    doc = json.loads(ok("report", "--year", "2023-24", "--position", "0", "--format", "json"))
    first = sqlite3.connect(sample).execute("SELECT recorded_at FROM events WHERE position = 1").fetchone()[0]
    assert doc["position"] == 0 and doc["as_at"] < first.replace(".000000Z", "Z")


def test_an_unknown_school_is_not_an_empty_report(sample: Path) -> None:
    refused(sample, "report", "--year", "2023-24", "--school", "NOPE", code=1,
            errors=f"no school NOPE in the ledger at sqlite:///{sample}; "
                   "'ledger report --year YEAR --trust' lists its schools")


# -- tampering is found by reads and refused by writes -------------------------------------------
def test_a_row_cut_off_the_end_is_found_by_reads_and_writes(sample: Path) -> None:
    last = head(sample)[0]
    ok("report", "--year", "2023-24")  # the cache has seen the last event
    _behind_the_store(sample, f"DELETE FROM events WHERE position = {last}")
    refused(sample, "report", "--year", "2023-24", code=1,
            errors=TAMPERED.format(p=last, what=f"event is missing (the log should end at position {last})"))
    refused(sample, "--actor", "DM1", "staff", "add", "ZZ9", "--role", "teacher", code=1,
            errors=TAMPERED.format(p=last, what=f"the log ends at position {last - 1} but the last append "
                                                f"recorded {last}; nothing was written"))


def test_a_row_added_behind_the_store_is_refused_by_writes(sample: Path) -> None:
    last = head(sample)[0]
    _behind_the_store(sample, f"INSERT INTO events SELECT {last + 1}, stream_id || '-x', stream_version, event_type, "
                              f"schema_version, payload, recorded_at, actor, command_id, hash FROM events "
                              f"WHERE position = {last}")
    refused(sample, "--actor", "DM1", "staff", "add", "ZZ9", "--role", "teacher", code=1,
            errors=TAMPERED.format(p=last + 1, what=f"the log ends at position {last + 1} but the last append "
                                                    f"recorded {last}; nothing was written"))
    refused(sample, "history", "P-0024", code=1, errors=TAMPERED.format(
        p=last + 1, what="event was added behind the store's back (after the recorded head)"))


def test_a_row_missing_in_the_middle_is_found_when_the_projection_reads_it(sample: Path) -> None:
    _behind_the_store(sample, "DELETE FROM events WHERE position = 3000")
    refused(sample, "history", "P-0024", code=1,
            errors=TAMPERED.format(p=3000, what="event is missing (the next stored is 3001)"))
    refused(sample, "verify", code=1, errors=TAMPERED.format(p=3000, what="event is missing (the next stored is 3001)"))


def test_a_corrupt_file_is_one_line_on_every_read(sample: Path) -> None:
    size = sample.stat().st_size
    with sample.open("r+b") as f:
        f.seek(size // 2)
        f.write(b"\xff" * 4096)
    for command in (["report", "--year", "2023-24"], ["history", "P-0024"], ["audit"], ["verify"]):
        result = run(*command)
        assert result.exit_code == 1, (command, result.output)
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Error: "), result.stderr


# -- one line per problem, whatever the input holds ----------------------------------------------
def test_control_characters_from_the_input_are_shown_escaped() -> None:
    assert one_line("class 'A\nB\rC\x1b[2J' does not exist\u2028") == "class 'A\\nB\\rC\\x1b[2J' does not exist\\u2028"
    assert one_line("café, 2MD (PMLD)") == "café, 2MD (PMLD)"


def test_an_import_cell_with_a_newline_is_reported_on_one_line(sample: Path, tmp_path: Path) -> None:
    roll = tmp_path / "roll.csv"
    roll.write_text('pupil_id,class,enrolled_on\nP-9001,"1A\nJ",2024-06-03\n', encoding="utf-8")
    result = run("--db", str(sample), "--actor", "DM1", "import", "pupils", str(roll))
    assert result.exit_code == 1
    assert all(line.startswith("Error: ") for line in result.stderr.splitlines()), result.stderr
    assert "1A\\nJ" in result.stderr
    assert head(sample) == head(SHIPPED)
