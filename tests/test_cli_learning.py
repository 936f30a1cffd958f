"""The learning-record commands through the command line (issue 3), with click's CliRunner.

The contract: exit 0 on success, 1 when the ledger refuses (one ``Error:`` line per problem on
stderr, never a traceback, nothing written), 2 when the command line itself is wrong; reads take
``--format text|json|csv`` and JSON is one document on stdout. Every command's help has an example.
These run on the real clock (the ledger's "today" is the machine's), in a temporary folder, with
the projection in memory.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import cli
from ledger.store import open_store

NEW_COMMANDS = [
    ["framework", "add"], ["framework", "list"], ["outcome", "set"], ["outcome", "revise"], ["outcome", "close"],
    ["target", "set"], ["target", "approve"], ["target", "revise"], ["target", "withdraw"], ["stage", "record"],
    ["import", "outcomes"], ["import", "targets"], ["import", "stages"], ["review"], ["pupil", "show"], ["report"],
]


class Ledger:
    """One ledger file and a way to run ``ledger --db FILE [--actor ID] ...`` against it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = str(folder / "events.db")
        self.runner = CliRunner(env={"LEDGER_PROJECTION": ":memory:", "LEDGER_DB": None, "LEDGER_ACTOR": None})

    def __call__(self, *args: str, actor: str | None = None) -> Result:
        argv = ["--db", self.db, *(["--actor", actor] if actor else []), *args]
        result = self.runner.invoke(cli, argv, catch_exceptions=True)
        assert "Traceback" not in result.output and "Traceback" not in result.stderr, result.output
        if result.exception is not None:
            assert isinstance(result.exception, SystemExit), repr(result.exception)
        return result

    def ok(self, *args: str, actor: str | None = None) -> str:
        result = self(*args, actor=actor)
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stderr == ""
        return result.stdout

    def head(self) -> tuple[int, str]:
        store = open_store(self.db)
        try:
            h = store.head()
            return h.position, h.hash
        finally:
            store.close()

    def refused(self, message: str, *args: str, actor: str | None = None, code: int = 1) -> Result:
        """Exit ``code`` with exactly one line ``Error: message`` on stderr, nothing on stdout, nothing written."""
        before = self.head()
        result = self(*args, actor=actor)
        assert result.exit_code == code, (args, result.exit_code, result.stderr)
        assert result.stderr == f"Error: {message}\n", result.stderr
        assert result.stdout == ""
        assert self.head() == before, "a refused command changed the ledger"
        return result

    def file(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text)
        return str(path)


@pytest.fixture
def led(tmp_path: Path) -> Ledger:
    """A school: staff of each role, class 1AJ, pupils P-001 and P-002, outcomes O-1 (P-001) and O-2 (P-002),
    target T-1 for P-001 set by T1 and approved by KS1, with one stage recorded."""
    led = Ledger(tmp_path)
    led.ok("init", "--school", "Oak Tree School", actor="dm1")
    for staff_id, role in [("T1", "teacher"), ("T2", "teacher"), ("KS1", "ks-lead"), ("KS2", "ks-lead"),
                           ("DH", "deputy-head"), ("HD", "head"), ("LM", "line-manager")]:
        led.ok("staff", "add", staff_id, "--role", role, actor="dm1")
    led.ok("class", "open", "1AJ", "--phase", "KS3/KS4", "--from", "2023-24/T1", actor="dm1")
    roll = led.file("roll.csv", "pupil_id,class,enrolled_on\nP-001,1AJ,2023-09-01\nP-002,1AJ,2023-09-01\n")
    led.ok("import", "pupils", roll, actor="dm1")
    led.ok("outcome", "set", "O-1", "--pupil", "P-001", "--area", "communication-interaction",
           "--description", "Requests help using a communication aid", actor="T1")
    led.ok("outcome", "set", "O-2", "--pupil", "P-002", "--area", "Social, emotional and mental health",
           "--description", "Manages changes to routine calmly", actor="T1")
    led.ok("target", "set", "T-1", "--pupil", "P-001", "--outcome", "O-1", "--framework", "engagement",
           "--terms", "2023-24/T1,2023-24/T2", "--description", "Uses a symbol to request a break", actor="T1")
    led.ok("target", "approve", "T-1", actor="KS1")
    led.ok("stage", "record", "T-1", "--stage", "Emerging", "--on", "2023-10-02", "--note", "2 of 5 sessions", actor="T1")
    return led


# -- help ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", NEW_COMMANDS, ids=" ".join)
def test_every_new_command_has_help_with_an_example(tmp_path: Path, command: list[str]) -> None:
    result = Ledger(tmp_path)(*command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout and "ledger " in result.stdout.split("Example", 1)[1]


@pytest.mark.parametrize("command", [["outcome", "set"], ["target", "set"], ["stage", "record"]], ids=" ".join)
def test_help_warns_against_personal_data_in_free_text(tmp_path: Path, command: list[str]) -> None:
    out = Ledger(tmp_path)(*command, "--help").stdout
    assert "No names or dates of birth" in " ".join(out.split())


def test_report_help_mentions_targets(tmp_path: Path) -> None:
    assert "--targets" in Ledger(tmp_path)("report", "--help").stdout


# -- who may -------------------------------------------------------------------------------------
def test_a_write_without_an_actor_is_refused(led: Ledger) -> None:
    led.refused("no actor given; pass --actor YOUR-STAFF-ID or set LEDGER_ACTOR",
                "outcome", "close", "O-1", "--reason", "achieved")


def test_an_unregistered_actor_is_refused(led: Ledger) -> None:
    led.refused("'X9' is not a registered member of staff; ask the data manager to run 'ledger staff add X9 --role ROLE'",
                "stage", "record", "T-1", "--stage", "Developing", "--on", "2023-11-01", actor="X9")


# -- frameworks ----------------------------------------------------------------------------------
def test_framework_add_and_list(led: Ledger) -> None:
    before = led.head()[0]
    out = led.ok("framework", "add", "sensory", "--name", "Sensory responses",
                 "--stages", "Notices, Tolerates,Explores,Initiates", actor="KS1")
    assert out == f"added framework sensory (position {before + 1})\n"
    text = led.ok("framework", "list")
    assert "sensory        Sensory responses: Notices > Tolerates > Explores > Initiates (school)" in text
    assert "engagement     Engagement scale: Encountered > Emerging > Developing > Secure > Mastered" in text
    doc = json.loads(led.ok("framework", "list", "--format", "json"))
    assert {f["framework"]: f["shipped"] for f in doc["frameworks"]} == {
        "engagement": True, "three-step": True, "prompt": True, "fluency": True, "sensory": False}
    rows = list(csv.DictReader(io.StringIO(led.ok("framework", "list", "--format", "csv"))))
    assert rows[-1] == {"framework": "sensory", "name": "Sensory responses",
                        "stages": "Notices > Tolerates > Explores > Initiates", "shipped": "False"}


@pytest.mark.parametrize("stages, distinct", [("Emerging,Secure", 2), ("A1,a1,B1", 2), ("Only", 1)])
def test_framework_with_fewer_than_three_distinct_stages_is_refused(led: Ledger, stages: str, distinct: int) -> None:
    led.refused(f"framework mini has {distinct} distinct stage(s); a framework needs at least 3",
                "framework", "add", "mini", "--name", "Mini", "--stages", stages, actor="KS1")


def test_framework_with_a_shipped_or_used_id_is_refused(led: Ledger) -> None:
    led.refused("framework engagement ships with the ledger; choose another id",
                "framework", "add", "engagement", "--name", "Mine", "--stages", "A1,B1,C1", actor="KS1")
    led.ok("framework", "add", "sensory", "--name", "Sensory", "--stages", "A1,B1,C1", actor="KS1")
    led.refused("framework sensory is already defined; choose another id",
                "framework", "add", "sensory", "--name", "Again", "--stages", "A1,B1,C1", actor="DH")


def test_framework_add_by_a_teacher_is_refused(led: Ledger) -> None:
    led.refused("T1 (teacher) may not add progress frameworks; that needs one of: ks-lead, deputy-head, head, data-manager",
                "framework", "add", "sensory", "--name", "Sensory", "--stages", "A1,B1,C1", actor="T1")


def test_framework_add_usage_errors_exit_2(led: Ledger) -> None:
    led.refused("Missing option '--stages'.", "framework", "add", "sensory", "--name", "Sensory", actor="KS1", code=2)
    led.refused("Invalid value for '--format': 'xml' is not one of 'text', 'json', 'csv'.",
                "framework", "list", "--format", "xml", code=2)


# -- outcomes ------------------------------------------------------------------------------------
def test_outcome_set_revise_close(led: Ledger) -> None:
    pos = led.head()[0]
    assert led.ok("outcome", "set", "O-3", "--pupil", "P-002", "--area", "sensory-physical",
                  "--description", "Tolerates new textures", actor="KS1") == f"set outcome O-3 for P-002 (position {pos + 1})\n"
    assert led.ok("outcome", "revise", "O-3", "--area", "preparation-adulthood", "--reason", "annual review",
                  actor="KS1") == f"revised outcome O-3 (position {pos + 2})\n"
    assert led.ok("outcome", "close", "O-3", "--reason", "achieved at annual review",
                  actor="DH") == f"closed outcome O-3 (position {pos + 3})\n"
    page = json.loads(led.ok("pupil", "show", "P-002", "--format", "json"))
    assert {"outcome_id": "O-3", "area": "preparation-adulthood", "description": "Tolerates new textures",
            "closed": True} in page["outcomes"]


def test_outcome_refusals(led: Ledger) -> None:
    led.refused("pupil P-999 is not on the roll; import them first with 'ledger import pupils'",
                "outcome", "set", "O-9", "--pupil", "P-999", "--area", "semh", "--description", "Manages change", actor="T1")
    led.refused("'maths' is not an EHCP area of need; use one of: communication-interaction, cognition-learning, semh, "
                "sensory-physical, preparation-adulthood",
                "outcome", "set", "O-9", "--pupil", "P-001", "--area", "maths", "--description", "Counts", actor="T1")
    led.refused("outcome O-1 already exists (for pupil P-001)",
                "outcome", "set", "O-1", "--pupil", "P-001", "--area", "semh", "--description", "Manages change", actor="T1")
    led.refused("outcome O-1 already reads like that; nothing to revise",
                "outcome", "revise", "O-1", "--area", "communication-interaction", "--reason", "review", actor="T1")
    led.refused("outcome O-9 does not exist; set it with 'ledger outcome set'",
                "outcome", "close", "O-9", "--reason", "achieved", actor="T1")
    led.refused("Missing option '--reason'.", "outcome", "close", "O-1", actor="T1", code=2)
    led.refused("Missing option '--pupil'.", "outcome", "set", "O-9", "--area", "semh", "--description", "Aim",
                actor="T1", code=2)
    led.ok("outcome", "close", "O-1", "--reason", "achieved at annual review", actor="KS1")
    led.refused("outcome O-1 is closed", "outcome", "close", "O-1", "--reason", "achieved", actor="KS1")


# -- targets -------------------------------------------------------------------------------------
def test_target_set_approve_revise_withdraw(led: Ledger) -> None:
    pos = led.head()[0]
    assert led.ok("target", "set", "T-2", "--pupil", "P-002", "--outcome", "O-2", "--framework", "three-step",
                  "--terms", "2023-24/T2 2023-24/T3", "--description", "Waits for a turn",
                  actor="KS1") == f"set target T-2, awaiting approval (position {pos + 1})\n"
    assert led.ok("target", "approve", "T-2", actor="KS2") == f"approved 1 target(s) (position {pos + 2})\n"
    assert led.ok("target", "revise", "T-2", "--terms", "2023-24/T3", "--reason", "absence in T2",
                  actor="T2") == f"revised target T-2, awaiting approval (position {pos + 3})\n"
    doc = json.loads(led.ok("pupil", "show", "P-002", "--format", "json"))
    [t2] = doc["targets"]
    assert (t2["terms"], t2["approved"], t2["approved_by"]) == (["2023-24/T3"], False, None)
    assert led.ok("target", "approve", "T-2", actor="KS1") == f"approved 1 target(s) (position {pos + 4})\n"
    assert led.ok("target", "withdraw", "T-2", "--reason", "replaced after annual review",
                  actor="DH") == f"withdrew target T-2 (position {pos + 5})\n"
    [t2] = json.loads(led.ok("pupil", "show", "P-002", "--format", "json"))["targets"]
    assert t2["withdrawn"] is True


def test_target_set_refusals(led: Ledger) -> None:
    base = ["target", "set", "T-2", "--pupil", "P-001", "--description", "Uses a symbol", "--terms", "2023-24/T1"]
    led.refused("outcome O-2 belongs to pupil P-002, not P-001", *base, "--outcome", "O-2", "--framework", "engagement", actor="T1")
    led.refused("framework nope does not exist; use one shipped (engagement, three-step, prompt, fluency) or add it "
                "with 'ledger framework add'", *base, "--outcome", "O-1", "--framework", "nope", actor="T1")
    led.refused("outcome O-9 does not exist; set it with 'ledger outcome set'",
                *base, "--outcome", "O-9", "--framework", "engagement", actor="T1")
    led.refused("HD (head) may not set targets; that needs one of: teacher, ks-lead",
                *base, "--outcome", "O-1", "--framework", "engagement", actor="HD")
    led.refused("target T-1 already exists (for pupil P-001); revise it instead",
                "target", "set", "T-1", "--pupil", "P-001", "--outcome", "O-1", "--framework", "engagement",
                "--terms", "2023-24/T1", "--description", "Again", actor="T1")
    led.refused("'2023-24/T4' is not a term; write it like 2023-24/T1 (T1, T2 or T3)",
                "target", "set", "T-2", "--pupil", "P-001", "--outcome", "O-1", "--framework", "engagement",
                "--terms", "2023-24/T4", "--description", "Uses a symbol", actor="T1")
    led.refused("Missing option '--terms'.", "target", "set", "T-2", "--pupil", "P-001", "--outcome", "O-1",
                "--framework", "engagement", "--description", "Uses a symbol", actor="T1", code=2)
    led.ok("outcome", "close", "O-1", "--reason", "achieved at annual review", actor="KS1")
    led.refused("outcome O-1 is closed", *base, "--outcome", "O-1", "--framework", "engagement", actor="T1")


def test_target_approve_refusals(led: Ledger) -> None:
    led.ok("target", "set", "T-2", "--pupil", "P-002", "--outcome", "O-2", "--framework", "prompt",
           "--terms", "2023-24/T1", "--description", "Waits for a turn", actor="KS1")
    led.refused("KS1 set target T-2 and may not approve it; another leader must approve it",
                "target", "approve", "T-2", actor="KS1")
    led.refused("T2 (teacher) may not approve targets; that needs one of: ks-lead, deputy-head, head",
                "target", "approve", "T-2", actor="T2")
    led.refused("target T-1 is already approved (by KS1)", "target", "approve", "T-1", actor="DH")
    led.refused("target T-1 is already approved (by KS1)", "target", "approve", "T-2", "T-1", actor="DH")
    led.refused("target T-9 does not exist; set it with 'ledger target set'", "target", "approve", "T-9", actor="DH")
    led.refused("Missing argument 'ID...'.", "target", "approve", actor="DH", code=2)
    led.ok("target", "approve", "T-2", actor="HD")


def test_target_revise_and_withdraw_refusals(led: Ledger) -> None:
    led.refused("target T-1 already reads like that; nothing to revise",
                "target", "revise", "T-1", "--terms", "2023-24/T2,2023-24/T1", "--reason", "same", actor="T1")
    led.refused("LM (line-manager) may not revise or withdraw targets; that needs one of: teacher, ks-lead, deputy-head, head",
                "target", "revise", "T-1", "--description", "New words here", "--reason", "typo", actor="LM")
    led.refused("Missing option '--reason'.", "target", "withdraw", "T-1", actor="KS1", code=2)
    led.ok("target", "withdraw", "T-1", "--reason", "replaced after annual review", actor="KS1")
    led.refused("target T-1 was withdrawn", "target", "withdraw", "T-1", "--reason", "again", actor="KS1")
    led.refused("target T-1 was withdrawn", "target", "approve", "T-1", actor="DH")
    led.refused("target T-1 was withdrawn", "stage", "record", "T-1", "--stage", "Secure", "--on", "2023-12-01", actor="T1")


# -- stages --------------------------------------------------------------------------------------
def test_stage_record_and_regression(led: Ledger) -> None:
    pos = led.head()[0]
    assert led.ok("stage", "record", "T-1", "--stage", "developing", "--on", "2023-11-01",
                  actor="T1") == f"recorded stage for T-1 (position {pos + 1})\n"
    led.refused("'Encountered' is lower than the last stage recorded ('Developing'): a regression needs a reason (--reason)",
                "stage", "record", "T-1", "--stage", "1", "--on", "2023-12-01", actor="T1")
    led.ok("stage", "record", "T-1", "--stage", "1", "--on", "2023-12-01", "--reason", "long absence", actor="LM")
    [t1] = json.loads(led.ok("pupil", "show", "P-001", "--format", "json"))["targets"]
    assert t1["current_stage"] == "Encountered"
    assert [(s["stage"], s["achieved_on"], s["reason"], s["actor"]) for s in t1["stages"]] == [
        ("Emerging", "2023-10-02", None, "T1"), ("Developing", "2023-11-01", None, "T1"),
        ("Encountered", "2023-12-01", "long absence", "LM")]


def test_stage_record_refusals(led: Ledger) -> None:
    led.refused("'Mastery' is not a stage of framework engagement; use one of: Encountered, Emerging, Developing, "
                "Secure, Mastered", "stage", "record", "T-1", "--stage", "Mastery", "--on", "2023-11-01", actor="T1")
    led.refused("stages are recorded in date order: target T-1's last stage was on 2023-10-02",
                "stage", "record", "T-1", "--stage", "Secure", "--on", "2023-10-01", actor="T1")
    led.refused("achieved_on 2999-01-01 is in the future",
                "stage", "record", "T-1", "--stage", "Secure", "--on", "2999-01-01", actor="T1")
    led.refused("target T-9 does not exist; set it with 'ledger target set'",
                "stage", "record", "T-9", "--stage", "Secure", "--on", "2023-11-01", actor="T1")
    led.ok("target", "revise", "T-1", "--description", "Uses a symbol to request a break, unprompted",
           "--reason", "moderation", actor="T2")
    led.refused("target T-1 is not approved yet; stages can only be recorded for approved targets",
                "stage", "record", "T-1", "--stage", "Secure", "--on", "2023-11-01", actor="T1")


def test_stage_record_usage_errors_exit_2(led: Ledger) -> None:
    led.refused("Invalid value for '--on': '2023-13-01' does not match the format '%Y-%m-%d'.",
                "stage", "record", "T-1", "--stage", "Secure", "--on", "2023-13-01", actor="T1", code=2)
    led.refused("Missing option '--stage'.", "stage", "record", "T-1", "--on", "2023-11-01", actor="T1", code=2)
    led.refused("No such option '--colour'.", "stage", "record", "T-1", "--stage", "Secure", "--on", "2023-11-01",
                "--colour", "red", actor="T1", code=2)


# -- imports -------------------------------------------------------------------------------------
def test_import_outcomes_targets_stages_then_reimport_writes_nothing(led: Ledger) -> None:
    outcomes = led.file("outcomes.csv", "outcome_id,pupil_id,area,description\n"
                        "O-3,P-002,cognition-learning,Sorts objects by colour\n")
    targets = led.file("targets.csv", "target_id,pupil_id,outcome_id,framework,description,terms\n"
                       "T-3,P-002,O-3,fluency,Sorts three colours,2023-24/T1;2023-24/T2\n")
    stages = led.file("stages.csv", "target_id,stage,achieved_on,note,reason\n"
                      "T-3,Fluent,2023-12-01,4 of 5,\nT-3,Acquiring,2023-10-01,,\nT-1,Developing,2023-11-01,,\n")
    assert led.ok("import", "outcomes", outcomes, actor="T1") == f"{outcomes}: 1 rows read, wrote 1 events (1 OutcomeSet)\n"
    assert led.ok("import", "targets", targets, actor="T1") == f"{targets}: 1 rows read, wrote 1 events (1 TargetSet)\n"
    led.ok("target", "approve", "T-3", actor="KS1")
    assert led.ok("import", "stages", stages, "--dry-run", actor="T2") == (
        f"{stages}: 3 rows read, would write 3 events (3 StageRecorded)\n")
    assert led.ok("import", "stages", stages, actor="T2") == f"{stages}: 3 rows read, wrote 3 events (3 StageRecorded)\n"
    after = led.head()
    for kind, path, rows in [("outcomes", outcomes, 1), ("targets", targets, 1), ("stages", stages, 3)]:
        assert led.ok("import", kind, path, actor="KS1") == f"{path}: {rows} rows read, nothing new to write\n"
    assert led.head() == after
    [t3] = json.loads(led.ok("pupil", "show", "P-002", "--format", "json"))["targets"]
    assert [s["stage"] for s in t3["stages"]] == ["Acquiring", "Fluent"]


def _refused_import(led: Ledger, args: list[str], path: str, problems: list[str], actor: str) -> None:
    before = led.head()
    result = led(*args, actor=actor)
    assert result.exit_code == 1 and result.stdout == ""
    noun = "problem" if len(problems) == 1 else "problems"
    assert result.stderr.splitlines() == [f"Error: {path}:{p}" for p in problems] + [
        f"Error: import of {path} refused: {len(problems)} {noun}, nothing was written; fix the rows above and import again"]
    assert led.head() == before


def test_import_outcomes_reports_every_bad_row(led: Ledger) -> None:
    path = led.file("outcomes.csv", "outcome_id,pupil_id,area,description\n"
                    "O-3,P-002,cognition-learning,Sorts objects by colour\n"
                    "O-4,P-999,semh,Manages change\n"
                    "O-5,P-001,maths,Counts to ten\n")
    _refused_import(led, ["import", "outcomes", path], path, [
        "3: pupil P-999 is not on the roll; import pupils first",
        "4: 'maths' is not an EHCP area of need; use one of: communication-interaction, cognition-learning, semh, "
        "sensory-physical, preparation-adulthood",
    ], "T1")


def test_import_targets_reports_every_bad_row(led: Ledger) -> None:
    path = led.file("targets.csv", "target_id,pupil_id,outcome_id,framework,description,terms\n"
                    "T-3,P-002,O-2,fluency,Sorts three colours,2023-24/T1\n"
                    "T-4,P-001,O-2,fluency,Sorts three colours,2023-24/T1\n"
                    "T-5,P-002,O-2,nope,Sorts three colours,2023-24/T1\n"
                    "T-1,P-001,O-1,engagement,Other words,2023-24/T1\n")
    _refused_import(led, ["import", "targets", path], path, [
        "3: outcome O-2 belongs to pupil P-002, not P-001",
        "4: framework nope does not exist; use one shipped (engagement, three-step, prompt, fluency) or add it with "
        "'ledger framework add'",
        "5: target T-1 is recorded differently; use 'ledger target revise'",
    ], "T1")


def test_import_stages_reports_every_bad_row(led: Ledger) -> None:
    led.ok("target", "set", "T-2", "--pupil", "P-002", "--outcome", "O-2", "--framework", "three-step",
           "--terms", "2023-24/T1", "--description", "Waits for a turn", actor="T1")
    path = led.file("stages.csv", "target_id,stage,achieved_on,note,reason\n"
                    "T-1,Secure,2023-12-01,,\n"
                    "T-1,Encountered,2024-01-05,,\n"
                    "T-2,Secure,2023-11-01,,\n"
                    "T-1,Secure,someday,,\n"
                    "T-1,Mastery,2024-02-01,,\n")
    _refused_import(led, ["import", "stages", path], path, [
        "3: 'Encountered' is lower than the last stage recorded ('Secure'): a regression needs a reason (--reason)",
        "4: target T-2 is not approved yet; stages can only be recorded for approved targets",
        "5: achieved_on 'someday' is not a date; write it as YYYY-MM-DD",
        "6: 'Mastery' is not a stage of framework engagement; use one of: Encountered, Emerging, Developing, Secure, "
        "Mastered",
    ], "T1")


def test_import_of_a_missing_file_or_bad_header(led: Ledger) -> None:
    missing = str(led.folder / "nope.csv")
    led.refused(f"cannot read {missing}: No such file or directory", "import", "stages", missing, actor="T1")
    bad = led.file("bad.csv", "target_id,stage\nT-1,Secure\n")
    _refused_import(led, ["import", "stages", bad], bad, [
        "1: missing column(s) achieved_on; expected target_id,stage,achieved_on,note,reason"], "T1")


# -- reads ---------------------------------------------------------------------------------------
def test_review_formats(led: Ledger) -> None:
    led.ok("judgement", "record", "P-001", "--term", "2023-24/T1", "--status", "appropriate", actor="T1")
    led.ok("judgement", "record", "P-002", "--term", "2023-24/T1", "--status", "smaller-steps",
           "--reason", "long absence in November", actor="T1")
    text = led.ok("review", "--term", "2023-24/T1")
    assert text.startswith("Termly review 2023-24/T1: as at ")
    assert "P-002      1AJ      long absence in November" in text
    assert "P-001      1AJ      judged appropriate but no stage progress recorded this term" in text
    assert "P-002      1AJ      no approved targets for 2023-24/T1" in text
    doc = json.loads(led.ok("review", "--term", "2023-24/T1", "--format", "json"))
    assert doc["term"] == "2023-24/T1" and doc["class"] is None and doc["position"] == led.head()[0]
    by_pupil = {p["pupil_id"]: p for p in doc["pupils"]}
    assert {k: by_pupil["P-001"][k] for k in ("status", "targets", "approved", "moved_up", "regressed", "not_moved")} == {
        "status": "appropriate", "targets": 1, "approved": 1, "moved_up": 0, "regressed": 0, "not_moved": 1}
    assert by_pupil["P-002"]["reason"] == "long absence in November"
    rows = list(csv.DictReader(io.StringIO(led.ok("review", "--term", "2023-24/T1", "--format", "csv"))))
    assert [r["pupil_id"] for r in rows] == ["P-001", "P-002"] and rows[1]["status"] == "smaller-steps"
    led.ok("class", "open", "2MD", "--phase", "KS1", "--from", "2023-24/T1", actor="dm1")
    assert json.loads(led.ok("review", "--term", "2023-24/T1", "--class", "2MD", "--format", "json"))["pupils"] == []


def test_review_as_at_and_position(led: Ledger) -> None:
    pos = led.head()[0]
    led.ok("stage", "record", "T-1", "--stage", "Secure", "--on", "2023-12-01", actor="T1")
    now = json.loads(led.ok("review", "--term", "2023-24/T1", "--format", "json"))
    then = json.loads(led.ok("review", "--term", "2023-24/T1", "--position", str(pos), "--format", "json"))
    assert (now["pupils"][0]["moved_up"], then["pupils"][0]["moved_up"]) == (1, 0)
    assert then["position"] == pos
    before = json.loads(led.ok("review", "--term", "2023-24/T1", "--as-at", "2000-01-01", "--format", "json"))
    assert before["position"] == 0 and before["pupils"] == []


def test_review_usage_and_refusals(led: Ledger) -> None:
    led.refused("Missing option '--term'.", "review", code=2)
    led.refused("Invalid value for '--term': '2023-24/T9' is not a term; write it like 2023-24/T1 (T1, T2 or T3)",
                "review", "--term", "2023-24/T9", code=2)
    led.refused("give --as-at or --position, not both", "review", "--term", "2023-24/T1", "--as-at", "2024-01-01",
                "--position", "3", code=2)
    head = led.head()[0]
    led.refused(f"position {head + 5} is outside the ledger (positions 0 to {head})",
                "review", "--term", "2023-24/T1", "--position", str(head + 5))
    led.refused("Invalid value for '--as-at': 'yesterday' is not a date or date-time; write 2024-03-28 or "
                "2024-03-28T16:00 or 2024-03-28T16:00Z", "review", "--term", "2023-24/T1", "--as-at", "yesterday", code=2)


def test_pupil_show_formats_and_position(led: Ledger) -> None:
    pos = led.head()[0]
    led.ok("stage", "record", "T-1", "--stage", "Encountered", "--on", "2023-11-01", "--reason", "illness", actor="T1")
    text = led.ok("pupil", "show", "P-001")
    assert text.startswith("Pupil P-001: class 1AJ; as at ")
    assert "T-1 [O-1, engagement, 2023-24/T1, 2023-24/T2; approved by KS1]" in text
    assert "current stage: Encountered" in text and "(regression: illness)" in text
    doc = json.loads(led.ok("pupil", "show", "P-001", "--format", "json"))
    assert doc["pupil"] == "P-001" and doc["class"] == "1AJ" and doc["position"] == pos + 1
    assert [s["stage"] for s in doc["targets"][0]["stages"]] == ["Emerging", "Encountered"]
    earlier = json.loads(led.ok("pupil", "show", "P-001", "--position", str(pos), "--format", "json"))
    assert earlier["targets"][0]["current_stage"] == "Emerging" and len(earlier["targets"][0]["stages"]) == 1
    rows = list(csv.DictReader(io.StringIO(led.ok("pupil", "show", "P-001", "--format", "csv"))))
    assert [(r["stage"], r["reason"]) for r in rows] == [("Emerging", ""), ("Encountered", "illness")]
    led.refused("give --as-at or --position, not both", "pupil", "show", "P-001", "--as-at", "2024-01-01",
                "--position", "3", code=2)
    led.refused("Missing argument 'PUPIL'.", "pupil", "show", code=2)


def test_report_with_targets(led: Ledger) -> None:
    led.ok("stage", "record", "T-1", "--stage", "Secure", "--on", "2023-12-01", actor="T1")
    led.ok("judgement", "record", "P-001", "--term", "2023-24/T1", "--status", "appropriate", actor="T1")
    doc = json.loads(led.ok("report", "--year", "2023-24", "--targets", "--format", "json"))
    [phase] = doc["phases"]
    [klass] = phase["classes"]
    t1 = klass["terms"]["T1"]
    assert (t1["targets"], t1["targets_moved"]) == (1, 1)
    plain = json.loads(led.ok("report", "--year", "2023-24", "--format", "json"))
    assert "targets" not in plain["phases"][0]["classes"][0]["terms"]["T1"]
    text = led.ok("report", "--year", "2023-24", "--targets")
    assert "Targets that moved up at least one stage" in text and "T1 1/1 (100%)" in text


def test_pupil_show_labels_only_real_regressions(led: Ledger) -> None:
    """A reason given with a step up is shown as a reason, not as a regression."""
    led.ok("stage", "record", "T-1", "--stage", "Secure", "--on", "2023-11-01", "--reason", "after speech therapy",
           actor="T1")
    led.ok("stage", "record", "T-1", "--stage", "Emerging", "--on", "2023-12-01", "--reason", "long absence", actor="T1")
    text = led.ok("pupil", "show", "P-001")
    [up] = [line for line in text.splitlines() if "2023-11-01" in line]
    [down] = [line for line in text.splitlines() if "2023-12-01" in line]
    assert "regression" not in up and "after speech therapy" in up
    assert "(regression: long absence)" in down


@pytest.mark.parametrize("args, message", [
    (["outcome", "revise", "O-1", "--area", "semh"], "Missing option '--reason'."),
    (["target", "revise", "T-1", "--terms", "2023-24/T3"], "Missing option '--reason'."),
    (["import", "outcomes"], "Missing argument 'FILE'."),
    (["import", "targets"], "Missing argument 'FILE'."),
    (["import", "stages"], "Missing argument 'FILE'."),
    (["review", "--term", "2023-24/T1", "--format", "xml"],
     "Invalid value for '--format': 'xml' is not one of 'text', 'json', 'csv'."),
    (["pupil", "show", "P-001", "--position", "-1"],
     "Invalid value for '--position': -1 is not in the range x>=0."),
    (["target", "sett", "T-9"], "No such command 'sett'. Did you mean 'set'?"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_usage_errors_exit_2_with_one_line(led: Ledger, args: list[str], message: str) -> None:
    led.refused(message, *args, actor="KS1", code=2)


@pytest.mark.parametrize("args", [
    ["framework", "list"], ["review", "--term", "2023-24/T1"], ["pupil", "show", "P-001"],
    ["stage", "record", "T-1", "--stage", "Secure", "--on", "2023-11-01"],
], ids=" ".join)
def test_commands_on_a_missing_ledger_exit_1(tmp_path: Path, args: list[str]) -> None:
    led = Ledger(tmp_path)
    result = led(*args, actor="T1")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"Error: no ledger at {led.db}; create one with 'ledger --actor YOUR-ID init' or pass --db\n"
    assert not Path(led.db).exists()
