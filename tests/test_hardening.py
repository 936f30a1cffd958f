"""Bad input found by trying to break the shipped sample: each is refused in one line, with the
contract's exit code, and the ledger is left as it was.

Every test works on a copy of the shipped ``events.db``. Tampering is done the way an attacker with
the file would do it: drop the database's triggers and change the events table behind the store.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ledger.cli_support import one_line
from ledger.domain.calendar import AcademicYear
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


# -- a second pass over the sample (the tester's findings) ---------------------------------------
def _today() -> date:
    """The ledger's today: these commands run on the real clock, in the sample's time zone."""
    return datetime.now(ZoneInfo("Europe/London")).date()


def test_a_class_with_judgements_or_pupils_after_the_term_cannot_close_after_it(sample: Path) -> None:
    refused(sample, "--actor", "DM1", "class", "close", "1AJ", "--after", "2023-24/T1", code=1,
            errors="class 1AJ has judgements recorded for terms after 2023-24/T1 (10 in 2023-24/T2, "
                   "10 in 2023-24/T3); close it after 2023-24/T3 or later")
    refused(sample, "--actor", "DM1", "class", "close", "1AJ", "--after", "2023-24/T3", code=1,
            errors="class 1AJ still has pupils on its roll after 2023-24/T3 (P-0001, P-0002, P-0003 and 7 more); "
                   "move them to another class or record their leaving with 'ledger import pupils' first, "
                   "or close it after a later term")
    doc = json.loads(ok("report", "--year", "2023-24", "--format", "json"))
    [aj] = [c for p in doc["phases"] for c in p["classes"] if c["class"] == "1AJ"]
    assert [aj["terms"][t]["state"] for t in ("T1", "T2", "T3")] == ["recorded"] * 3


def test_free_text_is_one_line_with_enough_visible_characters(sample: Path, tmp_path: Path) -> None:
    revise = ["--actor", "HT1", "judgement", "revise", "P-0024", "--term", "2023-24/T1", "--status", "smaller-steps"]
    line = "has a line break or other control character (U+{}); write it as one line of plain text"
    refused(sample, *revise, "--reason", "moderated\nby DH1", code=1,
            errors="reason 'moderated\\nby DH1' " + line.format("000A"))
    refused(sample, *revise, "--reason", "moder\rated", code=1, errors="reason 'moder\\rated' " + line.format("000D"))
    refused(sample, *revise, "--reason", "moderated \x01", code=1, errors="reason 'moderated \\x01' " + line.format("0001"))
    refused(sample, *revise, "--reason", "\x1b[2Jmoderated", code=1,
            errors="reason '\\x1b[2Jmoderated' " + line.format("001B"))
    refused(sample, *revise, "--reason", "moderated\u2028twice", code=1,
            errors="reason 'moderated\\u2028twice' " + line.format("2028"))
    # only visible characters count towards a reason's 3: zero-width spaces are no reason at all
    refused(sample, *revise, "--reason", "\u200b\u200b\u200b", code=1,
            errors="a revision needs a reason for the change (--reason)")
    refused(sample, *revise, "--reason", "o\u200bk", code=1,
            errors="reason 'o\u200bk' needs at least 3 visible characters; spaces and invisible characters such as "
                   "zero-width spaces do not count")
    refused(sample, "--actor", "HT1", "judgement", "record", "P-0001", "--term", "2026-27/T1", "--status",
            "smaller-steps", "--reason", "\u200b \u200b\u200b", code=1,
            errors="a smaller-steps judgement needs a reason (--reason, or the reason column)")
    refused(sample, "--actor", "KSL-EYFS", "outcome", "set", "P-0001-O9", "--pupil", "P-0001", "--area", "semh",
            "--description", "Manages change\nwith support", code=1,
            errors="description 'Manages change\\nwith support' " + line.format("000A"))
    judged = tmp_path / "judged.csv"
    judged.write_text('pupil_id,class,term,status,reason\nP-0001,1AJ,2026-27/T1,smaller-steps,"long\nabsence"\n'
                      "P-0002,1AJ,2026-27/T1,smaller-steps,\x1b[31mred\n", encoding="utf-8")
    refused(sample, "--actor", "HT1", "import", "judgements", str(judged), code=1, errors=[
        f"{judged}:2: reason 'long\\nabsence' " + line.format("000A"),
        f"{judged}:4: reason '\\x1b[31mred' " + line.format("001B"),
        f"import of {judged} refused: 2 problems, nothing was written; fix the rows above and import again",
    ])
    new = tmp_path / "new.db"
    refused(new, "--db", str(new), "--actor", "dm1", "init", "--school", "Oak\nTree", code=1,
            errors="school 'Oak\\nTree' " + line.format("000A"))
    assert not new.exists()


def test_dates_and_terms_far_ahead_are_refused(sample: Path, tmp_path: Path) -> None:
    today = _today()
    later = AcademicYear(AcademicYear.containing(today).start_year + 1)  # next academic year: the furthest
    ahead = f"is too far ahead: {{}} a term up to the end of next academic year ({later}); check the year"
    refused(sample, "--actor", "DM1", "class", "open", "9ZZ", "--phase", "KS1", "--from", "2090-91/T1", code=1,
            errors="2090-91/T1 " + ahead.format("a class can open from"))
    refused(sample, "--actor", "DM1", "term", "set", "2090-91/T1", "--start", "2090-09-03", "--end", "2090-12-20",
            code=1, errors="2090-91/T1 " + ahead.format("term dates can be set for"))
    refused(sample, "--actor", "KSL-EYFS", "target", "set", "P-0001-T9", "--pupil", "P-0001", "--outcome", "P-0001-O1",
            "--framework", "engagement", "--terms", f"{later}/T3;2090-91/T1", "--description", "Waits for a turn",
            code=1, errors="2090-91/T1 " + ahead.format("a target can be for"))
    roll = write_csv(tmp_path / "roll.csv", "pupil_id,class,enrolled_on,left_on",
                     "P-9001,1AJ,2099-01-01,", "P-0001,1AJ,2023-09-04,2099-01-01")
    refused(sample, "--actor", "DM1", "import", "pupils", str(roll), code=1, errors=[
        f"{roll}:2: enrolled_on 2099-01-01 is more than a year after today ({today}); check the date",
        f"{roll}:3: left_on 2099-01-01 is more than a year after today ({today}); check the date",
        f"import of {roll} refused: 2 problems, nothing was written; fix the rows above and import again",
    ])
    this_year = AcademicYear.containing(today)
    refused(sample, "--actor", "DM1", "import", "figures", str(SHIPPED.parent / "data" / "ehcp-data-2023-24.csv"),
            "--year", str(this_year), code=1,
            errors=f"{this_year} has not ended yet (its summer term ends {this_year.last_day}); "
                   "historic figures are for past years")
    refused(sample, "--actor", "HT1", "judgement", "record", "P-0001", "--term", f"{later}/T1", "--status", "appropriate",
            code=1, errors=f"{later}/T1 has not started yet (it starts {later.first_day}); "
                           "judgements come at the end of a term")
    # as far ahead as is allowed is accepted
    ok("--actor", "DM1", "class", "open", "9ZZ", "--phase", "KS1", "--from", f"{later}/T3")


def test_reads_of_an_unknown_pupil_or_class_are_refused(sample: Path) -> None:
    for command in (["history", "P-9999"], ["pupil", "show", "P-9999"], ["history", "P-9999", "--format", "json"]):
        refused(sample, *command, code=1,
                errors="no pupil P-9999 in the ledger; check the pupil id (pupils are added with 'ledger import pupils')")
    n = head(sample)[0]
    refused(sample, "review", "--term", "2023-24/T1", "--class", "NOPE", code=1,
            errors=f"no class 'NOPE' in the ledger as it stood at position {n}")
    refused(sample, "smaller-steps", "--term", "2023-24/T1", "--class", "NOPE", code=1,
            errors=f"no class 'NOPE' in the ledger as it stood at position {n}")
    # a pupil the ledger holds, asked about before they were in it: nothing then, which is no error
    assert json.loads(ok("history", "P-0001", "--as-at", "2020-01-01", "--format", "json")) == {
        "pupil": "P-0001", "events": []}
    page = json.loads(ok("pupil", "show", "P-0001", "--as-at", "2020-01-01", "--format", "json"))
    assert (page["position"], page["outcomes"], page["targets"], page["judgements"]) == (0, [], [], [])


def test_a_staff_id_too_long_says_how_long_it_may_be(sample: Path) -> None:
    refused(sample, "--actor", "DM1", "staff", "add", "A" * 33, "--role", "teacher", code=1,
            errors=f"staff_id '{'A' * 33}' is not valid: a staff id is letters, digits, dots and dashes, "
                   "at most 32 characters (e.g. dm1 or T.AJ)")


def test_every_bad_row_is_reported_whatever_the_shape_of_the_others(sample: Path, tmp_path: Path) -> None:
    roll = tmp_path / "roll.csv"
    roll.write_text("pupil_id,class,enrolled_on\n"
                    "P-9001,1AJ,2024-06-03\n"
                    "Jane Smith,1AJ,2024-06-03\n"
                    "P-9002,1AJ,2024-06-03,x,y\n"
                    'P-9003,"1A\nJ",2024-06-03\n'
                    "P-9004,9ZZ,2024-06-03\n"
                    "P-9005,1AJ,2024-06-03,z\n", encoding="utf-8")
    refused(sample, "--actor", "DM1", "import", "pupils", str(roll), code=1, errors=[
        f"{roll}:3: pupil_id 'Jane Smith' is not valid: a pupil id must be a pseudonymous code of letters, digits "
        "and dashes with at least one digit (e.g. P-0042), never a name",
        f"{roll}:4: 5 cells but the header has 3 columns",
        f"{roll}:5: class 1A\\nJ does not exist; open it with 'ledger class open 1A\\nJ --phase PHASE'",
        f"{roll}:7: class 9ZZ does not exist; open it with 'ledger class open 9ZZ --phase PHASE'",
        f"{roll}:8: 4 cells but the header has 3 columns",
        f"import of {roll} refused: 5 problems, nothing was written; fix the rows above and import again",
    ])


# -- a second pass at breaking it ----------------------------------------------------------------
def test_output_through_a_link_writes_the_file_it_points_to(sample: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old\n")
    link = tmp_path / "out.lnk"
    link.symlink_to(real)
    ok("report", "--year", "2023-24", "--output", str(link))
    assert link.is_symlink() and real.read_text().startswith("EHCP progress 2023-24")


def test_output_over_the_ledger_named_by_a_driver_url_is_refused(sample: Path) -> None:
    refused(sample, "--db", f"sqlite+pysqlite:///{sample}", "report", "--year", "2023-24", "--output", str(sample),
            code=2, errors=f"Invalid value for '--output' / '-o': {sample} is the ledger's own file; "
                           "write the output somewhere else")


def test_a_database_driver_that_is_not_installed_is_one_line(sample: Path) -> None:
    refused(sample, "--db", "postgresql+asyncpg://127.0.0.1/test", "report", "--year", "2023-24", code=1,
            errors="cannot open 'postgresql+asyncpg://127.0.0.1/test': its database driver is not installed "
                   "(asyncpg); use sqlite:///FILE or postgresql+psycopg://HOST/DB")


def test_a_moment_outside_the_calendar_is_one_line(sample: Path) -> None:
    refused(sample, "report", "--year", "2023-24", "--as-at", "9999-12-31T23:59:59-14:00", code=2,
            errors="Invalid value for '--as-at': '9999-12-31T23:59:59-14:00' is outside the calendar; "
                   "give a date between 1950 and 2149")


@pytest.mark.parametrize("key", ["head_position", "schema_version"])
def test_a_damaged_meta_row_is_one_line(sample: Path, key: str) -> None:
    _behind_the_store(sample, f"UPDATE ledger_meta SET value = 'abc' WHERE key = '{key}'")
    result = run("report", "--year", "2023-24")
    assert (result.exit_code, result.stderr) == (1, f"Error: the ledger at sqlite:///{sample} is damaged: its {key} "
                                                    "is 'abc', not a number; restore it from a backup\n")


@pytest.mark.parametrize("change, what", [
    ("event_type = 'Bogus'", "unknown event type Bogus v1; run 'ledger verify'"),
    ("schema_version = 99", "unknown event type JudgementRecorded v99; run 'ledger verify'"),
    ("recorded_at = 'garbage'",
     "the event is not as it was stored (its payload or time no longer reads); run 'ledger verify'"),
])
def test_an_event_changed_into_nonsense_is_refused_by_reads(sample: Path, change: str, what: str) -> None:
    _behind_the_store(sample, f"UPDATE events SET {change} WHERE position = 2374")
    refused(sample, "report", "--year", "2023-24", code=1, errors=TAMPERED.format(p=2374, what=what))


def test_a_head_hash_changed_behind_the_store_is_named_as_such(sample: Path) -> None:
    last = head(sample)[0]
    _behind_the_store(sample, "UPDATE ledger_meta SET value = '00' WHERE key = 'head_hash'")
    refused(sample, "--actor", "DM1", "staff", "add", "ZZ9", "--role", "teacher", code=1, errors=TAMPERED.format(
        p=last, what="the last event's hash is not the one the last append recorded; nothing was written"))


@pytest.mark.parametrize("reason", ["\u2800\u2800\u2800", "\u115f\u115f\u115f", "\ufe0f\ufe0f\ufe0f", "\u0301\u0301\u0301"])
def test_characters_that_draw_nothing_are_no_reason(sample: Path, reason: str) -> None:
    result = run("--actor", "HT1", "judgement", "revise", "P-0024", "--term", "2023-24/T1", "--status",
                 "smaller-steps", "--reason", reason)
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.output
    assert head(sample) == head(SHIPPED)


def test_a_bidirectional_override_is_refused_like_a_control_character(sample: Path) -> None:
    refused(sample, "--actor", "HT1", "judgement", "revise", "P-0024", "--term", "2023-24/T1", "--status",
            "smaller-steps", "--reason", "\u202eabc moderated", code=1,
            errors="reason '\\u202eabc moderated' has a line break or other control character (U+202E); "
                   "write it as one line of plain text")
