"""The leadership commands through the command line: output formats, exit codes and exact messages.

Exit 0 success; 1 the ledger refused (a moment outside the log, --from after --to, an unknown class
or actor); 2 the command line was wrong (a malformed date, year, term or event type, a missing or
doubled option). Never a traceback; JSON is one document on stdout and nothing else.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import cli
from conftest import FakeClock
from leadership_fixtures import Marks, build_school
from ledger.bootstrap import ledger_for_store
from ledger.services import commands
from ledger.store import open_store

COMMANDS = ["changes", "compare", "trend", "smaller-steps", "audit"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Marks]]:
    """A SQLite ledger file holding the fixtures' school (built once: these tests only read)."""
    folder = tmp_path_factory.mktemp("leadership")
    db = folder / "events.db"
    clock = FakeClock()
    store = open_store(f"sqlite:///{db}", clock=clock, must_exist=False)
    store.create_schema()
    ledger = ledger_for_store(store, None, actor="dm1")
    commands.init(ledger)
    marks = build_school(ledger, clock, folder)
    ledger.close()
    yield db, marks


def run(db: Path, *args: str) -> Result:
    runner = CliRunner(env={"LEDGER_PROJECTION": ":memory:", "LEDGER_DB": None, "LEDGER_ACTOR": None,
                            "LEDGER_SCHOOL": None})
    return runner.invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# -- help ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[c] for c in COMMANDS] + [["export", "judgements"]])
def test_every_command_has_help_with_an_example(sample, command: list[str]) -> None:
    db, _ = sample
    result = run(db, *command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output and f"ledger {' '.join(command)}" in result.output


# -- changes -------------------------------------------------------------------------------------
def test_changes_text_lists_the_meeting_revisions(sample) -> None:
    db, m = sample
    result = run(db, "changes", "--from", "2024-07-02", "--to", "2024-07-02")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (f"Changes recorded from 2024-07-01T23:00:00Z to 2024-07-02T22:59:59.999999Z "
                        f"(positions {m.meeting[0]} to {m.meeting[-1]}): judgement revised 2")
    assert "smaller-steps -> appropriate" in lines[3] and "LM1" in lines[3] and "data meeting" in lines[3]


def test_changes_json_is_one_document(sample) -> None:
    db, m = sample
    result = run(db, "changes", "--from", "2024-07-03", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["first_position"] == m.t2[0]
    assert [c["position"] for c in doc["changes"]] == m.t2 + m.learning + m.flip
    assert doc["counts"]["stage recorded"] == 2
    stage = [c for c in doc["changes"] if c["change"] == "stage recorded"][1]
    assert (stage["item"], stage["before"], stage["after"]) == ("TG-1", "Emerging", "Developing (achieved 2024-05-01)")


def test_changes_csv_by_position_and_kind(sample) -> None:
    db, m = sample
    result = run(db, "changes", "--from-position", str(m.flip[0]), "--to-position", str(m.flip[1]),
                 "--kind", "judgement", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["position"], r["before"], r["after"], r["actor"]) for r in rows] == [
        (str(m.flip[0]), "appropriate", "smaller-steps", "DH1"), (str(m.flip[1]), "smaller-steps", "appropriate", "DH1")]


def test_changes_with_nothing_in_range(sample) -> None:
    db, _ = sample
    result = run(db, "changes", "--from", "2024-07-05", "--to", "2024-07-06")
    assert result.exit_code == 0
    assert result.stdout.startswith("No changes recorded from 2024-07-04T23:00:00Z to 2024-07-06T22:59:59.999999Z")


@pytest.mark.parametrize("args, code, message", [
    (["--from", "2024-07-03", "--to", "2024-07-02"], 1,
     "Error: --from 2024-07-03 is after --to 2024-07-02: give the earlier moment first"),
    (["--from-position", "999"], 1, "Error: --from-position 999 is outside the ledger (positions 0 to {head})"),
    (["--from", "2030-01-01"], 1, "Error: --from 2030-01-01 is after now: give the earlier moment first"),
    ([], 2, "Error: give --from WHEN (or --from-position N): the first moment to list changes from"),
    (["--from", "2024-07-01", "--from-position", "3"], 2, "Error: give --from or --from-position, not both"),
    (["--from", "2024-07-01", "--to", "2024-07-02", "--to-position", "3"], 2, "Error: give --to or --to-position, not both"),
    (["--from", "last week"], 2, "Error: Invalid value for '--from': 'last week' is not a date or date-time; "
                                 "write 2024-03-28 or 2024-03-28T16:00 or 2024-03-28T16:00Z"),
    (["--from", "2024-07-01", "--kind", "lunch"], 2, None),
])
def test_changes_refusals(sample, args: list[str], code: int, message: str | None) -> None:
    db, _ = sample
    head = open_store(str(db)).head().position
    result = run(db, "changes", *args)
    assert result.exit_code == code
    line = error_line(result)
    if message is not None:
        assert line == message.format(head=head)
    assert result.stdout == ""


# -- compare -------------------------------------------------------------------------------------
def test_compare_text_marks_and_explains(sample) -> None:
    db, m = sample
    result = run(db, "compare", "--year", "2023-24", "--as-at", "2024-07-01", "--as-at", "2024-07-02")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"A = as at 2024-07-01T22:59:59.999999Z (ledger position {m.t1[-1]})" in out
    assert re.search(r"^1AJ +\| +2/1 -> 3/0 +\* +\| +- +\| +-$", out, re.M)
    assert re.search(r"^1CW +\| +N/A +\|", out, re.M)
    assert "Why 2 cell(s) differ" in out
    assert "    P-0002: smaller-steps in 1AJ -> appropriate in 1AJ" in out
    assert "revised by LM1 at 2024-07-02 14:00:00 UTC" in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_compare_json_and_csv(sample) -> None:
    db, m = sample
    result = run(db, "compare", "--year", "2023-24", "--position", str(m.meeting[-1]), "--position", str(m.t1[-1]),
                 "--format", "json")
    doc = json.loads(result.stdout)
    assert (doc["a"]["position"], doc["b"]["position"]) == (m.t1[-1], m.meeting[-1])
    assert [(d["class"], d["term"]) for d in doc["differences"]] == [("1AJ", "T1"), ("3MW", "T1")]
    assert doc["differences"][0]["pupils"][0]["events"][0]["actor"] == "LM1"
    assert doc["totals"]["T1"]["differs"] is True and doc["totals"]["T2"]["differs"] is False
    rows = list(csv.DictReader(io.StringIO(run(db, "compare", "--year", "2023-24", "--position", str(m.t1[-1]),
                                               "--as-at", "2024-07-02", "--format", "csv").stdout)))
    changed = [r for r in rows if r["differs"] == "yes"]
    assert [(r["class"], r["term"], r["a_appropriate"], r["b_appropriate"]) for r in changed] == [
        ("1AJ", "T1", "2", "3"), ("3MW", "T1", "0", "1")]
    assert "P-0002 smaller-steps -> appropriate (LM1 pos" in changed[0]["explained_by"]


@pytest.mark.parametrize("args, code, message", [
    (["--as-at", "2024-07-01"], 2,
     "Error: compare needs exactly two moments: --as-at twice, --position twice, or one of each"),
    (["--as-at", "2024-07-01", "--as-at", "2024-07-02", "--position", "3"], 2,
     "Error: compare needs exactly two moments: --as-at twice, --position twice, or one of each"),
    (["--as-at", "2024-07-01", "--position", "999"], 1, "Error: position 999 is outside the ledger (positions 0 to {head})"),
])
def test_compare_refusals(sample, args: list[str], code: int, message: str) -> None:
    db, _ = sample
    head = open_store(str(db)).head().position
    result = run(db, "compare", "--year", "2023-24", *args)
    assert (result.exit_code, error_line(result)) == (code, message.format(head=head))


def test_compare_bad_year_is_a_usage_error(sample) -> None:
    db, _ = sample
    result = run(db, "compare", "--year", "2023", "--position", "1", "--position", "2")
    assert (result.exit_code, error_line(result)) == (
        2, "Error: Invalid value for '--year': '2023' is not an academic year; write it like 2023-24")


# -- trend ---------------------------------------------------------------------------------------
def test_trend_text_json_csv(sample) -> None:
    db, _ = sample
    text = run(db, "trend").stdout.splitlines()
    assert text[3].split() == ["|", "2023-24"] and text[4].split() == ["|", "T1", "T2", "T3"]
    assert [line.split("|")[1].split() for line in text if line.startswith("Whole school")] == [["80.0%", "66.7%", "-"]]
    assert [line.split("|")[1].split() for line in text if line.startswith("  1CW")] == [["N/A", "0.0%", "-"]]
    doc = json.loads(run(db, "trend", "--phase", "KS3/KS4", "--format", "json").stdout)
    assert [(line["scope"], line["name"]) for line in doc["lines"]] == [("phase", "KS3/KS4"), ("class", "3MW")]
    assert doc["lines"][1]["terms"]["2023-24/T1"] == {"state": "recorded", "appropriate": 1, "smaller_steps": 1,
                                                      "percent_appropriate": 50.0}
    rows = list(csv.DictReader(io.StringIO(run(db, "trend", "--class", "1AJ", "--format", "csv",
                                               "--as-at", "2024-07-01").stdout)))
    assert [(r["term"], r["percent_appropriate"]) for r in rows] == [
        ("2023-24/T1", "66.7"), ("2023-24/T2", ""), ("2023-24/T3", "")]


@pytest.mark.parametrize("args, code, message", [
    (["--class", "1AJ", "--phase", "KS3/KS4"], 2, "Error: give --class or --phase, not both"),
    (["--class", "NOPE"], 1, "Error: no class 'NOPE' in the ledger as it stood at position {head}"),
    (["--as-at", "2024-07-01", "--position", "3"], 2, "Error: give --as-at or --position, not both"),
])
def test_trend_refusals(sample, args: list[str], code: int, message: str) -> None:
    db, _ = sample
    head = open_store(str(db)).head().position
    result = run(db, "trend", *args)
    assert (result.exit_code, error_line(result)) == (code, message.format(head=head))


# -- smaller steps -------------------------------------------------------------------------------
def test_smaller_steps_formats(sample) -> None:
    db, m = sample
    out = run(db, "smaller-steps", "--term", "2023-24/T1", "--as-at", "2024-07-01").stdout.splitlines()
    assert out[0] == "Pupils making smaller steps of progress, 2023-24/T1 (whole school): 3 of 5 judged (60.0%)"
    assert out[4:6] == ["     2  Attendance below 90%", "        P-0004 (3MW), P-0005 (3MW)"]
    doc = json.loads(run(db, "smaller-steps", "--term", "2023-24/T2", "--class", "1CW", "--format", "json").stdout)
    assert (doc["judged"], doc["smaller_steps"], doc["reasons"][0]["pupils"]) == (
        1, 1, [{"pupil_id": "P-0006", "class": "1CW"}])
    rows = list(csv.DictReader(io.StringIO(run(db, "smaller-steps", "--term", "2023-24/T1", "--position",
                                               str(m.t1[-1]), "--format", "csv").stdout)))
    assert [(r["reason"], r["reason_count"], r["pupil_id"]) for r in rows] == [
        ("Attendance below 90%", "2", "P-0004"), ("Attendance below 90%", "2", "P-0005"),
        ("extended medical absence", "1", "P-0002")]


@pytest.mark.parametrize("args, code, message", [
    (["--term", "2023-24/T4"], 2,
     "Error: Invalid value for '--term': '2023-24/T4' is not a term; write it like 2023-24/T1 (T1, T2 or T3)"),
    ([], 2, "Error: Missing option '--term'."),
    (["--term", "2023-24/T1", "--class", "XX"], 1, "Error: no class 'XX' in the ledger as it stood at position {head}"),
])
def test_smaller_steps_refusals(sample, args: list[str], code: int, message: str) -> None:
    db, _ = sample
    head = open_store(str(db)).head().position
    result = run(db, "smaller-steps", *args)
    assert (result.exit_code, error_line(result)) == (code, message.format(head=head))


# -- audit ---------------------------------------------------------------------------------------
def test_audit_formats_and_filters(sample) -> None:
    db, m = sample
    head = open_store(str(db)).head().position
    text = run(db, "audit").stdout.splitlines()
    assert text[0] == f"Audit log: {head} event(s); times are UTC"
    assert len(text) == head + 2
    doc = json.loads(run(db, "audit", "--actor", "LM1", "--format", "json").stdout)
    assert doc["filters"]["actor"] == "LM1" and doc["count"] == 1
    (only,) = doc["events"]
    assert (only["position"], only["event_type"], only["payload"]["status"]) == (m.meeting[0], "JudgementRevised",
                                                                                 "appropriate")
    rows = list(csv.DictReader(io.StringIO(run(db, "audit", "--since", "2024-07-04", "--type", "judgementrevised",
                                               "--format", "csv").stdout)))
    assert [int(r["position"]) for r in rows] == m.flip
    assert list(rows[0]) == ["position", "recorded_at", "actor", "event_type", "stream", "command_id", "summary"]
    assert rows[0]["recorded_at"] == "2024-07-04T09:00:00Z"


@pytest.mark.parametrize("args, code, message", [
    (["--actor", "nobody"], 1, "Error: 'nobody' has never written to this ledger and is not a member of its staff"),
    (["--since", "2024-07-03", "--until", "2024-07-02"], 1,
     "Error: --since 2024-07-03 is after --until 2024-07-02: give the earlier moment first"),
    (["--until", "2024-02-30"], 2, "Error: Invalid value for '--until': '2024-02-30' is not a date or date-time; "
                                   "write 2024-03-28 or 2024-03-28T16:00 or 2024-03-28T16:00Z"),
    (["--type", "Judgement"], 2, None),
])
def test_audit_refusals(sample, args: list[str], code: int, message: str | None) -> None:
    db, _ = sample
    result = run(db, "audit", *args)
    assert result.exit_code == code
    line = error_line(result)
    if message:
        assert line == message
    else:
        assert line.startswith("Error: Invalid value for '--type': 'Judgement' is not an event type; use one of ")


# -- export judgements ---------------------------------------------------------------------------
def test_export_judgements_csv_by_default_and_to_a_file(sample, tmp_path: Path) -> None:
    db, m = sample
    result = run(db, "export", "judgements", "--year", "2023-24")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["pupil_id", "class", "term", "status", "reason"]
    assert len(rows) == 8
    out = tmp_path / "mis.csv"
    result = run(db, "export", "judgements", "--year", "2023-24", "--as-at", "2024-07-01", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.strip() == (f"wrote 5 judgements for 2023-24 as at 2024-07-01T22:59:59.999999Z "
                                     f"(ledger position {m.t1[-1]}) to {out}")
    assert len(out.read_text().splitlines()) == 6
    doc = json.loads(run(db, "export", "judgements", "--year", "2023-24", "--format", "json").stdout)
    assert (doc["year"], len(doc["judgements"])) == ("2023-24", 8)


@pytest.mark.parametrize("args, code, message", [
    (["--year", "23-24"], 2, "Error: Invalid value for '--year': '23-24' is not an academic year; write it like 2023-24"),
    (["--year", "2023-24", "--output", "{missing}/x.csv"], 1,
     "Error: cannot write {missing}/x.csv: No such file or directory"),
    (["--year", "2023-24", "--output", ""], 2,
     "Error: Invalid value for '--output': give a file name (or - for the screen)"),
    (["--year", "2023-24", "--position", "999"], 1, "Error: position 999 is outside the ledger (positions 0 to {head})"),
])
def test_export_refusals(sample, tmp_path: Path, args: list[str], code: int, message: str) -> None:
    db, _ = sample
    head = open_store(str(db)).head().position
    missing = tmp_path / "no-such-folder"
    result = run(db, "export", "judgements", *[a.format(missing=missing) for a in args])
    assert (result.exit_code, error_line(result)) == (code, message.format(head=head, missing=missing))


def test_reads_on_a_missing_ledger_are_refused_in_one_line(tmp_path: Path) -> None:
    result = run(tmp_path / "nothing.db", "audit")
    assert result.exit_code == 1
    assert error_line(result).startswith("Error: no ledger at ")
