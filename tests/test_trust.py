"""A trust: one ledger holding two schools (``--school OAK`` and ``--school ELM``), on both stores.

Both schools use the same class ids, pupil ids and staff ids, and import byte-identical files;
nothing collides, because each school's streams live under its code ("OAK/pupil-P-0001") and each
school's import command ids name the school. Everything goes through the command line (click's
CliRunner), with the DuckDB projections as real files: one per school, built from the shared log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli import cli
from ledger.store import open_store
from ledger.store.chain import verify_chain

ROLL = (
    "pupil_id,class,enrolled_on,left_on\n"
    "P-0001,1AJ,2023-09-04,\n"
    "P-0002,1AJ,2023-09-04,\n"
    "P-0003,1AJ,2023-09-04,\n"
    "P-0004,2MD,2023-09-04,\n"
    "P-0005,2MD,2023-09-04,\n"
    "P-0006,2MD,2023-09-04,\n"
)
T1_JUDGEMENTS = (
    "pupil_id,class,term,status,reason\n"
    "P-0001,1AJ,2023-24/T1,appropriate,\n"
    "P-0002,1AJ,2023-24/T1,smaller-steps,long absence\n"
    "P-0003,1AJ,2023-24/T1,appropriate,\n"
    "P-0004,2MD,2023-24/T1,appropriate,\n"
    "P-0005,2MD,2023-24/T1,appropriate,\n"
    "P-0006,2MD,2023-24/T1,smaller-steps,medical\n"
)


class Runner:
    """``ledger`` commands against one database, failing the test on an unexpected exit code."""

    def __init__(self, db: str, folder: Path) -> None:
        self.db, self.folder = db, folder

    def run(self, *args: str, school: str | None = None, actor: str | None = None, code: int = 0) -> str:
        head = ["--db", self.db, *(["--school", school] if school else []), *(["--actor", actor] if actor else [])]
        result = CliRunner().invoke(cli, [*head, *args])
        assert result.exit_code == code, (args, school, actor, result.output)
        return result.output

    def json(self, *args: str, school: str | None = None) -> Any:
        return json.loads(self.run(*args, "--format", "json", school=school))

    def csv(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)


def set_up_school(r: Runner, school: str | None, name: str) -> None:
    """The same school twice over: same staff ids, class ids, pupil ids and files."""
    r.run("init", "--school", name, school=school, actor="dm1")
    r.run("staff", "add", "T.AJ", "--role", "teacher", school=school, actor="dm1")
    r.run("staff", "add", "LM1", "--role", "line-manager", school=school, actor="dm1")
    r.run("class", "open", "1AJ", "--phase", "EYFS/KS1", "--from", "2023-24/T1", school=school, actor="dm1")
    r.run("class", "open", "2MD", "--phase", "KS1/KS2", "--mark", "PMLD", "--from", "2023-24/T1", school=school, actor="dm1")
    r.run("import", "pupils", r.csv("roll.csv", ROLL), school=school, actor="dm1")
    r.run("import", "judgements", r.csv("t1.csv", T1_JUDGEMENTS), school=school, actor="T.AJ")


def oak_only_changes(r: Runner, school: str | None) -> None:
    r.run("judgement", "revise", "P-0002", "--term", "2023-24/T1", "--status", "appropriate", "--reason", "moderated",
          school=school, actor="LM1")


def elm_only_changes(r: Runner, school: str | None) -> None:
    for pupil, status in (("P-0001", "appropriate"), ("P-0004", "smaller-steps"), ("P-0005", "appropriate")):
        extra = ["--reason", "new to the class"] if status == "smaller-steps" else []
        r.run("judgement", "record", pupil, "--term", "2023-24/T2", "--status", status, *extra, school=school, actor="T.AJ")


@pytest.fixture
def trust(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """OAK and ELM in one ledger, interleaved as two schools' offices would write."""
    monkeypatch.delenv("LEDGER_PROJECTION", raising=False)  # real DuckDB files, one per school...
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # ...kept under the test's folder
    monkeypatch.delenv("LEDGER_SCHOOL", raising=False)
    r = Runner(store_url, tmp_path)
    set_up_school(r, "OAK", "Oak Tree School")
    set_up_school(r, "ELM", "Elm Bank School")
    oak_only_changes(r, "OAK")
    elm_only_changes(r, "ELM")
    yield r


def body(report: dict[str, Any]) -> dict[str, Any]:
    """A report without the moment it was taken at (which differs between ledgers)."""
    return {k: v for k, v in report.items() if k not in ("as_at", "position")}


def counts(totals: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {term: (c["appropriate"], c["smaller_steps"]) for term, c in totals.items()}


def test_each_school_reports_exactly_what_it_would_as_a_ledger_of_its_own(
    trust: Runner, tmp_path: Path
) -> None:
    reports = {code: trust.json("report", "--year", "2023-24", school=code) for code in ("OAK", "ELM")}
    for code, changes in (("OAK", oak_only_changes), ("ELM", elm_only_changes)):
        alone = Runner(str(tmp_path / f"{code}-alone.db"), tmp_path)
        set_up_school(alone, None, "Alone")
        changes(alone, None)
        assert body(reports[code]) == body(alone.json("report", "--year", "2023-24")), code
    assert counts(reports["OAK"]["totals"])["T1"] == (5, 1)  # P-0002 moderated to appropriate
    assert counts(reports["ELM"]["totals"])["T1"] == (4, 2)
    assert counts(reports["ELM"]["totals"])["T2"] == (2, 1)
    assert counts(reports["OAK"]["totals"])["T2"] == (0, 0)
    # report --school overrides the global --school
    assert trust.json("report", "--year", "2023-24", "--school", "ELM", school="OAK")["totals"] == reports["ELM"]["totals"]


def test_one_school_writing_does_not_change_the_other_schools_report(trust: Runner) -> None:
    before = trust.json("report", "--year", "2023-24", school="OAK")
    trust.run("judgement", "revise", "P-0006", "--term", "2023-24/T1", "--status", "appropriate", "--reason",
              "moderated", school="ELM", actor="LM1")
    after = trust.json("report", "--year", "2023-24", school="OAK")
    assert after["position"] > before["position"]  # the log moved on...
    assert body(after) == body(before)  # ...OAK's facts did not


def test_closing_a_class_looks_at_that_schools_roll_and_judgements_only(trust: Runner) -> None:
    # Both schools have pupils in 1AJ; once OAK's have left, OAK's 1AJ can close and ELM's still cannot.
    leaving = trust.csv("leaving.csv", "pupil_id,class,enrolled_on,left_on\n" + "".join(
        f"P-000{n},1AJ,2023-09-04,2024-03-28\n" for n in (1, 2, 3)))
    trust.run("import", "pupils", leaving, school="OAK", actor="dm1")
    assert "closed class 1AJ after 2023-24/T2" in trust.run("class", "close", "1AJ", "--after", "2023-24/T2",
                                                             school="OAK", actor="dm1")
    refused = trust.run("class", "close", "1AJ", "--after", "2023-24/T1", school="ELM", actor="dm1", code=1)
    assert refused == ("Error: class 1AJ has judgements recorded for terms after 2023-24/T1 (1 in 2023-24/T2); "
                       "close it after 2023-24/T2 or later\n")
    refused = trust.run("class", "close", "1AJ", "--after", "2023-24/T2", school="ELM", actor="dm1", code=1)
    assert refused.startswith("Error: class 1AJ still has pupils on its roll after 2023-24/T2 (P-0001, P-0002, P-0003);")


def test_the_trust_report_totals_are_the_sum_of_the_schools(trust: Runner) -> None:
    head = trust.json("verify")["events"]
    report = trust.json("report", "--year", "2023-24", "--trust", "--position", str(head))
    assert [(s["school"], s["name"]) for s in report["schools"]] == [("OAK", "Oak Tree School"), ("ELM", "Elm Bank School")]
    for s in report["schools"]:
        alone = trust.json("report", "--year", "2023-24", "--position", str(head), school=s["school"])
        assert s["report"] == alone
    summed = {
        term: tuple(sum(counts(s["report"]["totals"])[term][i] for s in report["schools"]) for i in (0, 1))
        for term in report["totals"]
    }
    assert counts(report["totals"]) == summed == {"T1": (9, 3), "T2": (2, 1), "T3": (0, 0)}
    # as at a position before ELM existed, the trust is OAK alone
    first_elm = next(e.position for e in read_all(trust.db) if e.stream_id.startswith("ELM/"))
    early = trust.json("report", "--year", "2023-24", "--trust", "--position", str(first_elm - 1))
    assert [s["school"] for s in early["schools"]] == ["OAK"]


def read_all(db: str) -> list:
    store = open_store(db)
    try:
        return list(store.read_all())
    finally:
        store.close()


def test_the_same_files_imported_by_both_schools_do_not_collide(trust: Runner) -> None:
    events = read_all(trust.db)
    imported = {e.command_id for e in events if e.command_id.startswith("import-")}
    assert {c.split(":")[0] + ":" + c.split(":")[1] for c in imported} == {
        "import-pupils:OAK", "import-pupils:ELM", "import-judgements:OAK", "import-judgements:ELM",
    }
    for school in ("OAK", "ELM"):
        pupils = [e for e in events if e.stream_id.startswith(f"{school}/pupil-")]
        assert sorted(e.stream_id for e in pupils) == [f"{school}/pupil-P-000{n}" for n in range(1, 7)]
        assert len({e.command_id for e in pupils}) == 1
    # importing the same file again is still a no-op in each school, and writes nothing anywhere
    for school in ("OAK", "ELM"):
        out = trust.run("import", "pupils", str(trust.folder / "roll.csv"), school=school, actor="dm1")
        assert "nothing new to write" in out
    assert read_all(trust.db) == events
    # and each school's ids are its own: every stream outside the trust's two namespaces is absent
    assert all(e.stream_id.split("/")[0] in ("OAK", "ELM") for e in events)


def test_staff_of_one_school_have_no_rights_in_the_other(trust: Runner) -> None:
    trust.run("staff", "add", "HT.OAK", "--role", "head", school="OAK", actor="dm1")
    before = read_all(trust.db)
    out = trust.run("staff", "add", "X1", "--role", "teacher", school="ELM", actor="HT.OAK", code=1)
    assert "'HT.OAK' is not a registered member of staff" in out
    out = trust.run("judgement", "record", "P-0002", "--term", "2023-24/T2", "--status", "appropriate",
                    school="ELM", actor="HT.OAK", code=1)
    assert "not a registered member of staff" in out
    # the same staff id registered in both schools holds each school's role only there
    trust.run("staff", "add", "KS9", "--role", "ks-lead", school="OAK", actor="dm1")
    trust.run("staff", "add", "KS9", "--role", "teacher", school="ELM", actor="dm1")
    after_setup = read_all(trust.db)
    out = trust.run("judgement", "revise", "P-0001", "--term", "2023-24/T1", "--status", "smaller-steps",
                    "--reason", "moderated", school="ELM", actor="KS9", code=1)
    assert "KS9 (teacher) may not revise judgements" in out
    assert read_all(trust.db) == after_setup
    trust.run("judgement", "revise", "P-0001", "--term", "2023-24/T1", "--status", "smaller-steps",
              "--reason", "moderated", school="OAK", actor="KS9")
    assert len(read_all(trust.db)) == len(before) + 3
    # a second init of a school that exists is refused; a new school can still be added
    out = trust.run("init", "--school", "Oak again", school="OAK", actor="dm1", code=1)
    assert "already a ledger for school OAK" in out


def test_verify_covers_the_whole_log_whichever_school_asks(trust: Runner, store_url: str) -> None:
    events = read_all(trust.db)
    for school in (None, "OAK", "ELM"):
        assert trust.json("verify", school=school)["events"] == len(events)
    # Someone edits one of OAK's events behind the ledger's back (removing the guard first):
    victim = next(e for e in events if e.stream_id.startswith("OAK/") and e.event_type == "JudgementRecorded")
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        if store_url.startswith("sqlite"):
            conn.exec_driver_sql("DROP TRIGGER events_no_update")
        else:
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER events_no_update_delete")
        conn.execute(sa.text("UPDATE events SET payload = replace(payload, 'appropriate', 'smaller-steps') "
                             "WHERE position = :p"), {"p": victim.position})
    engine.dispose()
    # ELM's data manager running verify finds it: verify is the whole log's, not one school's
    for school in ("ELM", "OAK", None):
        out = trust.run("verify", school=school, code=1)
        assert f"tampering found at position {victim.position}" in out
    store = open_store(store_url)
    try:
        with pytest.raises(Exception, match=f"position {victim.position}"):
            verify_chain(store.read_all(), store.recorded_head())
    finally:
        store.close()


def test_each_school_has_its_own_projection_built_from_the_shared_log(trust: Runner, store_url: str) -> None:
    from ledger.bootstrap import projection_path

    first = {code: trust.json("report", "--year", "2023-24", school=code) for code in ("OAK", "ELM")}
    trust.json("report", "--year", "2023-24", "--trust")
    files = {code: projection_path(store_url, code) for code in ("", "OAK", "ELM")}
    assert len(set(files.values())) == 3
    assert all(path is not None and path.exists() for path in files.values()), files
    # a projection is a cache: delete OAK's and the next report rebuilds it from the log, the same
    files["OAK"].unlink()  # type: ignore[union-attr]
    again = trust.json("report", "--year", "2023-24", "--position", str(first["OAK"]["position"]), school="OAK")
    assert body(again) == body(first["OAK"]) and files["OAK"].exists()  # type: ignore[union-attr]
