"""The ``ledger`` command against /work/shared/spec/cli-contract.md, through click's test runner.

Every command of the contract is run once the way a school would, and every way it can be refused
is checked for: the exit code (0 ok; 1 the ledger refused; 2 the command line was wrong), the exact
one-line message on stderr (never a traceback), and a ledger left exactly as it was (same number
of events, same last hash).

The command uses the real clock (judgements for 2023-24 are in the past); where a test needs
events at known moments (``--as-at``) it writes them through the services with a fake clock into
the same file and then reads them back through the command.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import cli
from conftest import FakeClock
from ledger.bootstrap import ledger_for_store
from ledger.domain.calendar import Term
from ledger.errors import StoreError
from ledger.services import commands, imports
from ledger.store import open_store

# Nothing from the calling shell leaks in: no ledger, actor or school chosen by the environment, and
# the projection in memory so no cache file is left beside the test ledgers.
BASE_ENV = {"LEDGER_DB": None, "LEDGER_ACTOR": None, "LEDGER_SCHOOL": None, "LEDGER_PROJECTION": ":memory:"}
STAFF = [("T.AJ", "teacher"), ("LM1", "line-manager"), ("KS.LEAD", "ks-lead"), ("DH", "deputy-head"),
         ("HD", "head")]
REFUSED_ONE = "1 problem, nothing was written; fix the rows above and import again"

runner = CliRunner()


# -- helpers ---------------------------------------------------------------------------------------
def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """Invoke ``ledger``; any exception other than the exit itself is a bug (a traceback for a user)."""
    result = runner.invoke(cli, list(args), env={**BASE_ENV, **(env or {})}, prog_name="ledger")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"ledger {' '.join(args)} crashed: {result.exception!r}") from result.exception
    assert "Traceback" not in result.output
    return result


def ok(*args: str, env: dict[str, str | None] | None = None) -> str:
    result = run(*args, env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def head(db: Path) -> tuple[int, str] | None:
    """(event count, last hash) of the ledger at ``db``; None when there is no ledger file."""
    try:
        store = open_store(str(db))
    except StoreError:
        return None
    try:
        if not store.is_initialised():
            return None
        h = store.head()
        return h.position, h.hash
    finally:
        store.close()


def refused(db: Path, *args: str, code: int, errors: str | list[str],
            env: dict[str, str | None] | None = None) -> Result:
    """Run a command that must be refused: its exit code, its exact error lines, and nothing written."""
    before = head(db)
    result = run(*args, env=env)
    lines = [errors] if isinstance(errors, str) else errors
    assert result.exit_code == code, result.output
    assert result.stderr == "".join(f"Error: {line}\n" for line in lines)
    assert result.stdout == ""
    assert head(db) == before, "a refused command changed the ledger"
    return result


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def report_json(db: Path, *args: str) -> dict:
    out = ok("--db", str(db), "report", "--year", "2023-24", "--format", "json", *args)
    return json.loads(out)


def cell(doc: dict, class_id: str, term: str) -> dict:
    for phase in doc["phases"]:
        for row in phase["classes"]:
            if row["class"] == class_id:
                return row["terms"][term]
    raise KeyError(class_id)


# -- a school, set up through the command line --------------------------------------------------------
@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test works in its own empty folder (never the repository's events.db)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _school(folder: Path) -> Path:
    db = folder / "school.db"
    w = ["--db", str(db), "--actor", "dm1"]
    ok(*w, "init", "--school", "Oak Tree School")
    for staff_id, role in STAFF:
        ok(*w, "staff", "add", staff_id, "--role", role)
    ok(*w, "class", "open", "1AJ", "--phase", "EYFS/KS1/KS2", "--from", "2023-24/T1")
    ok(*w, "class", "open", "2MD", "--phase", "eyfs / ks1 / ks2", "--mark", "PMLD", "--from", "2023-24/T1")
    ok(*w, "class", "open", "7RB", "--phase", "KS3/KS4", "--from", "2023-24/T2")
    ok(*w, "class", "open", "1CW", "--phase", "EYFS/KS1/KS2", "--from", "2023-24/T2")
    ok(*w, "class", "close", "2MD", "--after", "2023-24/T2")
    ok(*w, "term", "set", "2023-24/T1", "--start", "2023-09-04", "--end", "2023-12-20")
    roll = write_csv(folder / "roll.csv", "pupil_id,class,enrolled_on,left_on",
                     "P-0001,1AJ,2023-09-04,", "P-0002,1AJ,2023-09-04,2024-01-09", "P-0002,7RB,2024-01-10,",
                     "P-0003,2MD,2023-09-04,", "P-0004,1AJ,2023-09-04,2024-02-01")
    ok(*w, "import", "pupils", str(roll))
    t1 = write_csv(folder / "t1.csv", "pupil_id,class,term,status,reason",
                   "P-0001,1AJ,2023-24/T1,appropriate,", "P-0002,1AJ,2023-24/T1,smaller-steps,long absence",
                   "P-0003,2MD,2023-24/T1,appropriate,", "P-0004,1AJ,2023-24/T1,appropriate,")
    ok("--db", str(db), "--actor", "T.AJ", "import", "judgements", str(t1))
    return db


@pytest.fixture
def school(folder: Path) -> Path:
    """A ledger with staff of every role, four classes (one closed, one marked), a roll and T1 judgements."""
    return _school(folder)


# -- help ------------------------------------------------------------------------------------------
LEAF_COMMANDS = [
    ["init"], ["staff", "add"], ["class", "open"], ["class", "close"], ["term", "set"], ["import", "pupils"],
    ["import", "judgements"], ["judgement", "record"], ["judgement", "revise"], ["report"], ["history"],
    ["verify"],
]


@pytest.mark.parametrize("command", [[], *LEAF_COMMANDS], ids=lambda c: " ".join(c) or "ledger")
def test_help_shows_an_example(command: list[str], folder: Path) -> None:
    out = ok(*command, "--help")
    assert "Example" in out
    assert out.startswith("Usage: ledger")
    assert ok(*command, "-h") == out
    assert not (folder / "events.db").exists()


@pytest.mark.parametrize("group", ["staff", "class", "term", "import", "judgement"])
def test_group_help(group: str) -> None:
    assert ok(group, "--help").startswith(f"Usage: ledger {group}")


# -- where the ledger is -----------------------------------------------------------------------------
def test_db_as_a_path_and_as_a_sqlite_url_is_the_same_ledger(folder: Path) -> None:
    db = folder / "a.db"
    out = ok("--db", str(db), "--actor", "dm1", "init")
    assert out == f"created ledger at sqlite:///{db}; dm1 registered as data-manager\n"
    ok("--db", f"sqlite:///{db}", "--actor", "dm1", "staff", "add", "T.AJ", "--role", "teacher")
    assert head(db)[0] == 3
    assert json.loads(ok("--db", f"sqlite:///{db}", "verify", "--format", "json"))["events"] == 3
    assert json.loads(ok("--db", "a.db", "verify", "--format", "json"))["events"] == 3  # relative path


def test_ledger_db_and_ledger_actor_from_the_environment(folder: Path) -> None:
    db = folder / "env.db"
    env = {"LEDGER_DB": str(db), "LEDGER_ACTOR": "dm1"}
    ok("init", env=env)
    assert ok("staff", "add", "T.AJ", "--role", "teacher", env=env) == "registered T.AJ as teacher (position 3)\n"
    # --actor and --db win over the environment
    refused(db, "--actor", "T.AJ", "staff", "add", "X1", "--role", "teacher", env=env, code=1,
            errors="T.AJ (teacher) may not add staff; that needs one of: head, data-manager")
    other = folder / "other.db"
    ok("--db", str(other), "init", env=env)
    assert head(other)[0] == 2 and head(db)[0] == 3


def test_default_is_events_db_in_the_current_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok("--actor", "dm1", "init")
    assert (folder / "events.db").exists()
    assert ok("verify") == "ledger intact: 2 events, hash chain verified\n"
    elsewhere = folder / "sub"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    refused(elsewhere / "events.db", "verify", code=1,
            errors=f"no ledger at {elsewhere / 'events.db'}; create one with 'ledger --actor YOUR-ID init' or pass --db")
    assert not (elsewhere / "events.db").exists()


def test_no_ledger_at_the_path_is_refused_and_nothing_is_created(folder: Path) -> None:
    db = folder / "missing.db"
    for args in (["report", "--year", "2023-24"], ["verify"], ["history", "P-0001"]):
        refused(db, "--db", str(db), *args, code=1,
                errors=f"no ledger at {db}; create one with 'ledger --actor YOUR-ID init' or pass --db")
    refused(db, "--db", str(db), "--actor", "dm1", "staff", "add", "T.AJ", "--role", "teacher", code=1,
            errors=f"no ledger at {db}; create one with 'ledger --actor YOUR-ID init' or pass --db")
    assert not db.exists()


def test_an_unsupported_target_is_refused(folder: Path) -> None:
    result = run("--db", "mysql://db.example/ehcp", "verify")
    assert result.exit_code == 1
    assert result.stderr == ("Error: unsupported ledger target 'mysql://db.example/ehcp'; give a file path, "
                             "sqlite:///FILE or postgresql+psycopg://HOST/DB\n")


# -- the command line itself wrong: exit 2, one line ------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (["staf"], "No such command 'staf'. (Did you mean one of: 'staff', 'stage'?)"),
    (["--bogus", "verify"], "No such option '--bogus'."),
    (["report", "--year", "2023-24", "--colour"], "No such option '--colour'. Did you mean '--school'?"),
    (["staff", "add", "X1"], "Missing option '--role'. Choose from: teacher, line-manager, ks-lead, deputy-head, "
                             "head, data-manager"),
    (["report"], "Missing option '--year'."),
    (["judgement", "record", "P-0001", "--status", "appropriate"], "Missing option '--term'."),
    (["judgement", "record", "P-0001", "--term", "2023-24/T1"],
     "Missing option '--status'. Choose from: appropriate, smaller-steps"),
    (["judgement", "revise", "P-0001", "--term", "2023-24/T1", "--status", "appropriate"], "Missing option '--reason'."),
    (["judgement", "record", "--term", "2023-24/T1", "--status", "appropriate"], "Missing argument 'PUPIL'."),
    (["class", "open", "1AJ"], "Missing option '--phase'."),
    (["class", "close", "1AJ"], "Missing option '--after'."),
    (["term", "set", "2023-24/T1", "--start", "2023-09-04"], "Missing option '--end'."),
    (["import", "pupils"], "Missing argument 'FILE'."),
    (["judgement", "record", "P-0001", "--term", "2023/T1", "--status", "appropriate"],
     "Invalid value for '--term': '2023/T1' is not a term; write it like 2023-24/T1 (T1, T2 or T3)"),
    (["judgement", "record", "P-0001", "--term", "2023-25/T1", "--status", "appropriate"],
     "Invalid value for '--term': '2023-25/T1' is not a term; write it like 2023-24/T1 (T1, T2 or T3)"),
    (["judgement", "record", "P-0001", "--term", "2023-24/T4", "--status", "appropriate"],
     "Invalid value for '--term': '2023-24/T4' is not a term; write it like 2023-24/T1 (T1, T2 or T3)"),
    (["class", "open", "1AJ", "--phase", "KS1", "--from", "autumn"],
     "Invalid value for '--from': 'autumn' is not a term; write it like 2023-24/T1 (T1, T2 or T3)"),
    (["class", "close", "1AJ", "--after", "T3"],
     "Invalid value for '--after': 'T3' is not a term; write it like 2023-24/T1 (T1, T2 or T3)"),
    (["history", "P-0001", "--term", "2023-24/T0"],
     "Invalid value for '--term': '2023-24/T0' is not a term; write it like 2023-24/T1 (T1, T2 or T3)"),
    (["term", "set", "2023-24", "--start", "2023-09-04", "--end", "2023-12-20"],
     "Invalid value for 'TERM': '2023-24' is not a term; write it like 2023-24/T1 (T1, T2 or T3)"),
    (["judgement", "record", "P-0001", "--term", "2023-24/T1", "--status", "good"],
     "Invalid value for '--status': 'good' is not one of 'appropriate', 'smaller-steps'."),
    (["judgement", "revise", "P-0001", "--term", "2023-24/T1", "--status", "smaller_steps", "--reason", "x"],
     "Invalid value for '--status': 'smaller_steps' is not one of 'appropriate', 'smaller-steps'."),
    (["staff", "add", "X1", "--role", "boss"],
     "Invalid value for '--role': 'boss' is not one of 'teacher', 'line-manager', 'ks-lead', 'deputy-head', "
     "'head', 'data-manager'."),
    (["term", "set", "2023-24/T1", "--start", "04/09/2023", "--end", "2023-12-20"],
     "Invalid value for '--start': '04/09/2023' does not match the format '%Y-%m-%d'."),
    (["report", "--year", "2023-24", "--format", "yaml"],
     "Invalid value for '--format': 'yaml' is not one of 'text', 'json', 'csv', 'xlsx', 'markdown'."),
    (["history", "P-0001", "--format", "xml"],
     "Invalid value for '--format': 'xml' is not one of 'text', 'json', 'csv'."),
    (["report", "--year", "2023-24", "--position", "-1"],
     "Invalid value for '--position': -1 is not in the range x>=0."),
    (["report", "--year", "2023-24", "--position", "last"],
     "Invalid value for '--position': 'last' is not a valid integer range."),
    (["report", "--year", "2023"],
     "Invalid value for '--year': '2023' is not an academic year; write it like 2023-24"),
    (["report", "--year", "2023-25"],
     "Invalid value for '--year': '2023-25' is not an academic year; write it like 2023-24"),
    (["report", "--year", "2023-24", "--as-at", "yesterday"],
     "Invalid value for '--as-at': 'yesterday' is not a date or date-time; write 2024-03-28 or "
     "2024-03-28T16:00 or 2024-03-28T16:00Z"),
    (["history", "P-0001", "--as-at", "2024-13-01"],
     "Invalid value for '--as-at': '2024-13-01' is not a date or date-time; write 2024-03-28 or "
     "2024-03-28T16:00 or 2024-03-28T16:00Z"),
    (["report", "--year", "2023-24", "--as-at", "2024-03-28", "--position", "3"],
     "give --as-at or --position, not both"),
    (["history", "P-0001", "--position", "3", "--as-at", "2024-03-28"], "give --as-at or --position, not both"),
    (["import", "judgements", "t.csv", "--reason", "moderation"], "--reason goes with --revise"),
    (["import", "judgements", "t.csv", "--revise"], "--revise needs --reason TEXT"),
])
def test_a_wrong_command_line_exits_2_with_one_line(school: Path, args: list[str], message: str) -> None:
    result = refused(school, "--db", str(school), "--actor", "HD", *args, code=2, errors=[message])
    assert "Usage:" not in result.output


def test_a_missing_choice_option_is_still_one_line(school: Path) -> None:
    # click lists the choices of a missing option on several tab-indented lines; the contract wants one.
    result = run("--db", str(school), "--actor", "dm1", "staff", "add", "X1")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "\t" not in result.stderr


# -- init ----------------------------------------------------------------------------------------
def test_init_creates_an_empty_ledger_with_the_actor_as_data_manager(folder: Path) -> None:
    db = folder / "new.db"
    assert ok("--db", str(db), "--actor", "dm1", "init", "--school", "Oak Tree", "--timezone", "Europe/London") == (
        f"created ledger at sqlite:///{db}; dm1 registered as data-manager\n")
    assert head(db)[0] == 2
    store = open_store(str(db))
    try:
        events = list(store.read_all())
    finally:
        store.close()
    assert [(e.event_type, e.actor) for e in events] == [("LedgerCreated", "dm1"), ("StaffRegistered", "dm1")]
    assert json.loads(events[1].payload) == {"role": "data-manager", "staff_id": "dm1"}
    # the first member of staff can write at once
    ok("--db", str(db), "--actor", "dm1", "staff", "add", "HD", "--role", "head")


def test_init_refusals(folder: Path) -> None:
    db = folder / "new.db"
    refused(db, "--db", str(db), "init", code=1,
            errors="init needs --actor: the staff id of the data manager creating the ledger")
    refused(db, "--db", str(db), "--actor", "dm1", "init", "--timezone", "Mars/Olympus", code=1,
            errors="unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/London")
    assert head(db) is None
    ok("--db", str(db), "--actor", "dm1", "init")
    refused(db, "--db", str(db), "--actor", "dm2", "init", code=1,
            errors=f"sqlite:///{db} is already a ledger; nothing was changed")


# -- staff add -----------------------------------------------------------------------------------
def test_staff_add_every_role(folder: Path) -> None:
    db = folder / "s.db"
    ok("--db", str(db), "--actor", "dm1", "init")
    for n, role in enumerate(["teacher", "line-manager", "ks-lead", "deputy-head", "head", "data-manager"], start=3):
        assert ok("--db", str(db), "--actor", "dm1", "staff", "add", f"S{n}", "--role", role) == (
            f"registered S{n} as {role} (position {n})\n")
    # a head may add staff too
    ok("--db", str(db), "--actor", "S7", "staff", "add", "T.NEW", "--role", "teacher")


@pytest.mark.parametrize("actor, message", [
    (None, "no actor given; pass --actor YOUR-STAFF-ID or set LEDGER_ACTOR"),
    ("nobody", "'nobody' is not a registered member of staff; ask the data manager to run "
               "'ledger staff add nobody --role ROLE'"),
    ("T.AJ", "T.AJ (teacher) may not add staff; that needs one of: head, data-manager"),
    ("LM1", "LM1 (line-manager) may not add staff; that needs one of: head, data-manager"),
    ("KS.LEAD", "KS.LEAD (ks-lead) may not add staff; that needs one of: head, data-manager"),
    ("DH", "DH (deputy-head) may not add staff; that needs one of: head, data-manager"),
])
def test_staff_add_not_allowed(school: Path, actor: str | None, message: str) -> None:
    who = ["--actor", actor] if actor else []
    refused(school, "--db", str(school), *who, "staff", "add", "T.NEW", "--role", "teacher", code=1, errors=message)


def test_staff_add_bad_data(school: Path) -> None:
    refused(school, "--db", str(school), "--actor", "dm1", "staff", "add", "T.AJ", "--role", "head", code=1,
            errors="staff member T.AJ is already registered as teacher")
    refused(school, "--db", str(school), "--actor", "dm1", "staff", "add", "Mrs Jones", "--role", "teacher", code=1,
            errors="staff_id 'Mrs Jones' is not valid: a staff id is letters, digits, dots and dashes, at most 32 "
                   "characters (e.g. dm1 or T.AJ)")
    refused(school, "--db", str(school), "--actor", "dm1", "staff", "add", "T" * 33, "--role", "teacher", code=1,
            errors=f"staff_id '{'T' * 33}' is not valid: a staff id is letters, digits, dots and dashes, at most 32 "
                   "characters (e.g. dm1 or T.AJ)")
    ok("--db", str(school), "--actor", "dm1", "staff", "add", "T" * 32, "--role", "teacher")


# -- class open / close ----------------------------------------------------------------------------
def test_class_open_and_close(folder: Path) -> None:
    db = folder / "c.db"
    w = ["--db", str(db), "--actor", "dm1"]
    ok(*w, "init")
    assert ok(*w, "class", "open", "2MD", "--phase", "EYFS/KS1/KS2", "--mark", "PMLD", "--from", "2023-24/T1") == (
        "opened class 2MD (position 3)\n")
    ok(*w, "class", "open", "9TT", "--phase", "KS3/KS4", "--from", "2023-24/T3")
    ok(*w, "class", "open", "NEW1", "--phase", "KS5")  # from the current term (the clock is in 2026-27)
    assert ok(*w, "class", "close", "2MD", "--after", "2023-24/T2") == "closed class 2MD after 2023-24/T2 (position 6)\n"
    doc = report_json(db)
    assert [(p["phase"], [(c["class"], c["label"]) for c in p["classes"]]) for p in doc["phases"]] == [
        ("EYFS/KS1/KS2", [("2MD", "2MD (PMLD)")]), ("KS3/KS4", [("9TT", "9TT")])]
    assert cell(doc, "2MD", "T3") == {"state": "not_open"}
    assert cell(doc, "9TT", "T2") == {"state": "not_open"}
    assert cell(doc, "9TT", "T3") == {"state": "not_recorded", "appropriate": 0, "smaller_steps": 0, "unjudged": 0}
    current = json.loads(ok("--db", str(db), "report", "--year", "2026-27", "--format", "json"))
    assert [c["class"] for p in current["phases"] for c in p["classes"]] == ["9TT", "NEW1"]  # 9TT never closed
    assert cell(current, "NEW1", "T1")["state"] == "not_recorded"


def test_class_refusals(school: Path) -> None:
    w = ["--db", str(school), "--actor", "dm1"]
    refused(school, *w, "class", "open", "1AJ", "--phase", "KS1", code=1,
            errors="class 1AJ is already open (since 2023-24/T1); a class id is opened once")
    refused(school, *w, "class", "open", "3XX", "--phase", "EFYS/KS1", code=1,
            errors="phase 'EFYS/KS1' is not a group of key stages (did you mean EYFS?); "
                   "write it like EYFS/KS1/KS2, KS3/KS4 or KS5")
    refused(school, *w, "class", "open", "3XX", "--phase", "KS1", "--mark", "P/M", code=1,
            errors="mark 'P/M' is not valid: a mark is a short label of letters and digits, e.g. PMLD")
    refused(school, *w, "class", "open", "Year 3 Blue", "--phase", "KS1", code=1,
            errors="class_id 'Year 3 Blue' is not valid: a class is letters, digits and dashes, at most 16 characters "
                   "(e.g. 1AJ)")
    refused(school, *w, "class", "close", "9ZZ", "--after", "2023-24/T3", code=1,
            errors="class 9ZZ does not exist; open it with 'ledger class open 9ZZ --phase PHASE'")
    refused(school, *w, "class", "close", "2MD", "--after", "2023-24/T3", code=1,
            errors="class 2MD was already closed after 2023-24/T2")
    refused(school, *w, "class", "close", "7RB", "--after", "2023-24/T1", code=1,
            errors="class 7RB opened in 2023-24/T2; it cannot close after 2023-24/T1")
    refused(school, "--db", str(school), "--actor", "T.AJ", "class", "open", "3XX", "--phase", "KS1", code=1,
            errors="T.AJ (teacher) may not open or close classes, set term dates or import pupils; "
                   "that needs one of: deputy-head, head, data-manager")
    refused(school, "--db", str(school), "--actor", "KS.LEAD", "class", "close", "1AJ", "--after", "2023-24/T3",
            code=1, errors="KS.LEAD (ks-lead) may not open or close classes, set term dates or import pupils; "
                           "that needs one of: deputy-head, head, data-manager")


# -- term set --------------------------------------------------------------------------------------
def test_term_set(school: Path) -> None:
    w = ["--db", str(school), "--actor", "DH"]
    assert ok(*w, "term", "set", "2023-24/T2", "--start", "2024-01-04", "--end", "2024-03-28") == (
        "2023-24/T2: 2024-01-04 to 2024-03-28\n")
    before = head(school)
    assert ok(*w, "term", "set", "2023-24/T2", "--start", "2024-01-04", "--end", "2024-03-28") == (
        "2023-24/T2: 2024-01-04 to 2024-03-28 (unchanged)\n")
    assert head(school) == before
    # a term that ends earlier changes whose roll counts: P-0004 left 1 February, P-0002 moved 10 January
    assert cell(report_json(school), "1AJ", "T2")["unjudged"] == 1


def test_term_set_refusals(school: Path) -> None:
    w = ["--db", str(school), "--actor", "dm1"]
    refused(school, *w, "term", "set", "2023-24/T2", "--start", "2024-03-28", "--end", "2024-01-04", code=1,
            errors="2023-24/T2: start 2024-03-28 is after end 2024-01-04")
    refused(school, *w, "term", "set", "2023-24/T3", "--start", "2024-04-15", "--end", "2024-09-02", code=1,
            errors="2023-24/T3: dates must fall inside the academic year 2023-09-01 to 2024-08-31")
    refused(school, *w, "term", "set", "2023-24/T2", "--start", "2023-12-18", "--end", "2024-03-28", code=1,
            errors="2023-24/T2 2023-12-18..2024-03-28 overlaps 2023-24/T1 (2023-09-04..2023-12-20); "
                   "set 2023-24/T1's dates first")
    refused(school, "--db", str(school), "--actor", "LM1", "term", "set", "2023-24/T2", "--start", "2024-01-04",
            "--end", "2024-03-28", code=1,
            errors="LM1 (line-manager) may not open or close classes, set term dates or import pupils; "
                   "that needs one of: deputy-head, head, data-manager")


# -- import pupils --------------------------------------------------------------------------------
def test_import_pupils_writes_enrolments_moves_and_leavings_once(folder: Path) -> None:
    db = folder / "p.db"
    w = ["--db", str(db), "--actor", "dm1"]
    ok(*w, "init")
    ok(*w, "class", "open", "1AJ", "--phase", "KS1", "--from", "2023-24/T1")
    ok(*w, "class", "open", "7RB", "--phase", "KS3", "--from", "2023-24/T1")
    roll = write_csv(folder / "roll.csv", "pupil_id,class,enrolled_on,left_on",
                     "P-0001,1AJ,2023-09-04,", "P-0002,1AJ,2023-09-04,2024-01-09", "P-0002,7RB,2024-01-10,",
                     "P-0003,7RB,2023-09-04,2024-02-01")
    dry = ok(*w, "import", "pupils", str(roll), "--dry-run")
    assert dry == f"{roll}: 4 rows read, would write 5 events (3 PupilEnrolled, 1 PupilLeft, 1 PupilMoved)\n"
    assert head(db)[0] == 4
    assert ok(*w, "import", "pupils", str(roll)) == (
        f"{roll}: 4 rows read, wrote 5 events (3 PupilEnrolled, 1 PupilLeft, 1 PupilMoved)\n")
    after = head(db)
    assert after[0] == 9
    assert ok(*w, "import", "pupils", str(roll)) == f"{roll}: 4 rows read, nothing new to write\n"
    assert ok(*w, "import", "pupils", str(roll), "--dry-run") == f"{roll}: 4 rows read, nothing new to write\n"
    assert head(db) == after
    # the same rows in another order, with spreadsheet-style headers, are still nothing new
    again = write_csv(folder / "again.csv", "Pupil ID,Class,Enrolled On,Left On",
                      "P-0003,7RB,2023-09-04,2024-02-01", "P-0002,7RB,2024-01-10,", "P-0001,1AJ,2023-09-04,",
                      "P-0002,1AJ,2023-09-04,2024-01-09")
    assert ok(*w, "import", "pupils", str(again)) == f"{again}: 4 rows read, nothing new to write\n"
    assert head(db) == after


def test_import_pupils_reports_every_bad_row_and_writes_nothing(school: Path, folder: Path) -> None:
    bad = write_csv(folder / "bad.csv", "pupil_id,class,enrolled_on,left_on",
                    "P-0010,1AJ,2023-09-04,",  # fine on its own
                    "Jane Smith,1AJ,2023-09-04,",
                    "P-0011,9ZZ,2023-09-04,",
                    "P-0012,1AJ,2023-09-31,",
                    "P-0013,1AJ,2023-09-04,2023-09-01",
                    "P-0014,7RB,2023-09-04,",  # 7RB opens in T2
                    "P-0015,1AJ,2023-09-04,someday")
    result = refused(school, "--db", str(school), "--actor", "dm1", "import", "pupils", str(bad), code=1, errors=[
        f"{bad}:3: pupil_id 'Jane Smith' is not valid: a pupil id must be a pseudonymous code of letters, digits "
        "and dashes with at least one digit (e.g. P-0042), never a name",
        f"{bad}:4: class 9ZZ does not exist; open it with 'ledger class open 9ZZ --phase PHASE'",
        f"{bad}:5: enrolled_on '2023-09-31' is not a date; write it as YYYY-MM-DD",
        f"{bad}:6: left_on 2023-09-01 is before enrolled_on 2023-09-04",
        f"{bad}:7: class 7RB is not open in 2023-24/T1 (it opened in 2023-24/T2)",
        f"{bad}:8: left_on 'someday' is not a date; write it as YYYY-MM-DD",
        f"import of {bad} refused: 6 problems, nothing was written; fix the rows above and import again",
    ])
    # a dry run reports the same problems
    again = refused(school, "--db", str(school), "--actor", "dm1", "import", "pupils", str(bad), "--dry-run", code=1,
                    errors=result.stderr.removeprefix("Error: ").rstrip("\n").split("\nError: "))
    assert len(again.stderr.splitlines()) == 7


def test_import_pupils_conflicting_rows(school: Path, folder: Path) -> None:
    clash = write_csv(folder / "clash.csv", "pupil_id,class,enrolled_on,left_on",
                      "P-0001,7RB,2023-08-01,",  # before P-0001's recorded enrolment in 1AJ
                      "P-0004,1AJ,2023-09-04,2024-03-01")  # recorded as leaving on 2024-02-01
    refused(school, "--db", str(school), "--actor", "dm1", "import", "pupils", str(clash), code=1, errors=[
        f"{clash}:2: class 7RB is not open in 2022-23/T3 (it opened in 2023-24/T2)",
        f"{clash}:3: pupil P-0004 is already recorded as leaving 1AJ on 2024-02-01, not 2024-03-01",
        f"import of {clash} refused: 2 problems, nothing was written; fix the rows above and import again",
    ])


@pytest.mark.parametrize("content, message", [
    ("pupil_id,class\nP-0010,1AJ\n",
     "{f}:1: missing column(s) enrolled_on; expected pupil_id,class,enrolled_on,left_on"),
    ("pupil_id,class,enrolled_on,dob\nP-0010,1AJ,2023-09-04,2015-01-01\n", "{f}:1: unknown column(s) dob"),
    ("pupil_id,class,enrolled_on\n", "{f}: no data rows under the header; nothing to import"),
    ("pupil_id,class,enrolled_on\nP-0010,1AJ,2023-09-04,extra,cells\n",
     "{f}:2: 5 cells but the header has 3 columns"),
])
def test_import_file_shape_problems(school: Path, folder: Path, content: str, message: str) -> None:
    f = folder / "shape.csv"
    f.write_text(content, encoding="utf-8")
    result = run("--db", str(school), "--actor", "dm1", "import", "pupils", str(f))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: " + message.format(f=f)
    assert all(line.startswith("Error: ") for line in lines)
    assert len(lines) <= 2  # the problem, and (for a refused import) the summary
    if len(lines) == 2:
        assert lines[1] == f"Error: import of {f} refused: {REFUSED_ONE}"


def test_import_of_a_missing_or_unreadable_file(school: Path, folder: Path) -> None:
    missing = folder / "nope.csv"
    refused(school, "--db", str(school), "--actor", "dm1", "import", "pupils", str(missing), code=1,
            errors=f"cannot read {missing}: No such file or directory")
    refused(school, "--db", str(school), "--actor", "dm1", "import", "pupils", str(folder), code=1,
            errors=f"cannot read {folder}: Is a directory")
    latin = folder / "latin1.csv"
    latin.write_bytes("pupil_id,class,enrolled_on\nP-0010,1AJ,2023-09-04\nP-0011,Zoë,2023-09-04\n".encode("latin-1"))
    before = head(school)
    result = run("--db", str(school), "--actor", "dm1", "import", "pupils", str(latin))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {latin}") and "UTF-8" in result.stderr
    assert result.stderr.count("\n") == 1
    assert head(school) == before


def test_import_pupils_not_allowed(school: Path, folder: Path) -> None:
    roll = write_csv(folder / "r.csv", "pupil_id,class,enrolled_on", "P-0010,1AJ,2023-09-04")
    refused(school, "--db", str(school), "--actor", "T.AJ", "import", "pupils", str(roll), code=1,
            errors="T.AJ (teacher) may not open or close classes, set term dates or import pupils; "
                   "that needs one of: deputy-head, head, data-manager")
    refused(school, "--db", str(school), "import", "pupils", str(roll), code=1,
            errors="no actor given; pass --actor YOUR-STAFF-ID or set LEDGER_ACTOR")


# -- import judgements ------------------------------------------------------------------------------
def test_import_judgements_once_then_nothing_new(school: Path, folder: Path) -> None:
    t2 = write_csv(folder / "t2.csv", "pupil_id,class,term,status,reason",
                   "P-0001,1AJ,2023-24/T2,appropriate,", "P-0002,7RB,2023-24/T2,smaller-steps,new EHCP targets",
                   "P-0003,2MD,2023-24/T2,APPROPRIATE,", "P-0004,1AJ,2023-24/T2,appropriate,")
    w = ["--db", str(school), "--actor", "T.AJ"]
    assert ok(*w, "import", "judgements", str(t2), "--dry-run") == (
        f"{t2}: 4 rows read, would write 4 events (4 JudgementRecorded)\n")
    before = head(school)
    assert ok(*w, "import", "judgements", str(t2)) == f"{t2}: 4 rows read, wrote 4 events (4 JudgementRecorded)\n"
    assert head(school)[0] == before[0] + 4
    after = head(school)
    assert ok(*w, "import", "judgements", str(t2)) == f"{t2}: 4 rows read, nothing new to write\n"
    assert head(school) == after
    doc = report_json(school)
    assert cell(doc, "1AJ", "T2") == {"state": "recorded", "appropriate": 2, "smaller_steps": 0, "unjudged": 0}
    assert cell(doc, "7RB", "T2") == {"state": "recorded", "appropriate": 0, "smaller_steps": 1, "unjudged": 0}
    assert cell(doc, "2MD", "T2") == {"state": "recorded", "appropriate": 1, "smaller_steps": 0, "unjudged": 0}


def test_import_judgements_reports_every_bad_row(school: Path, folder: Path) -> None:
    bad = write_csv(folder / "bad.csv", "pupil_id,class,term,status,reason",
                    "P-0001,1AJ,2023-24/T2,appropriate,",  # fine
                    "P-0002,1AJ,2023-24/T3,appropriate,",  # moved to 7RB in January
                    "P-0003,2MD,2023-24/T2,smaller-steps,",  # no reason
                    "P-0001,1AJ,2023-24/T2,smaller-steps,illness",  # a second row, different status
                    "P-0009,1AJ,2023-24/T2,appropriate,",  # not on roll
                    "P-0003,2MD,2023-24/T3,appropriate,",  # 2MD closed after T2
                    "P-0004,1AJ,2023-24/T2,good,",
                    "P-0004,1AJ,Spring 2024,appropriate,",
                    "P-0001,1AJ,2023-24/T1,smaller-steps,moderated down")  # would change an existing judgement
    refused(school, "--db", str(school), "--actor", "T.AJ", "import", "judgements", str(bad), code=1, errors=[
        f"{bad}:3: pupil P-0002 is not on the roll of 1AJ in 2023-24/T3 (2024-04-01 to 2024-08-31)",
        f"{bad}:4: a smaller-steps judgement needs a reason (--reason, or the reason column)",
        f"{bad}:5: pupil P-0001 has another row for 2023-24/T2 at {bad}:2 with a different status",
        f"{bad}:6: pupil P-0009 is not on the roll of 1AJ in 2023-24/T2 (2024-01-01 to 2024-03-31)",
        f"{bad}:7: class 2MD is not open in 2023-24/T3 (it opened in 2023-24/T1 and closed after 2023-24/T2)",
        f"{bad}:8: status 'good' is not valid; use appropriate or smaller-steps",
        f"{bad}:9: 'Spring 2024' is not a term; write it like 2023-24/T1 (T1, T2 or T3)",
        f"{bad}:10: would change pupil P-0001's 2023-24/T1 judgement from appropriate to smaller-steps; "
        "import with --revise --reason TEXT to record revisions",
        f"import of {bad} refused: 8 problems, nothing was written; fix the rows above and import again",
    ])


def test_import_judgements_for_a_term_not_started(school: Path, folder: Path) -> None:
    future = write_csv(folder / "future.csv", "pupil_id,class,term,status,reason",
                       "P-0001,1AJ,2030-31/T1,appropriate,")
    refused(school, "--db", str(school), "--actor", "T.AJ", "import", "judgements", str(future), code=1, errors=[
        f"{future}:2: 2030-31/T1 has not started yet (it starts 2030-09-01); judgements come at the end of a term",
        f"import of {future} refused: {REFUSED_ONE}",
    ])


def test_import_judgements_with_revise_records_revisions(school: Path, folder: Path) -> None:
    moderated = write_csv(folder / "moderated.csv", "pupil_id,class,term,status,reason",
                          "P-0001,1AJ,2023-24/T1,smaller-steps,moderated down",
                          "P-0002,1AJ,2023-24/T1,appropriate,",
                          "P-0003,2MD,2023-24/T1,appropriate,")  # unchanged
    # a teacher may record but not revise
    refused(school, "--db", str(school), "--actor", "T.AJ", "import", "judgements", str(moderated),
            "--revise", "--reason", "moderation 2024-01-10", code=1,
            errors="T.AJ (teacher) may not revise judgements; that needs one of: line-manager, ks-lead, "
                   "deputy-head, head")
    refused(school, "--db", str(school), "--actor", "KS.LEAD", "import", "judgements", str(moderated),
            "--revise", "--reason", "ok", code=1,
            errors="--revise needs --reason TEXT (at least 3 characters): why the judgements changed")
    w = ["--db", str(school), "--actor", "KS.LEAD"]
    assert ok(*w, "import", "judgements", str(moderated), "--revise", "--reason", "moderation 2024-01-10",
              "--dry-run") == f"{moderated}: 3 rows read, would write 2 events (2 JudgementRevised)\n"
    assert ok(*w, "import", "judgements", str(moderated), "--revise", "--reason", "moderation 2024-01-10") == (
        f"{moderated}: 3 rows read, wrote 2 events (2 JudgementRevised)\n")
    after = head(school)
    assert ok(*w, "import", "judgements", str(moderated), "--revise", "--reason", "moderation 2024-01-10") == (
        f"{moderated}: 3 rows read, nothing new to write\n")
    assert ok(*w, "import", "judgements", str(moderated)) == f"{moderated}: 3 rows read, nothing new to write\n"
    assert head(school) == after
    assert cell(report_json(school), "1AJ", "T1") == {
        "state": "recorded", "appropriate": 2, "smaller_steps": 1, "unjudged": 0}
    history = json.loads(ok("--db", str(school), "history", "P-0001", "--format", "json"))
    assert [(e["kind"], e["status"], e["reason"], e["actor"]) for e in history["events"]] == [
        ("recorded", "appropriate", None, "T.AJ"), ("revised", "smaller-steps", "moderation 2024-01-10", "KS.LEAD")]


# -- judgement record / revise ------------------------------------------------------------------------
def test_judgement_record_and_revise(school: Path) -> None:
    rec = ok("--db", str(school), "--actor", "T.AJ", "judgement", "record", "P-0001", "--term", "2023-24/T2",
             "--status", "smaller-steps", "--reason", "long absence")
    n = head(school)[0]
    assert rec == f"recorded P-0001 2023-24/T2: smaller-steps (position {n})\n"
    ok("--db", str(school), "--actor", "T.AJ", "judgement", "record", "P-0002", "--term", "2023-24/T2",
       "--status", "appropriate")  # class at the end of term: 7RB
    rev = ok("--db", str(school), "--actor", "LM1", "judgement", "revise", "P-0001", "--term", "2023-24/T2",
             "--status", "appropriate", "--reason", "moderated")
    assert rev == f"revised P-0001 2023-24/T2: now appropriate (position {n + 2})\n"
    ok("--db", str(school), "--actor", "HD", "judgement", "record", "P-0004", "--term", "2023-24/T2",
       "--status", "appropriate", "--class", "1AJ")
    doc = report_json(school)
    assert cell(doc, "1AJ", "T2") == {"state": "recorded", "appropriate": 2, "smaller_steps": 0, "unjudged": 0}
    assert cell(doc, "7RB", "T2") == {"state": "recorded", "appropriate": 1, "smaller_steps": 0, "unjudged": 0}


def test_judgement_record_refusals(school: Path) -> None:
    rec = ["--db", str(school), "--actor", "T.AJ", "judgement", "record"]
    refused(school, *rec, "P-0001", "--term", "2023-24/T1", "--status", "appropriate", code=1,
            errors="pupil P-0001 already has a judgement for 2023-24/T1 (appropriate); "
                   "use 'ledger judgement revise' to change it")
    refused(school, *rec, "P-0001", "--term", "2023-24/T2", "--status", "smaller-steps", code=1,
            errors="a smaller-steps judgement needs a reason (--reason, or the reason column)")
    refused(school, *rec, "P-0001", "--term", "2023-24/T2", "--status", "smaller-steps", "--reason", "  ", code=1,
            errors="a smaller-steps judgement needs a reason (--reason, or the reason column)")
    refused(school, *rec, "P-0099", "--term", "2023-24/T2", "--status", "appropriate", code=1,
            errors="pupil P-0099 is not on the roll; import them first with 'ledger import pupils'")
    refused(school, *rec, "Jane Smith", "--term", "2023-24/T2", "--status", "appropriate", code=1,
            errors="pupil_id 'Jane Smith' is not valid: a pupil id must be a pseudonymous code of letters, digits "
                   "and dashes with at least one digit (e.g. P-0042), never a name")
    refused(school, *rec, "P-0001", "--term", "2030-31/T1", "--status", "appropriate", code=1,
            errors="2030-31/T1 has not started yet (it starts 2030-09-01); judgements come at the end of a term")
    refused(school, *rec, "P-0004", "--term", "2023-24/T3", "--status", "appropriate", code=1,
            errors="pupil P-0004 is not on the roll of any class in 2023-24/T3")
    refused(school, *rec, "P-0001", "--term", "2023-24/T2", "--status", "appropriate", "--class", "7RB", code=1,
            errors="pupil P-0001 is not on the roll of 7RB in 2023-24/T2 (2024-01-01 to 2024-03-31)")
    refused(school, *rec, "P-0003", "--term", "2023-24/T3", "--status", "appropriate", code=1,
            errors="class 2MD is not open in 2023-24/T3 (it opened in 2023-24/T1 and closed after 2023-24/T2)")
    refused(school, *rec, "P-0001", "--term", "2023-24/T2", "--status", "appropriate", "--class", "9ZZ", code=1,
            errors="class 9ZZ does not exist; open it with 'ledger class open 9ZZ --phase PHASE'")
    refused(school, "--db", str(school), "--actor", "ghost", "judgement", "record", "P-0001", "--term", "2023-24/T2",
            "--status", "appropriate", code=1,
            errors="'ghost' is not a registered member of staff; ask the data manager to run "
                   "'ledger staff add ghost --role ROLE'")


def test_judgement_revise_refusals(school: Path) -> None:
    rev = ["judgement", "revise", "P-0001", "--term", "2023-24/T1"]
    for actor, role in (("T.AJ", "teacher"), ("dm1", "data-manager")):
        refused(school, "--db", str(school), "--actor", actor, *rev, "--status", "smaller-steps", "--reason",
                "moderated", code=1, errors=f"{actor} ({role}) may not revise judgements; that needs one of: "
                                            "line-manager, ks-lead, deputy-head, head")
    w = ["--db", str(school), "--actor", "KS.LEAD"]
    refused(school, *w, *rev, "--status", "appropriate", "--reason", "moderated", code=1,
            errors="pupil P-0001's judgement for 2023-24/T1 is already appropriate; nothing to revise")
    refused(school, *w, "judgement", "revise", "P-0001", "--term", "2023-24/T2", "--status", "appropriate",
            "--reason", "moderated", code=1,
            errors="pupil P-0001 has no judgement for 2023-24/T2 to revise; record one with 'ledger judgement record'")
    refused(school, *w, *rev, "--status", "smaller-steps", "--reason", " ", code=1,
            errors="a revision needs a reason for the change (--reason)")
    refused(school, *w, *rev, "--status", "smaller-steps", "--reason", "ab", code=1,
            errors="reason 'ab' is not valid: a reason must be 3 to 500 characters")


# -- report -----------------------------------------------------------------------------------------
def test_report_json_is_one_document_in_the_contract_shape(school: Path) -> None:
    doc = report_json(school)
    n = head(school)[0]
    assert doc["year"] == "2023-24" and doc["position"] == n
    assert doc["as_at"].endswith("Z") and datetime.fromisoformat(doc["as_at"].replace("Z", "+00:00"))
    assert [p["phase"] for p in doc["phases"]] == ["EYFS/KS1/KS2", "KS3/KS4"]  # in the order first opened
    assert [(c["class"], c["label"]) for c in doc["phases"][0]["classes"]] == [
        ("1AJ", "1AJ"), ("2MD", "2MD (PMLD)"), ("1CW", "1CW")]  # in the order opened
    assert cell(doc, "1AJ", "T1") == {"state": "recorded", "appropriate": 2, "smaller_steps": 1, "unjudged": 0}
    # P-0001 only: P-0002 moved to 7RB and P-0004 left before the end of T2
    assert cell(doc, "1AJ", "T2") == {"state": "not_recorded", "appropriate": 0, "smaller_steps": 0, "unjudged": 1}
    assert cell(doc, "2MD", "T3") == {"state": "not_open"}
    assert cell(doc, "1CW", "T1") == {"state": "not_open"}
    assert cell(doc, "1CW", "T2") == {"state": "not_recorded", "appropriate": 0, "smaller_steps": 0, "unjudged": 0}
    assert cell(doc, "7RB", "T2")["unjudged"] == 1
    for block in doc["phases"]:
        assert set(block["totals"]) == {"T1", "T2", "T3"}
    assert {k: (v["appropriate"], v["smaller_steps"]) for k, v in doc["phases"][0]["totals"].items()} == {
        "T1": (3, 1), "T2": (0, 0), "T3": (0, 0)}
    assert {k: (v["appropriate"], v["smaller_steps"]) for k, v in doc["totals"].items()} == {
        "T1": (3, 1), "T2": (0, 0), "T3": (0, 0)}


def test_report_text_and_csv(school: Path) -> None:
    text = ok("--db", str(school), "report", "--year", "2023-24")
    assert "EYFS/KS1/KS2" in text and "2MD (PMLD)" in text and "N/A" in text and "Whole school" in text
    assert text.index("EYFS/KS1/KS2") < text.index("KS3/KS4")
    out = ok("--db", str(school), "report", "--year", "2023-24", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["phase", "class", "t1_appropriate", "t1_smaller_steps", "t2_appropriate", "t2_smaller_steps",
                       "t3_appropriate", "t3_smaller_steps"]
    assert rows[1] == ["EYFS/KS1/KS2", "1AJ", "2", "1", "", "", "", ""]
    assert rows[2] == ["EYFS/KS1/KS2", "2MD (PMLD)", "1", "0", "", "", "N/A", "N/A"]
    assert rows[-1] == ["Whole school", "Total", "3", "1", "0", "0", "0", "0"]


def test_report_of_a_year_with_nothing_open(school: Path) -> None:
    doc = json.loads(ok("--db", str(school), "report", "--year", "2019-20", "--format", "json"))
    assert doc["phases"] == [] and all(v["appropriate"] == 0 for v in doc["totals"].values())
    assert "No classes were open in 2019-20" in ok("--db", str(school), "report", "--year", "2019-20")


def test_report_and_history_at_a_position(school: Path) -> None:
    n = head(school)[0]
    # the T1 import is the last command: its four judgements are positions n-3..n
    before = report_json(school, "--position", str(n - 4))
    assert before["position"] == n - 4
    assert cell(before, "1AJ", "T1") == {"state": "not_recorded", "appropriate": 0, "smaller_steps": 0, "unjudged": 3}
    assert report_json(school, "--position", str(n))["phases"] == report_json(school)["phases"]
    assert report_json(school, "--position", "0")["phases"] == []
    history = json.loads(ok("--db", str(school), "history", "P-0001", "--position", str(n - 4), "--format", "json"))
    assert history == {"pupil": "P-0001", "events": []}
    refused(school, "--db", str(school), "report", "--year", "2023-24", "--position", str(n + 1), code=1,
            errors=f"position {n + 1} is outside the ledger (positions 0 to {n})")


@pytest.fixture
def timed(folder: Path) -> Path:
    """A ledger written through the services at known moments (British Summer Time in July 2024).

    P-0001's T3 judgement is recorded at 10:30 UTC (11:30 in London) on 1 July 2024 and revised at
    09:00 UTC on 3 July.
    """
    db = folder / "timed.db"
    clock = FakeClock(datetime(2024, 6, 3, 8, 0, tzinfo=timezone.utc))
    store = open_store(str(db), clock=clock, must_exist=False)
    led = ledger_for_store(store, projection=None, actor="dm1")
    try:
        commands.init(led)
        commands.add_staff(led, "HD", "head")
        commands.open_class(led, "1AJ", "KS1", None, Term.parse("2023-24/T1"))
        roll = write_csv(folder / "roll.csv", "pupil_id,class,enrolled_on", "P-0001,1AJ,2023-09-04",
                         "P-0002,1AJ,2023-09-04")
        imports.import_pupils(led, roll)
        led.actor = "HD"
        clock.set(datetime(2024, 7, 1, 10, 30, tzinfo=timezone.utc))
        commands.record_judgement(led, "P-0001", Term.parse("2023-24/T3"), "appropriate")
        clock.set(datetime(2024, 7, 3, 9, 0, tzinfo=timezone.utc))
        commands.revise_judgement(led, "P-0001", Term.parse("2023-24/T3"), "smaller-steps", "moderated")
    finally:
        led.close()
    return db


@pytest.mark.parametrize("when, position, as_at", [
    ("2024-06-30", 6, "2024-06-30T22:59:59.999999Z"),  # a date: the end of that day in London
    ("2024-07-01", 7, "2024-07-01T22:59:59.999999Z"),
    ("2024-07-01T11:00", 6, "2024-07-01T10:00:00Z"),  # naive: London time (BST), 10:00 UTC
    ("2024-07-01T11:30", 7, "2024-07-01T10:30:00Z"),  # exactly when it was recorded: it counts
    ("2024-07-01T11:00Z", 7, "2024-07-01T11:00:00Z"),
    ("2024-07-01T10:29:59Z", 6, "2024-07-01T10:29:59Z"),
    ("2024-07-01T12:00+01:00", 7, "2024-07-01T11:00:00Z"),
    ("2024-07-03T09:00:00Z", 8, "2024-07-03T09:00:00Z"),
    ("2020-01-01", 0, "2020-01-01T23:59:59.999999Z"),
])
def test_report_as_at(timed: Path, when: str, position: int, as_at: str) -> None:
    doc = report_json(timed, "--as-at", when)
    assert (doc["position"], doc["as_at"]) == (position, as_at)
    expected = {6: (0, 0, 2), 7: (1, 0, 1), 8: (0, 1, 1)}.get(position)
    if expected is None:
        assert doc["phases"] == []
    else:
        t3 = cell(doc, "1AJ", "T3")
        assert (t3["appropriate"], t3["smaller_steps"], t3["unjudged"]) == expected
    history = json.loads(ok("--db", str(timed), "history", "P-0001", "--as-at", when, "--format", "json"))
    assert [e["position"] for e in history["events"]] == [p for p in (7, 8) if p <= position]


def test_report_position_gives_the_moment_of_that_event(timed: Path) -> None:
    doc = report_json(timed, "--position", "7")
    assert doc["as_at"] == "2024-07-01T10:30:00Z"
    assert cell(doc, "1AJ", "T3")["appropriate"] == 1


def test_a_ledger_in_another_time_zone(folder: Path) -> None:
    db = folder / "nz.db"
    clock = FakeClock(datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc))  # 2 March 01:00 in Auckland
    store = open_store(str(db), clock=clock, must_exist=False)
    led = ledger_for_store(store, projection=None, actor="dm1")
    try:
        commands.init(led, timezone="Pacific/Auckland")
        commands.add_staff(led, "HD", "head")
    finally:
        led.close()
    assert report_json(db, "--as-at", "2024-03-01")["position"] == 0  # ends 2024-03-01T10:59:59.999999Z
    assert report_json(db, "--as-at", "2024-03-02")["position"] == 3
    assert report_json(db, "--as-at", "2024-03-02T00:59")["position"] == 0
    assert report_json(db, "--as-at", "2024-03-02T01:00")["position"] == 3


# -- history ----------------------------------------------------------------------------------------
def test_history_every_format(timed: Path) -> None:
    text = ok("--db", str(timed), "history", "P-0001")
    assert text.splitlines()[0] == "Judgement history for P-0001 (oldest first)"
    assert "2024-07-01 10:30:00" in text and "(revises position 7)" in text
    doc = json.loads(ok("--db", str(timed), "history", "P-0001", "--format", "json"))
    assert doc == {"pupil": "P-0001", "events": [
        {"position": 7, "recorded_at": "2024-07-01T10:30:00Z", "actor": "HD", "kind": "recorded",
         "term": "2023-24/T3", "class": "1AJ", "status": "appropriate", "reason": None, "supersedes_position": None},
        {"position": 8, "recorded_at": "2024-07-03T09:00:00Z", "actor": "HD", "kind": "revised",
         "term": "2023-24/T3", "class": "1AJ", "status": "smaller-steps", "reason": "moderated",
         "supersedes_position": 7},
    ]}
    rows = list(csv.DictReader(io.StringIO(ok("--db", str(timed), "history", "P-0001", "--format", "csv"))))
    assert [(r["position"], r["kind"], r["status"], r["reason"]) for r in rows] == [
        ("7", "recorded", "appropriate", ""), ("8", "revised", "smaller-steps", "moderated")]
    assert json.loads(ok("--db", str(timed), "history", "P-0001", "--term", "2023-24/T1", "--format", "json")) == {
        "pupil": "P-0001", "events": []}
    assert ok("--db", str(timed), "history", "P-0002") == "No judgements recorded for P-0002.\n"


# -- verify -----------------------------------------------------------------------------------------
def test_verify_intact(school: Path) -> None:
    n = head(school)[0]
    assert ok("--db", str(school), "verify") == f"ledger intact: {n} events, hash chain verified\n"
    assert json.loads(ok("--db", str(school), "verify", "--format", "json")) == {"intact": True, "events": n}
    assert ok("--db", str(school), "verify", "--format", "csv") == f"intact,events\ntrue,{n}\n"


def _tamper(db: Path, sql: str) -> None:
    """Change the file behind the ledger's back, as an attacker with the file would."""
    con = sqlite3.connect(db)
    try:
        con.execute("DROP TRIGGER IF EXISTS events_no_update")
        con.execute("DROP TRIGGER IF EXISTS events_no_delete")
        con.execute(sql)
        con.commit()
    finally:
        con.close()


def test_verify_names_the_first_position_that_fails(school: Path) -> None:
    n = head(school)[0]
    _tamper(school, "UPDATE events SET payload = replace(payload, 'smaller-steps', 'appropriate') "
                    f"WHERE position = {n - 2}")
    result = refused(school, "--db", str(school), "verify", code=1, errors=(
        f"tampering found at position {n - 2}: hash does not match the event's content and link; "
        "restore the ledger from a backup and report it to the data protection lead"))
    assert run("--db", str(school), "verify", "--format", "json").stdout == ""
    assert result.exit_code == 1


def test_verify_finds_events_cut_off_the_end(school: Path) -> None:
    n = head(school)[0]
    _tamper(school, f"DELETE FROM events WHERE position = {n}")
    refused(school, "--db", str(school), "verify", code=1, errors=(
        f"tampering found at position {n}: event is missing (the log should end at position {n}); "
        "restore the ledger from a backup and report it to the data protection lead"))


def test_a_command_id_reused_for_other_work_is_a_conflict(school: Path) -> None:
    w = ["--db", str(school), "--actor", "dm1", "--command-id", "open-3XX"]
    ok(*w, "class", "open", "3XX", "--phase", "KS1", "--from", "2023-24/T1")
    refused(school, *w, "class", "open", "4XX", "--phase", "KS1", "--from", "2023-24/T1", code=1,
            errors="command id open-3XX was already used for a different command; use a new command id for new work")


def _command_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT command_id FROM events")}


def test_an_import_takes_the_command_id_given(school: Path, folder: Path) -> None:
    """--command-id is the import's key as for any write: a retry writes once, other work under it is refused."""
    w = ["--db", str(school), "--actor", "dm1", "--command-id", "roll-2024-01"]
    roll = write_csv(folder / "new.csv", "pupil_id,class,enrolled_on", "P-0010,1AJ,2024-01-08", "P-0011,1CW,2024-01-08")
    assert ok(*w, "import", "pupils", str(roll)) == f"{roll}: 2 rows read, wrote 2 events (2 PupilEnrolled)\n"
    assert "roll-2024-01" in _command_ids(school)
    after = head(school)
    assert ok(*w, "import", "pupils", str(roll)) == f"{roll}: 2 rows read, nothing new to write\n"  # the retry
    assert head(school) == after
    reused = "command id roll-2024-01 was already used for a different command; use a new command id for new work"
    other = write_csv(folder / "other.csv", "pupil_id,class,enrolled_on", "P-0012,1AJ,2024-01-08")
    refused(school, *w, "import", "pupils", str(other), code=1, errors=reused)
    # a file with nothing new to write is refused too when the id wrote elsewhere
    old = write_csv(folder / "old.csv", "pupil_id,class,enrolled_on", "P-0001,1AJ,2023-09-04")
    refused(school, *w, "import", "pupils", str(old), code=1, errors=reused)
    t2 = write_csv(folder / "t2.csv", "pupil_id,class,term,status,reason", "P-0010,1AJ,2023-24/T2,appropriate,")
    refused(school, *w, "import", "judgements", str(t2), code=1, errors=reused)
    # an id first used by another command is refused for an import
    opened = ["--db", str(school), "--actor", "dm1", "--command-id", "open-3XX"]
    ok(*opened, "class", "open", "3XX", "--phase", "KS1", "--from", "2023-24/T1")
    refused(school, *opened, "import", "judgements", str(t2), code=1, errors=reused.replace("roll-2024-01", "open-3XX"))
    # without --command-id an import still makes its own
    assert ok("--db", str(school), "--actor", "dm1", "import", "judgements", str(t2)).endswith("wrote 1 events (1 JudgementRecorded)\n")


@pytest.fixture
def pg_url() -> Iterator[str]:
    from conftest import postgres_schema_url

    yield from postgres_schema_url()


@pytest.mark.postgres
def test_a_postgresql_ledger_by_url(pg_url: str, folder: Path) -> None:
    w = ["--db", pg_url, "--actor", "dm1"]
    assert ok(*w, "init").startswith("created ledger at postgresql+psycopg://")
    ok(*w, "staff", "add", "T.AJ", "--role", "teacher")
    ok(*w, "class", "open", "1AJ", "--phase", "KS1", "--from", "2023-24/T1")
    roll = write_csv(folder / "roll.csv", "pupil_id,class,enrolled_on", "P-0001,1AJ,2023-09-04")
    ok(*w, "import", "pupils", str(roll))
    ok("--db", pg_url, "--actor", "T.AJ", "judgement", "record", "P-0001", "--term", "2023-24/T1",
       "--status", "appropriate")
    doc = json.loads(ok("--db", pg_url, "report", "--year", "2023-24", "--format", "json"))
    assert cell(doc, "1AJ", "T1") == {"state": "recorded", "appropriate": 1, "smaller_steps": 0, "unjudged": 0}
    assert ok("--db", pg_url, "verify") == "ledger intact: 6 events, hash chain verified\n"
    result = run("--db", pg_url, "--actor", "T.AJ", "class", "open", "2XX", "--phase", "KS1")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert ok("--db", pg_url, "verify") == "ledger intact: 6 events, hash chain verified\n"


# -- json is one document, and nothing else, on every read command ------------------------------------------
@pytest.mark.parametrize("args", [
    ["report", "--year", "2023-24", "--format", "json"],
    ["report", "--year", "2023-24", "--format", "json", "--as-at", "2024-01-01"],
    ["report", "--year", "2023-24", "--format", "json", "--position", "5"],
    ["history", "P-0002", "--format", "json"],
    ["history", "P-0002", "--format", "json", "--term", "2023-24/T1"],
    ["verify", "--format", "json"],
])
def test_json_is_one_document_on_stdout(school: Path, args: list[str]) -> None:
    result = run("--db", str(school), *args)
    assert result.exit_code == 0 and result.stderr == ""
    json.loads(result.stdout)  # one document: anything before or after it would fail here


# -- a refused write changes nothing, whatever the reason ----------------------------------------------
def test_every_write_needs_a_registered_actor(school: Path, folder: Path) -> None:
    roll = write_csv(folder / "r.csv", "pupil_id,class,enrolled_on", "P-0010,1AJ,2023-09-04")
    t = write_csv(folder / "t.csv", "pupil_id,class,term,status,reason", "P-0001,1AJ,2023-24/T2,appropriate,")
    writes = [
        ["staff", "add", "X1", "--role", "teacher"],
        ["class", "open", "3XX", "--phase", "KS1"],
        ["class", "close", "1AJ", "--after", "2023-24/T3"],
        ["term", "set", "2023-24/T2", "--start", "2024-01-04", "--end", "2024-03-28"],
        ["import", "pupils", str(roll)],
        ["import", "judgements", str(t)],
        ["judgement", "record", "P-0001", "--term", "2023-24/T2", "--status", "appropriate"],
        ["judgement", "revise", "P-0001", "--term", "2023-24/T1", "--status", "smaller-steps", "--reason", "moderated"],
    ]
    for args in writes:
        refused(school, "--db", str(school), *args, code=1,
                errors="no actor given; pass --actor YOUR-STAFF-ID or set LEDGER_ACTOR")
        refused(school, "--db", str(school), "--actor", "stranger", *args, code=1,
                errors="'stranger' is not a registered member of staff; ask the data manager to run "
                       "'ledger staff add stranger --role ROLE'")
        refused(school, "--db", str(school), *args, env={"LEDGER_ACTOR": "stranger"}, code=1,
                errors="'stranger' is not a registered member of staff; ask the data manager to run "
                       "'ledger staff add stranger --role ROLE'")


@pytest.fixture(autouse=True)
def _never_in_the_repository(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test runs in a temporary folder, so a default events.db can never be the repository's."""
    if "folder" not in request.fixturenames:
        request.getfixturevalue("folder")
    yield
