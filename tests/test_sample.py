"""The shipped sample ledger ``events.db``: rebuilt identically by its builder, true to the seed table,
and with a personal learning record for every pupil that fits the judgements.

Every read goes to a copy in a temporary directory, so the tests never leave a WAL, shared-memory or
projection file beside the repository's ``events.db``.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import sqlite3
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from ledger.bootstrap import open_ledger
from ledger.domain.calendar import Term, local_date
from ledger.domain.staff import ALLOWED, Action
from ledger.readmodel import Report, TargetView
from ledger.render import render
from ledger.services import learning_queries, queries
from ledger.services.context import Ledger
from ledger.store.mapper import StoredEvent

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "events.db"
SEED_CSV = ROOT / "data" / "ehcp-data-2023-24.csv"
YEAR = "2023-24"
TERMS = ("T1", "T2", "T3")
REBUILD = "rebuild it with: python scripts/build_sample.py"


def load_builder() -> ModuleType:
    # scripts/ is not a package: load the builder from its path, as `python scripts/build_sample.py` runs it.
    spec = importlib.util.spec_from_file_location("build_sample", ROOT / "scripts" / "build_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def event_rows(db: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT * FROM events ORDER BY position").fetchall()
    finally:
        con.close()


def first_difference(left: list[tuple[object, ...]], right: list[tuple[object, ...]]) -> str:
    for a, b in zip(left, right):
        if a != b:
            return f"first difference at position {a[0]}:\n  {a}\n  {b}"
    return f"one log is longer: {len(left)} events against {len(right)}"


def seed_rows() -> list[list[str]]:
    """The seed table with its stray spaces trimmed, header first."""
    with SEED_CSV.open(newline="", encoding="utf-8-sig") as handle:
        return [[cell.strip() for cell in row] for row in csv.reader(handle) if row]


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHIPPED.exists():
        pytest.fail(f"{SHIPPED} is missing; {REBUILD}")
    copy = tmp_path_factory.mktemp("shipped") / "events.db"
    shutil.copyfile(SHIPPED, copy)
    return copy


@pytest.fixture(scope="module")
def sample(shipped_copy: Path) -> Iterator[Ledger]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEDGER_PROJECTION", ":memory:")
        ledger = open_ledger(str(shipped_copy))
    yield ledger
    ledger.close()


@pytest.fixture(scope="module")
def final_report(sample: Ledger) -> Report:
    return queries.report(sample, YEAR)


@pytest.fixture(scope="module")
def revisions(sample: Ledger) -> list[StoredEvent]:
    return [e for e in sample.store.read_all() if e.event_type == "JudgementRevised"]


def counts_by_term(report: Report) -> dict[str, dict[str, tuple[int, int]]]:
    return {
        term: {row.class_id: (row.terms[term].appropriate, row.terms[term].smaller_steps)
               for block in report.phases for row in block.classes}
        for term in TERMS
    }


# -- (1) the builder is deterministic and the shipped file is its output ------------------------------
def test_building_twice_gives_identical_rows_equal_to_the_shipped_ledger(tmp_path: Path, shipped_copy: Path) -> None:
    builder = load_builder()
    first, second = tmp_path / "a" / "events.db", tmp_path / "b" / "events.db"
    first.parent.mkdir()
    second.parent.mkdir()
    stale = [first, *builder.companions(first)]
    for path in stale:
        path.write_bytes(b"left over from an older build")

    builder.build(first)
    builder.build(second)

    assert not any(p.exists() for p in builder.companions(first)), "the builder must replace old companions and checkpoint"
    rows = event_rows(first)
    assert rows, "the builder wrote no events"
    again = event_rows(second)
    assert rows == again, first_difference(rows, again)
    shipped = event_rows(shipped_copy)
    assert shipped == rows, f"events.db has drifted from its builder ({first_difference(shipped, rows)}); {REBUILD}"


# -- (2) the report reproduces the seed table -----------------------------------------------------------
def test_report_reproduces_every_cell_of_the_seed_table(final_report: Report) -> None:
    header, *seed = seed_rows()
    classes = [(block.phase, row) for block in final_report.phases for row in block.classes]
    assert [(phase, row.label) for phase, row in classes] == [(s[0], s[1]) for s in seed]
    checked = 0
    for (_, row), line in zip(classes, seed):
        figures = dict(zip(header, line))
        for n, term in enumerate(TERMS, start=1):
            appropriate, smaller = figures[f"t{n}_appropriate"], figures[f"t{n}_smaller_steps"]
            cell = row.terms[term]
            where = f"{row.label} {term}"
            if appropriate == "N/A":
                assert cell.state == "not_open", where
            elif appropriate == "":
                # Pupils are on roll but nobody judged them: blank, not zero.
                assert (cell.state, cell.appropriate, cell.smaller_steps) == ("not_recorded", 0, 0), where
                assert cell.unjudged > 0, where
            else:
                assert (cell.state, cell.appropriate, cell.smaller_steps) == ("recorded", int(appropriate), int(smaller)), where
                assert cell.unjudged == 0, f"{where}: every pupil on roll has a judgement"
            checked += 1
    assert checked == 69


def test_report_csv_has_the_seed_tables_shape(final_report: Report) -> None:
    seed = seed_rows()
    rendered = list(csv.reader(render("report", final_report, "csv").splitlines()))
    assert rendered[: len(seed)] == seed


# -- (3) as at a date before each moderation meeting, the figures differ in exactly the revised cells ---
def test_as_at_before_each_moderation_meeting_differs_exactly_in_the_revised_cells(
    sample: Ledger, final_report: Report, revisions: list[StoredEvent]
) -> None:
    final = counts_by_term(final_report)
    by_term: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in revisions:
        by_term[event.data()["term"]].append(event)
    assert by_term, "the sample has no revisions"
    for term, events in by_term.items():
        label = term.rsplit("/", 1)[1]
        meeting = min(e.recorded_time for e in events).astimezone(sample.tz).date()
        before = counts_by_term(queries.report(sample, YEAR, as_at=(meeting - timedelta(days=1)).isoformat()))
        net: Counter[str] = Counter()
        for e in events:
            d = e.data()
            net[d["class_id"]] += 1 if d["status"] == "appropriate" else -1
        expected = {c: (n, -n) for c, n in net.items() if n}
        changed = {
            c: (final[label][c][0] - before[label][c][0], final[label][c][1] - before[label][c][1])
            for c in final[label] if final[label][c] != before[label][c]
        }
        assert changed == expected, f"{term} as at the day before its moderation meeting on {meeting}"


# -- (4) the hash chain verifies --------------------------------------------------------------------------
def test_sample_verifies(sample: Ledger, shipped_copy: Path) -> None:
    assert queries.verify(sample) == len(event_rows(shipped_copy))


# -- (5) revisions: enough of them, each with a reason and an actor allowed to revise --------------------
def test_revisions_have_reasons_and_actors_allowed_to_revise(sample: Ledger, revisions: list[StoredEvent]) -> None:
    assert len(revisions) >= 5
    assert len({(e.data()["class_id"], e.data()["term"]) for e in revisions}) >= 5, "revisions should touch several cells"
    by_position = {e.position: e for e in sample.store.read_all()}
    for e in revisions:
        d = e.data()
        assert len(d["reason"].strip()) >= 3, e
        _, member = sample.staff(e.actor)
        assert member is not None and member.role in ALLOWED[Action.REVISE_JUDGEMENT], (e.actor, member)
        original = by_position[d["supersedes_position"]]
        assert original.event_type == "JudgementRecorded", e
        assert original.data()["status"] == d["previous_status"] != d["status"], e
        # Revised at a later data meeting, not straight after recording.
        assert original.recorded_time.date() < e.recorded_time.date(), e
    ways = {"import" if e.command_id.startswith("import-") else "command" for e in revisions}
    assert ways == {"import", "command"}, "revisions come from both 'judgement revise' and a moderation import"


def test_pupils_are_pseudonymous_codes(sample: Ledger) -> None:
    pupils = {e.data()["pupil_id"] for e in sample.store.read_all() if e.stream_id.startswith("pupil-")}
    assert pupils and all(re.fullmatch(r"P-\d{4}", p) for p in pupils), sorted(pupils)[:5]


def test_the_nine_judgement_revisions_are_kept(revisions: list[StoredEvent]) -> None:
    assert len(revisions) == 9, [e.data()["class_id"] for e in revisions]


# -- (6) the personal learning record -------------------------------------------------------------------
# Classes where at least this share of the judged pupils made smaller steps count as smaller-steps-heavy.
SMALLER_STEPS_HEAVY = 0.4
NO_PROGRESS_FLAG = "judged appropriate but no stage progress recorded this term"


@pytest.fixture(scope="module")
def log(sample: Ledger) -> list[StoredEvent]:
    return list(sample.store.read_all())


@pytest.fixture(scope="module")
def end_of_year_targets(sample: Ledger) -> list[TargetView]:
    """Every target as it stood at the end of the academic year."""
    position = sample.read_model.position_at(datetime.combine(date(2024, 8, 31), time(23, 59), tzinfo=sample.tz))
    return sample.read_model.targets(position)


@pytest.fixture(scope="module")
def stages_by_target(log: list[StoredEvent]) -> dict[str, list[StoredEvent]]:
    """Each target's StageRecorded events in the order the record reads: by date achieved, then position."""
    found: dict[str, list[StoredEvent]] = defaultdict(list)
    for e in log:
        if e.event_type == "StageRecorded":
            found[e.data()["target_id"]].append(e)
    return {t: sorted(events, key=lambda e: (e.data()["achieved_on"], e.position)) for t, events in found.items()}


def test_every_pupil_has_two_to_six_approved_targets_across_at_least_two_areas(
    log: list[StoredEvent], end_of_year_targets: list[TargetView]
) -> None:
    pupils = {e.data()["pupil_id"] for e in log if e.event_type == "PupilEnrolled"}
    area = {e.data()["outcome_id"]: e.data()["area"] for e in log if e.event_type == "OutcomeSet"}
    assert not [e for e in log if e.event_type == "OutcomeRevised"], "areas are read from OutcomeSet alone"
    approved: dict[str, list[TargetView]] = defaultdict(list)
    for t in end_of_year_targets:
        if t.approved and not t.withdrawn:
            approved[t.pupil_id].append(t)
    assert len(pupils) > 150
    for pupil in sorted(pupils):
        targets = approved[pupil]
        assert 2 <= len(targets) <= 6, (pupil, [t.target_id for t in targets])
        assert len({area[t.outcome_id] for t in targets}) >= 2, (pupil, [t.outcome_id for t in targets])
    outcomes_per_pupil = Counter(e.data()["pupil_id"] for e in log if e.event_type == "OutcomeSet")
    assert set(outcomes_per_pupil) == pupils and set(outcomes_per_pupil.values()) <= {1, 2, 3}
    assert set(area.values()) == {"communication-interaction", "cognition-learning", "semh", "sensory-physical",
                                  "preparation-adulthood"}
    frameworks = {t.framework_id for t in end_of_year_targets}
    defined = {e.data()["framework_id"] for e in log if e.event_type == "FrameworkDefined"}
    assert len(defined) == 1 and defined <= frameworks and len(frameworks) >= 4, (defined, frameworks)


def test_some_targets_await_approval_and_have_no_stages(
    end_of_year_targets: list[TargetView], stages_by_target: dict[str, list[StoredEvent]]
) -> None:
    waiting = [t for t in end_of_year_targets if not t.approved and not t.withdrawn]
    assert len(waiting) >= 3
    for t in waiting:
        assert t.target_id not in stages_by_target, t
        assert all(Term.parse(term) for term in t.terms), t


def test_targets_are_set_by_teachers_approved_by_leaders_and_revised_then_re_approved(
    sample: Ledger, log: list[StoredEvent]
) -> None:
    roles = {e.data()["staff_id"]: e.data()["role"] for e in log if e.event_type == "StaffRegistered"}
    streams: dict[str, list[StoredEvent]] = defaultdict(list)
    for e in log:
        if e.stream_id.startswith("target-"):
            streams[e.stream_id].append(e)
    kinds = Counter(e.event_type for events in streams.values() for e in events)
    assert kinds["TargetRevised"] >= 2 and kinds["TargetWithdrawn"] == 1, kinds
    for events in streams.values():
        setter = events[0].actor
        assert events[0].event_type == "TargetSet" and roles[setter] in ALLOWED[Action.SET_TARGETS], events[0]
        for e in events:
            if e.event_type in ("TargetRevised", "TargetWithdrawn"):
                assert len(e.data()["reason"].strip()) >= 3, e
                setter = e.actor if e.event_type == "TargetRevised" else setter
            if e.event_type == "TargetApproved":
                assert roles[e.actor] in ALLOWED[Action.APPROVE_TARGETS] and e.actor != setter, e
        revised = [i for i, e in enumerate(events) if e.event_type == "TargetRevised"]
        if revised:
            # Approved again afterwards, within a week, before any further stage.
            after = events[revised[-1] + 1]
            assert after.event_type == "TargetApproved", events
            assert after.recorded_time - events[revised[-1]].recorded_time < timedelta(days=7)
    # Most targets are set in September and approved soon after, class by class.
    set_in_september = [e for e in log if e.event_type == "TargetSet" and e.recorded_time.month == 9]
    assert len(set_in_september) > 0.9 * kinds["TargetSet"]
    approvals = Counter(e.command_id for e in log if e.event_type == "TargetApproved")
    assert max(approvals.values()) >= 20, "approvals come in batches per class"


def test_stages_are_dated_inside_a_term_and_never_after_they_were_recorded(
    sample: Ledger, log: list[StoredEvent]
) -> None:
    terms = [(date.fromisoformat(e.data()["start"]), date.fromisoformat(e.data()["end"]))
             for e in log if e.event_type == "TermDatesSet"]
    assert len(terms) == 3
    stages = [e for e in log if e.event_type == "StageRecorded"]
    assert len(stages) > 1000
    for e in stages:
        achieved = date.fromisoformat(e.data()["achieved_on"])
        assert any(start <= achieved <= end for start, end in terms), e
        assert achieved <= local_date(e.recorded_time, sample.tz), e
        note = e.data()["note"]
        assert len(note) <= 60 and not re.search(r"P-\d{4}", note), e
    ways = {"import" if e.command_id.startswith("import-") else "command" for e in stages}
    assert ways == {"import", "command"}, "stages come from class uploads and a few typed in"


def test_regressions_each_have_a_reason(stages_by_target: dict[str, list[StoredEvent]]) -> None:
    regressions = []
    for events in stages_by_target.values():
        for before, e in zip(events, events[1:]):
            if e.data()["stage_index"] < before.data()["stage_index"]:
                regressions.append(e)
    assert len(regressions) >= 3
    for e in regressions:
        assert len((e.data()["reason"] or "").strip()) >= 3, e


def test_termly_review_flags_few_appropriate_pupils_without_progress(sample: Ledger) -> None:
    review = learning_queries.review(sample, Term.parse(f"{YEAR}/T2"))
    appropriate = [line for line in review.lines if line.status == "appropriate"]
    flagged = [line for line in appropriate if NO_PROGRESS_FLAG in line.flags]
    assert appropriate and len(flagged) < 0.1 * len(appropriate), [line.pupil_id for line in flagged]
    assert review.smaller_steps
    for line in review.smaller_steps:
        assert line.reason and len(line.reason.strip()) >= 3, line
    assert all(line.approved >= 1 for line in review.lines), "every pupil on roll has approved targets this term"
    assert not [line for line in review.lines if any("awaiting approval" in f for f in line.flags)]

    def moved_share(lines: list) -> float:  # noqa: ANN001
        return sum(line.moved_up for line in lines) / sum(line.approved for line in lines)

    # Pupils judged smaller steps show fewer stage moves than those judged appropriate, every term.
    for term in TERMS:
        lines = learning_queries.review(sample, Term.parse(f"{YEAR}/{term}")).lines
        smaller = [line for line in lines if line.status == "smaller-steps"]
        assert moved_share(smaller) < moved_share([line for line in lines if line.status == "appropriate"]) - 0.2, term


def test_targets_moved_more_in_appropriate_heavy_classes(sample: Ledger, final_report: Report) -> None:
    report = learning_queries.with_target_moves(sample, final_report)
    assert report.target_moves
    heavy: dict[bool, list[float]] = {True: [], False: []}
    for block in report.phases:
        for row in block.classes:
            for term in TERMS:
                cell = row.terms[term]
                moves = report.target_moves.get((row.class_id, term))
                if cell.state != "recorded" or not moves or not moves[1]:
                    continue
                judged = cell.appropriate + cell.smaller_steps
                if cell.smaller_steps == 0:
                    heavy[False].append(moves[0] / moves[1])
                elif cell.smaller_steps / judged >= SMALLER_STEPS_HEAVY:
                    heavy[True].append(moves[0] / moves[1])
    assert heavy[True] and heavy[False]
    appropriate_only = sum(heavy[False]) / len(heavy[False])
    smaller_heavy = sum(heavy[True]) / len(heavy[True])
    assert appropriate_only > smaller_heavy + 0.1, (appropriate_only, smaller_heavy)


def test_descriptions_name_no_one(log: list[StoredEvent]) -> None:
    texts = [e.data()[k] for e in log for k in ("description", "note", "reason")
             if e.event_type.startswith(("Target", "Outcome", "Stage")) and e.data().get(k)]
    assert texts
    for text in texts:
        assert not re.search(r"P-\d{4}", text), text
