"""The personal learning record's rules (issue 3), through the services, on SQLite and PostgreSQL.

Every refusal must say what is wrong and leave the ledger exactly as it was: the head position and
hash are compared before and after. The school is set up through the services first (staff, a
class, pupils by import), as a data manager would, and the fake clock stands at 2024-07-01 09:00 UTC
(10:00 in London), near the end of the 2023-24 summer term.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from conftest import FakeClock
from ledger.domain.calendar import Term
from ledger.domain.learning import BUILTIN_FRAMEWORKS
from ledger.errors import Conflict, ImportRefused, InvalidInput, LedgerError, NotAllowed, NotFound
from ledger.services import commands, imports, learning, learning_imports
from ledger.services.context import Ledger

STAFF = {"T1": "teacher", "T2": "teacher", "KS1": "ks-lead", "KS2": "ks-lead", "DH": "deputy-head",
         "HD": "head", "LM": "line-manager"}


def as_(ledger: Ledger, actor: str) -> Ledger:
    ledger.actor = actor
    return ledger


def head(ledger: Ledger) -> tuple[int, str]:
    h = ledger.store.head()
    return h.position, h.hash


def refused(ledger: Ledger, error: type[LedgerError], match: str, action: Callable[[], Any]) -> LedgerError:
    """``action`` is refused with ``error`` whose message matches, and nothing is written."""
    before = head(ledger)
    with pytest.raises(error, match=match) as caught:
        action()
    assert head(ledger) == before, "a refused command changed the ledger"
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message, "errors are one clean line"
    return caught.value


@pytest.fixture
def school(ledger: Ledger, tmp_path: Path) -> Ledger:
    """Staff of every role, class 1AJ (from 2023-24/T1), pupils P-001 and P-002, an outcome each."""
    for staff_id, role in STAFF.items():
        commands.add_staff(ledger, staff_id, role)
    commands.open_class(ledger, "1AJ", "KS3/KS4", from_term=Term.parse("2023-24/T1"))
    roll = tmp_path / "roll.csv"
    roll.write_text("pupil_id,class,enrolled_on\nP-001,1AJ,2023-09-01\nP-002,1AJ,2023-09-01\n")
    imports.import_pupils(ledger, roll)
    as_(ledger, "T1")
    learning.set_outcome(ledger, "O-1", "P-001", "communication-interaction", "Requests help using a communication aid")
    learning.set_outcome(ledger, "O-2", "P-002", "semh", "Manages changes to routine calmly")
    return ledger


def set_target(ledger: Ledger, target_id: str = "T-1", *, by: str = "T1", pupil: str = "P-001",
               outcome: str = "O-1", framework: str = "engagement", terms: str = "2023-24/T1;2023-24/T2;2023-24/T3",
               description: str = "Uses a symbol to request a break") -> None:
    learning.set_target(as_(ledger, by), target_id, pupil, outcome, framework, description, terms)


def approved_target(ledger: Ledger, target_id: str = "T-1", **kwargs: Any) -> None:
    set_target(ledger, target_id, **kwargs)
    learning.approve_targets(as_(ledger, "KS1"), [target_id])


def stage(ledger: Ledger, target_id: str, name: str, on: date, reason: str | None = None, by: str = "T1",
          note: str = "") -> None:
    learning.record_stage(as_(ledger, by), target_id, name, on, note, reason)


def target_state(ledger: Ledger, target_id: str = "T-1"):  # noqa: ANN201
    return learning.target(ledger, target_id)[1]


# -- frameworks ----------------------------------------------------------------------------------
def test_shipped_frameworks_each_have_at_least_three_distinct_stages() -> None:
    assert BUILTIN_FRAMEWORKS, "the ledger ships some common scales"
    for framework in BUILTIN_FRAMEWORKS.values():
        assert len({s.casefold() for s in framework.stages}) == len(framework.stages) >= 3, framework


def test_a_school_adds_its_own_framework_and_targets_can_use_it(school: Ledger) -> None:
    learning.add_framework(as_(school, "KS1"), "sensory", "Sensory responses", ["Notices", "Tolerates", "Explores", "Initiates"])
    approved_target(school, framework="sensory")
    stage(school, "T-1", "Tolerates", date(2023, 10, 2))
    stage(school, "T-1", "3", date(2023, 11, 2))  # by its number on the scale
    assert [(s.index, s.name) for s in target_state(school).stages] == [(1, "Tolerates"), (2, "Explores")]


def test_a_stage_named_like_a_number_is_found_by_its_name(school: Ledger) -> None:
    """A school's numbered scale (0 to 3): '1' is the stage called 1, not the first stage (called 0)."""
    learning.add_framework(as_(school, "KS1"), "steps", "Numbered steps", ["0", "1", "2", "3"])
    approved_target(school, framework="steps")
    stage(school, "T-1", "1", date(2023, 10, 2))
    stage(school, "T-1", "3", date(2023, 11, 2))
    assert [(s.index, s.name) for s in target_state(school).stages] == [(1, "1"), (3, "3")]
    refused(school, InvalidInput, "'4' is not a stage of framework steps",
            lambda: stage(school, "T-1", "4", date(2023, 12, 2)))


@pytest.mark.parametrize("stages, distinct", [
    (["Emerging", "Secure"], 2),
    (["Emerging", "emerging", "Secure"], 2),
    (["Emerging", "Secure", " "], 2),
    (["Only"], 1),
    ([], 0),
])
def test_framework_with_fewer_than_three_distinct_stages_is_refused(school: Ledger, stages: list[str],
                                                                   distinct: int) -> None:
    refused(as_(school, "KS1"), InvalidInput, rf"framework mini has {distinct} distinct stage\(s\); a framework needs at least 3",
            lambda: learning.add_framework(school, "mini", "Mini scale", stages))


def test_framework_with_a_repeated_stage_is_refused_even_with_three_distinct(school: Ledger) -> None:
    refused(as_(school, "KS1"), InvalidInput, "stages must be distinct",
            lambda: learning.add_framework(school, "rep", "Repeats", ["A1", "B1", "C1", "b1"]))


def test_framework_id_already_defined_is_refused(school: Ledger) -> None:
    learning.add_framework(as_(school, "KS1"), "sensory", "Sensory responses", ["Notices", "Tolerates", "Explores"])
    refused(school, InvalidInput, "framework sensory is already defined; choose another id",
            lambda: learning.add_framework(as_(school, "DH"), "sensory", "Other", ["One", "Two", "Three"]))


@pytest.mark.parametrize("framework_id", sorted(BUILTIN_FRAMEWORKS))
def test_framework_id_of_a_shipped_scale_is_refused(school: Ledger, framework_id: str) -> None:
    refused(as_(school, "KS1"), InvalidInput, f"framework {framework_id} ships with the ledger; choose another id",
            lambda: learning.add_framework(school, framework_id, "Mine", ["One", "Two", "Three"]))


def test_teacher_may_not_add_a_framework(school: Ledger) -> None:
    refused(as_(school, "T1"), NotAllowed, r"T1 \(teacher\) may not add progress frameworks",
            lambda: learning.add_framework(school, "sensory", "Sensory", ["One", "Two", "Three"]))


def test_unregistered_actor_is_refused(school: Ledger) -> None:
    refused(as_(school, "nobody"), NotAllowed, "'nobody' is not a registered member of staff",
            lambda: learning.set_outcome(school, "O-9", "P-001", "semh", "Something to aim for"))


# -- outcomes ------------------------------------------------------------------------------------
def test_outcome_for_a_pupil_not_on_roll_is_refused(school: Ledger) -> None:
    refused(as_(school, "T1"), NotFound, "pupil P-999 is not on the roll; import them first",
            lambda: learning.set_outcome(school, "O-9", "P-999", "semh", "Manages change calmly"))


def test_outcome_id_used_twice_is_refused(school: Ledger) -> None:
    refused(as_(school, "T1"), InvalidInput, r"outcome O-1 already exists \(for pupil P-001\)",
            lambda: learning.set_outcome(school, "O-1", "P-002", "semh", "Manages change calmly"))


def test_outcome_with_an_unknown_area_or_a_name_as_pupil_id_is_refused(school: Ledger) -> None:
    refused(as_(school, "T1"), InvalidInput, "area 'maths'",
            lambda: learning.set_outcome(school, "O-9", "P-001", "maths", "Counts to ten"))
    refused(school, InvalidInput, "pupil_id 'Jane' is not valid: a pupil id must be a pseudonymous code",
            lambda: learning.set_outcome(school, "O-9", "Jane", "semh", "Manages change calmly"))


def test_outcome_revise_and_close_need_an_open_outcome_and_a_change(school: Ledger) -> None:
    as_(school, "KS1")
    refused(school, InvalidInput, "outcome O-1 already reads like that; nothing to revise",
            lambda: learning.revise_outcome(school, "O-1", None, None, "annual review"))
    refused(school, NotFound, "outcome O-9 does not exist",
            lambda: learning.close_outcome(school, "O-9", "achieved"))
    refused(school, InvalidInput, "reason",
            lambda: learning.close_outcome(school, "O-1", "  "))
    learning.revise_outcome(school, "O-1", "cognition-learning", None, "annual review 2024-02")
    learning.close_outcome(school, "O-1", "achieved at annual review")
    refused(school, InvalidInput, "outcome O-1 is closed",
            lambda: learning.close_outcome(school, "O-1", "achieved again"))
    refused(school, InvalidInput, "outcome O-1 is closed",
            lambda: learning.revise_outcome(school, "O-1", "semh", None, "annual review"))


# -- targets -------------------------------------------------------------------------------------
def test_target_on_a_closed_outcome_is_refused(school: Ledger) -> None:
    learning.close_outcome(as_(school, "KS1"), "O-1", "achieved at annual review")
    refused(school, InvalidInput, "outcome O-1 is closed", lambda: set_target(school))


def test_target_on_another_pupils_outcome_is_refused(school: Ledger) -> None:
    refused(school, InvalidInput, "outcome O-2 belongs to pupil P-002, not P-001",
            lambda: set_target(school, outcome="O-2"))


def test_target_on_an_unknown_outcome_or_framework_is_refused(school: Ledger) -> None:
    refused(school, NotFound, "outcome O-9 does not exist", lambda: set_target(school, outcome="O-9"))
    err = refused(school, NotFound, "framework nope does not exist; use one shipped",
                  lambda: set_target(school, framework="nope"))
    assert "engagement" in str(err) and "ledger framework add" in str(err)


def test_target_id_used_twice_is_refused(school: Ledger) -> None:
    set_target(school)
    refused(school, InvalidInput, r"target T-1 already exists \(for pupil P-001\); revise it instead",
            lambda: set_target(school, by="T2"))


def test_target_with_bad_terms_or_no_terms_is_refused(school: Ledger) -> None:
    refused(school, InvalidInput, "'2023-24/T4' is not a term", lambda: set_target(school, terms="2023-24/T4"))
    refused(school, InvalidInput, "a target needs the term", lambda: set_target(school, terms=" ; "))


@pytest.mark.parametrize("actor", ["HD", "DH", "LM", "dm1"])
def test_only_teachers_and_ks_leads_set_targets(school: Ledger, actor: str) -> None:
    refused(school, NotAllowed, f"{actor} .* may not set targets; that needs one of: teacher, ks-lead",
            lambda: set_target(school, by=actor))


def test_terms_are_stored_sorted_and_distinct(school: Ledger) -> None:
    set_target(school, terms="2023-24/T3, 2023-24/T1 2023-24/T3")
    assert target_state(school).terms == ("2023-24/T1", "2023-24/T3")


# -- approval ------------------------------------------------------------------------------------
def test_approval_by_the_member_of_staff_who_set_the_target_is_refused(school: Ledger) -> None:
    set_target(school, by="KS1")
    refused(as_(school, "KS1"), NotAllowed, "KS1 set target T-1 and may not approve it",
            lambda: learning.approve_targets(school, ["T-1"]))
    learning.approve_targets(as_(school, "KS2"), ["T-1"])
    assert target_state(school).approved_by == "KS2"


@pytest.mark.parametrize("actor", ["T2", "LM", "dm1"])
def test_approval_by_a_teacher_or_other_non_leader_is_refused(school: Ledger, actor: str) -> None:
    set_target(school)
    refused(as_(school, actor), NotAllowed, "may not approve targets; that needs one of: ks-lead, deputy-head, head",
            lambda: learning.approve_targets(school, ["T-1"]))


@pytest.mark.parametrize("actor", ["KS1", "DH", "HD"])
def test_ks_leads_deputies_and_heads_approve(school: Ledger, actor: str) -> None:
    set_target(school)
    learning.approve_targets(as_(school, actor), ["T-1"])
    assert target_state(school).approved_by == actor


def test_approving_twice_is_refused(school: Ledger) -> None:
    approved_target(school)
    refused(as_(school, "DH"), InvalidInput, r"target T-1 is already approved \(by KS1\)",
            lambda: learning.approve_targets(school, ["T-1"]))


def test_approving_several_is_all_or_nothing(school: Ledger) -> None:
    set_target(school, "T-1")
    set_target(school, "T-2", by="KS1")
    refused(as_(school, "KS1"), NotAllowed, "KS1 set target T-2",
            lambda: learning.approve_targets(school, ["T-1", "T-2"]))
    refused(school, NotFound, "target T-9 does not exist",
            lambda: learning.approve_targets(school, ["T-1", "T-9"]))
    assert target_state(school, "T-1").approved_by is None
    stored = learning.approve_targets(school, ["T-1", "T-1"])
    assert len(stored) == 1


# -- stages --------------------------------------------------------------------------------------
def test_stage_on_an_unapproved_target_is_refused(school: Ledger) -> None:
    set_target(school)
    refused(school, InvalidInput, "target T-1 is not approved yet; stages can only be recorded for approved targets",
            lambda: stage(school, "T-1", "Emerging", date(2023, 10, 1)))


def test_stage_on_an_unknown_target_is_refused(school: Ledger) -> None:
    refused(school, NotFound, "target T-9 does not exist", lambda: stage(school, "T-9", "Emerging", date(2023, 10, 1)))


@pytest.mark.parametrize("name", ["Mastery", "0", "6", "Independent", ""])
def test_stage_not_on_the_framework_is_refused(school: Ledger, name: str) -> None:
    approved_target(school)
    err = refused(school, InvalidInput, f"'{name}' is not a stage of framework engagement; use one of: Encountered, ",
                  lambda: stage(school, "T-1", name, date(2023, 10, 1)))
    assert "Mastered" in str(err)


def test_stage_names_match_in_any_case_and_are_stored_as_the_framework_spells_them(school: Ledger) -> None:
    approved_target(school)
    stage(school, "T-1", "  developing ", date(2023, 10, 1))
    assert target_state(school).stages[0].name == "Developing"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_regression_without_a_reason_is_refused(school: Ledger, reason: str | None) -> None:
    approved_target(school)
    stage(school, "T-1", "Developing", date(2023, 10, 1))
    refused(school, InvalidInput, "'Emerging' is lower than the last stage recorded \\('Developing'\\): a regression needs a reason",
            lambda: stage(school, "T-1", "Emerging", date(2023, 11, 1), reason=reason))


def test_regression_with_a_reason_is_recorded_with_it(school: Ledger) -> None:
    approved_target(school)
    stage(school, "T-1", "Developing", date(2023, 10, 1))
    stage(school, "T-1", "Emerging", date(2023, 11, 1), reason="long absence after surgery")
    [*_, last] = school.store.read_all()
    assert last.event_type == "StageRecorded" and last.data()["reason"] == "long absence after surgery"
    assert target_state(school).last_stage.index == 1


def test_same_stage_again_or_a_higher_one_needs_no_reason(school: Ledger) -> None:
    approved_target(school)
    stage(school, "T-1", "Developing", date(2023, 10, 1))
    stage(school, "T-1", "Developing", date(2023, 10, 1))
    stage(school, "T-1", "Secure", date(2023, 12, 1))
    assert [s.index for s in target_state(school).stages] == [2, 2, 3]


def test_a_too_short_reason_is_refused(school: Ledger) -> None:
    approved_target(school)
    stage(school, "T-1", "Developing", date(2023, 10, 1))
    refused(school, InvalidInput, "reason", lambda: stage(school, "T-1", "Emerging", date(2023, 11, 1), reason="ok"))


def test_stage_dated_before_the_last_one_is_refused(school: Ledger) -> None:
    approved_target(school)
    stage(school, "T-1", "Emerging", date(2023, 11, 1))
    refused(school, InvalidInput, "stages are recorded in date order: target T-1's last stage was on 2023-11-01",
            lambda: stage(school, "T-1", "Developing", date(2023, 10, 31)))
    stage(school, "T-1", "Developing", date(2023, 11, 1))  # the same day is fine


def test_stage_in_the_future_is_refused(school: Ledger, clock: FakeClock) -> None:
    approved_target(school)
    refused(school, InvalidInput, "achieved_on 2024-07-02 is in the future",
            lambda: stage(school, "T-1", "Emerging", date(2024, 7, 2)))
    stage(school, "T-1", "Emerging", date(2024, 7, 1))


def test_today_is_the_ledgers_local_date_not_utc(school: Ledger, clock: FakeClock) -> None:
    """At 23:30 UTC on 1 July it is already 2 July in London: a stage achieved that day is not in the future."""
    approved_target(school)
    clock.set(datetime(2024, 7, 1, 23, 30, tzinfo=timezone.utc))
    stage(school, "T-1", "Emerging", date(2024, 7, 2))
    refused(school, InvalidInput, "achieved_on 2024-07-03 is in the future",
            lambda: stage(school, "T-1", "Developing", date(2024, 7, 3)))


def test_a_revised_target_needs_approving_again_before_new_stages(school: Ledger) -> None:
    approved_target(school)
    stage(school, "T-1", "Emerging", date(2023, 10, 1))
    learning.revise_target(as_(school, "T2"), "T-1", "Uses a symbol to request a break, unprompted", None,
                           "moderation 2023-11-10")
    assert target_state(school).approved_by is None
    refused(school, InvalidInput, "target T-1 is not approved yet",
            lambda: stage(school, "T-1", "Developing", date(2023, 11, 20)))
    learning.approve_targets(as_(school, "DH"), ["T-1"])
    stage(school, "T-1", "Developing", date(2023, 11, 20))
    state = target_state(school)
    assert state.description == "Uses a symbol to request a break, unprompted"
    assert [s.name for s in state.stages] == ["Emerging", "Developing"]  # the earlier stage stays on the record


def test_the_reviser_counts_as_the_setter_for_approval(school: Ledger) -> None:
    """A leader who rewrites a target may not then approve their own wording."""
    approved_target(school)
    learning.revise_target(as_(school, "KS1"), "T-1", None, "2023-24/T3", "moved to the summer term")
    refused(school, NotAllowed, "KS1 set target T-1 and may not approve it",
            lambda: learning.approve_targets(school, ["T-1"]))
    learning.approve_targets(as_(school, "KS2"), ["T-1"])


def test_revision_that_changes_nothing_or_has_no_reason_is_refused(school: Ledger) -> None:
    approved_target(school)
    refused(as_(school, "T1"), InvalidInput, "target T-1 already reads like that; nothing to revise",
            lambda: learning.revise_target(school, "T-1", None, "2023-24/T3;2023-24/T1;2023-24/T2", "no change"))
    refused(school, InvalidInput, "reason",
            lambda: learning.revise_target(school, "T-1", "A new wording here", None, ""))
    refused(school, NotFound, "target T-9 does not exist",
            lambda: learning.revise_target(school, "T-9", "A new wording here", None, "typo"))
    refused(as_(school, "LM"), NotAllowed, "may not revise or withdraw targets",
            lambda: learning.revise_target(school, "T-1", "A new wording here", None, "typo"))


def test_a_withdrawn_target_refuses_stages_approval_revision_and_withdrawal(school: Ledger) -> None:
    approved_target(school)
    stage(school, "T-1", "Emerging", date(2023, 10, 1))
    learning.withdraw_target(as_(school, "KS1"), "T-1", "replaced after annual review")
    refused(school, InvalidInput, "target T-1 was withdrawn",
            lambda: stage(school, "T-1", "Developing", date(2023, 11, 1)))
    refused(as_(school, "DH"), InvalidInput, "target T-1 was withdrawn",
            lambda: learning.approve_targets(school, ["T-1"]))
    refused(school, InvalidInput, "target T-1 was withdrawn",
            lambda: learning.revise_target(school, "T-1", "A new wording here", None, "typo"))
    refused(school, InvalidInput, "target T-1 was withdrawn",
            lambda: learning.withdraw_target(school, "T-1", "again"))
    refused(school, InvalidInput, r"target T-1 already exists \(for pupil P-001\)", lambda: set_target(school))


def test_withdrawing_needs_a_reason(school: Ledger) -> None:
    set_target(school)
    refused(as_(school, "KS1"), InvalidInput, "reason", lambda: learning.withdraw_target(school, "T-1", ""))


def test_stage_refusals_across_a_longer_record(school: Ledger, clock: FakeClock) -> None:
    """Several rules at once on one record; the rules look at the latest stage, not the highest."""
    approved_target(school, framework="three-step")
    stage(school, "T-1", "Secure", date(2023, 10, 1))
    stage(school, "T-1", "Emerging", date(2023, 12, 1), reason="new medication")
    stage(school, "T-1", "Developing", date(2024, 2, 1))  # up from the last stage: no reason needed
    refused(school, InvalidInput, "lower than the last stage recorded \\('Developing'\\)",
            lambda: stage(school, "T-1", "Emerging", date(2024, 3, 1)))
    refused(school, InvalidInput, "last stage was on 2024-02-01",
            lambda: stage(school, "T-1", "Secure", date(2024, 1, 1)))


# -- imports -------------------------------------------------------------------------------------
def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refused_import(ledger: Ledger, action: Callable[[], Any], expected: list[tuple[int, str]], path: Path) -> None:
    """Every bad row reported as FILE:LINE (in line order), and nothing written."""
    err = refused(ledger, ImportRefused, "nothing was written", action)
    assert isinstance(err, ImportRefused)
    assert len(err.problems) == len(expected), err.problems
    for problem, (line, text) in zip(err.problems, expected):
        assert problem.startswith(f"{path}:{line}: "), problem
        assert re.search(text, problem), (text, problem)
    assert err.lines()[-1] == str(err)
    assert f"{len(expected)} problem" in str(err)


def test_outcome_import_reports_every_bad_row_and_writes_nothing(school: Ledger, tmp_path: Path) -> None:
    path = write(tmp_path, "outcomes.csv", "\n".join([
        "outcome_id,pupil_id,area,description",
        "O-10,P-001,semh,Manages change calmly",                       # 2 fine
        "O-11,P-999,semh,Manages change calmly",                       # 3 not on roll
        "O-12,P-001,maths,Counts to ten",                              # 4 not an area
        "O-10,P-001,semh,Manages change calmly",                       # 5 twice in file
        "O-1,P-001,semh,Something else entirely",                      # 6 recorded differently
        "O-13,Jane,semh,Manages change calmly",                        # 7 a name, not an id
        "O-14,P-002,Sensory or physical,Tolerates new textures",      # 8 fine (full name of the area)
        "O-15,P-002,semh,ab",                                          # 9 description too short
    ]) + "\n")
    refused_import(as_(school, "T1"), lambda: learning_imports.import_outcomes(school, path), [
        (3, "pupil P-999 is not on the roll"), (4, "'maths' is not an EHCP area of need"),
        (5, "outcome O-10 appears twice in the file"), (6, "outcome O-1 is recorded differently"),
        (7, "pupil_id 'Jane' is not valid"), (9, "description"),
    ], path)


def test_outcome_import_then_reimport_writes_nothing(school: Ledger, tmp_path: Path) -> None:
    path = write(tmp_path, "outcomes.csv", "outcome_id,pupil_id,area,description\n"
                 "O-10,P-001,semh,Manages change calmly\nO-1,P-001,Communication and interaction,"
                 "Requests help using a communication aid\nO-11,P-002,preparation-adulthood,Travels with support\n")
    as_(school, "T1")
    before = head(school)
    dry = learning_imports.import_outcomes(school, path, dry_run=True)
    assert dry.kinds == {"OutcomeSet": 2} and "would write 2 events" in dry.summary
    assert head(school) == before
    result = learning_imports.import_outcomes(school, path)
    assert result.kinds == {"OutcomeSet": 2}
    after = head(school)
    assert after[0] == before[0] + 2
    again = learning_imports.import_outcomes(as_(school, "KS1"), path)
    assert not again.kinds and "nothing new to write" in again.summary
    assert head(school) == after


def test_a_learning_import_takes_the_command_id_given(school: Ledger, tmp_path: Path) -> None:
    path = write(tmp_path, "outcomes.csv", "outcome_id,pupil_id,area,description\n"
                 "O-10,P-001,semh,Manages change calmly\n")
    as_(school, "T1").command_id = "outcomes-1"
    assert learning_imports.import_outcomes(school, path).kinds == {"OutcomeSet": 1}
    assert [e.stream_id for e in school.store.read_command("outcomes-1")] == ["outcome-O-10"]
    after = head(school)
    assert not learning_imports.import_outcomes(school, path).kinds  # the retry writes nothing
    assert head(school) == after
    other = write(tmp_path, "other.csv", "outcome_id,pupil_id,area,description\nO-11,P-002,semh,Travels with support\n")
    refused(school, Conflict, "command id outcomes-1 was already used for a different command",
            lambda: learning_imports.import_outcomes(school, other))


def test_target_import_reports_every_bad_row_and_writes_nothing(school: Ledger, tmp_path: Path) -> None:
    learning.set_outcome(as_(school, "T1"), "O-3", "P-001", "semh", "Closed outcome here")
    learning.close_outcome(school, "O-3", "achieved")
    set_target(school, "T-1")
    path = write(tmp_path, "targets.csv", "\n".join([
        "target_id,pupil_id,outcome_id,framework,description,terms",
        "T-10,P-001,O-1,engagement,Uses a symbol,2023-24/T1;2023-24/T2",       # 2 fine
        "T-11,P-001,O-2,engagement,Uses a symbol,2023-24/T1",                  # 3 another pupil's outcome
        "T-12,P-001,O-3,engagement,Uses a symbol,2023-24/T1",                  # 4 closed outcome
        "T-13,P-001,O-1,nope,Uses a symbol,2023-24/T1",                        # 5 unknown framework
        "T-14,P-001,O-1,engagement,Uses a symbol,2023-24/T5",                  # 6 bad term
        "T-10,P-001,O-1,engagement,Uses a symbol,2023-24/T1;2023-24/T2",       # 7 twice in file
        "T-1,P-001,O-1,engagement,Different words,2023-24/T1",                 # 8 recorded differently
        "T-15,P-001,O-9,engagement,Uses a symbol,2023-24/T1",                  # 9 unknown outcome
        "T-16,P-002,O-2,prompt,Waits for a turn,",                             # 10 no terms
    ]) + "\n")
    refused_import(as_(school, "KS1"), lambda: learning_imports.import_targets(school, path), [
        (3, "outcome O-2 belongs to pupil P-002, not P-001"), (4, "outcome O-3 is closed"),
        (5, "framework nope does not exist"), (6, "'2023-24/T5' is not a term"),
        (7, "target T-10 appears twice in the file"), (8, "target T-1 is recorded differently"),
        (9, "outcome O-9 does not exist"), (10, "a target needs the term"),
    ], path)


def test_target_import_then_reimport_writes_nothing(school: Ledger, tmp_path: Path) -> None:
    set_target(school, "T-1", terms="2023-24/T2;2023-24/T1;2023-24/T3")
    path = write(tmp_path, "targets.csv", "target_id,pupil_id,outcome_id,framework,description,terms\n"
                 "T-1,P-001,O-1,engagement,Uses a symbol to request a break,2023-24/T1;2023-24/T2;2023-24/T3\n"
                 "T-2,P-002,O-2,three-step,Waits for a turn,2023-24/T3;2023-24/T2\n")
    as_(school, "KS1")
    before = head(school)
    result = learning_imports.import_targets(school, path)
    assert result.kinds == {"TargetSet": 1}
    after = head(school)
    assert after[0] == before[0] + 1
    state = target_state(school, "T-2")
    assert state.terms == ("2023-24/T2", "2023-24/T3") and state.set_by == "KS1" and state.approved_by is None
    assert "nothing new to write" in learning_imports.import_targets(school, path).summary
    assert head(school) == after


def test_target_import_needs_the_right_role(school: Ledger, tmp_path: Path) -> None:
    path = write(tmp_path, "targets.csv", "target_id,pupil_id,outcome_id,framework,description,terms\n"
                 "T-2,P-002,O-2,three-step,Waits for a turn,2023-24/T3\n")
    refused(as_(school, "HD"), NotAllowed, "may not set targets", lambda: learning_imports.import_targets(school, path))


def test_stage_import_reports_every_bad_row_and_writes_nothing(school: Ledger, tmp_path: Path) -> None:
    approved_target(school, "T-1")
    approved_target(school, "T-2", pupil="P-002", outcome="O-2", framework="three-step")
    set_target(school, "T-3")  # not approved
    stage(school, "T-1", "Developing", date(2023, 10, 1))
    path = write(tmp_path, "stages.csv", "\n".join([
        "target_id,stage,achieved_on,note,reason",
        "T-2,Secure,2023-12-01,5 of 5 sessions,",                  # 2 fine
        "T-2,Emerging,2024-01-10,,",                               # 3 regression, no reason
        "T-1,Secure,2023-11-01,,",                                 # 4 fine
        "T-1,Mastery,2023-12-01,,",                                # 5 not a stage
        "T-3,Emerging,2023-10-01,,",                               # 6 not approved
        "T-9,Emerging,2023-10-01,,",                               # 7 unknown target
        "T-1,Emerging,2023-09-15,,illness",                        # 8 before the last stage (2023-10-01)
        "T-1,Secure,2024-07-02,,",                                 # 9 future
        "T-1,Secure,2024-13-01,,",                                 # 10 not a date
        "T-2,Developing,2024-02-10,3 of 5,long absence",           # 11 fine: regression with a reason
    ]) + "\n")
    refused_import(as_(school, "T2"), lambda: learning_imports.import_stages(school, path), [
        (3, "lower than the last stage recorded \\('Secure'\\)"), (5, "'Mastery' is not a stage"),
        (6, "target T-3 is not approved yet"), (7, "target T-9 does not exist"),
        (8, "stages are recorded in date order"), (9, "achieved_on 2024-07-02 is in the future"),
        (10, "achieved_on '2024-13-01' is not a date"),
    ], path)


def test_stage_import_sorts_by_date_then_reimport_writes_nothing(school: Ledger, tmp_path: Path) -> None:
    approved_target(school, "T-1")
    approved_target(school, "T-2", pupil="P-002", outcome="O-2", framework="three-step")
    stage(school, "T-1", "Encountered", date(2023, 9, 20))
    path = write(tmp_path, "stages.csv", "\n".join([
        "target_id,stage,achieved_on,note,reason",
        "T-1,Secure,2024-03-01,,",
        "T-1,Encountered,2023-09-20,,",                            # already recorded
        "T-2,Secure,2023-12-01,5 of 5 sessions,",
        "T-1,Developing,2023-11-01,,",
        "T-2,Emerging,2024-01-10,,long absence",
        "T-1,emerging,2023-10-01,,",
    ]) + "\n")
    as_(school, "T2")
    before = head(school)
    result = learning_imports.import_stages(school, path)
    assert result.kinds == {"StageRecorded": 5}
    after = head(school)
    assert after[0] == before[0] + 5
    assert [(s.name, s.achieved_on) for s in target_state(school, "T-1").stages] == [
        ("Encountered", date(2023, 9, 20)), ("Emerging", date(2023, 10, 1)), ("Developing", date(2023, 11, 1)),
        ("Secure", date(2024, 3, 1))]
    assert [s.index for s in target_state(school, "T-2").stages] == [2, 0]
    again = learning_imports.import_stages(as_(school, "KS1"), path)
    assert not again.kinds and "nothing new to write" in again.summary
    assert head(school) == after


def test_stage_import_dry_run_writes_nothing(school: Ledger, tmp_path: Path) -> None:
    approved_target(school, "T-1")
    path = write(tmp_path, "stages.csv", "target_id,stage,achieved_on\nT-1,Emerging,2023-10-01\n")
    before = head(as_(school, "T1"))
    result = learning_imports.import_stages(school, path, dry_run=True)
    assert result.kinds == {"StageRecorded": 1} and result.summary.endswith("would write 1 events (1 StageRecorded)")
    assert head(school) == before


@pytest.mark.parametrize("text, message", [
    ("target_id,stage\nT-1,Emerging\n", r":1: missing column\(s\) achieved_on"),
    ("target_id,stage,achieved_on,colour\nT-1,Emerging,2023-10-01,red\n", r":1: unknown column\(s\) colour"),
    ("target_id,stage,achieved_on\n", "no data rows"),
    ("", "no header row"),
])
def test_stage_import_with_a_bad_header_or_no_rows_is_refused(school: Ledger, tmp_path: Path, text: str,
                                                               message: str) -> None:
    path = write(tmp_path, "stages.csv", text)
    before = head(as_(school, "T1"))
    with pytest.raises(InvalidInput) as caught:
        learning_imports.import_stages(school, path)
    assert re.search(message, "\n".join(caught.value.lines()))
    assert all(line.startswith(str(path)) or line.startswith("import of") for line in caught.value.lines())
    assert head(school) == before


# -- the termly review's evidence flags ----------------------------------------------------------
def test_end_of_year_review_flags_every_thin_target_of_the_year(school: Ledger) -> None:
    """The school looks for at least 3 distinct stages on each target's record: the summer review
    flags a target set for the autumn only as well as one still running in the summer."""
    from ledger.services import learning_queries

    approved_target(school, "T-1", terms="2023-24/T1")                       # autumn only: 2 stages
    stage(school, "T-1", "Emerging", date(2023, 10, 2))
    stage(school, "T-1", "Developing", date(2023, 12, 2))
    approved_target(school, "T-2", terms="2023-24/T2;2023-24/T3")            # summer too: 1 stage
    stage(school, "T-2", "Emerging", date(2024, 2, 2))
    approved_target(school, "T-3", terms="2023-24/T1")                       # autumn only: 3 stages
    for name, day in [("Emerging", date(2023, 9, 20)), ("Developing", date(2023, 11, 2)), ("Secure", date(2023, 12, 2))]:
        stage(school, "T-3", name, day)
    set_target(school, "T-4", terms="2023-24/T1")                           # never approved: no stages expected
    approved_target(school, "T-5", terms="2023-24/T1")                       # withdrawn: no longer expected
    learning.withdraw_target(as_(school, "KS1"), "T-5", "replaced in October")
    approved_target(school, "T-6", terms="2022-23/T3")                       # last year's
    summer = learning_queries.review(school, Term.parse("2023-24/T3"))
    [line] = [line for line in summer.lines if line.pupil_id == "P-001"]
    assert "fewer than 3 distinct stages recorded this year: T-1, T-2" in line.flags
    assert (line.targets, line.approved) == (1, 1)  # the counts are still this term's targets (T-2)
    autumn = learning_queries.review(school, Term.parse("2023-24/T1"))
    assert not [f for line in autumn.lines for f in line.flags if "distinct stages" in f]
