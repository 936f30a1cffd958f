"""Service-level rules through the ``ledger`` fixture, on every store.

Every refusal must say what is wrong in one line AND leave the ledger exactly as it was: the head
position and hash, and the head recorded beside the log, are compared before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.bootstrap import ledger_for_store
from ledger.domain.calendar import Term
from ledger.errors import Conflict, ImportRefused, InvalidInput, LedgerError, NotAllowed, NotFound, StoreError
from ledger.events import judgement_stream
from ledger.services import commands, imports, queries
from ledger.services.context import Ledger
from ledger.store import open_store
from ledger.store.base import EventStore

T1, T2, T3 = (Term.parse(f"2023-24/T{n}") for n in (1, 2, 3))
NEXT_T1 = Term.parse("2024-25/T1")
FAR = Term.parse("2025-26/T1")  # after the end of next academic year: the clock is in 2023-24
STAFF = {"T.AJ": "teacher", "LM1": "line-manager", "KS.LEAD": "ks-lead", "DH1": "deputy-head", "HT1": "head"}
ROLE_OF = {"dm1": "data-manager", **STAFF}
ACTOR_FOR = {role: actor for actor, role in ROLE_OF.items()}
ROLL = (
    "pupil_id,class,enrolled_on,left_on\n"
    "P-0001,1AJ,2023-09-04,\n"
    "P-0002,1AJ,2023-09-04,2024-01-07\n"
    "P-0002,2MD,2024-01-08,\n"
    "P-0003,3CW,2023-09-04,2024-03-28\n"
)


@dataclass
class School:
    ledger: Ledger
    folder: Path
    judged_at: int = 0  # position of P-0001's 2023-24/T1 judgement

    @property
    def store(self) -> EventStore:
        return self.ledger.store

    def as_(self, actor: str | None) -> Ledger:
        return ledger_for_store(self.store, None, actor=actor)

    def csv(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def state(self) -> tuple[int, str, tuple[int, str]]:
        head = self.store.head()
        return head.position, head.hash, self.store.recorded_head()


@pytest.fixture
def school(ledger: Ledger, tmp_path: Path) -> School:
    """Staff in every role, three classes (3CW closed after T2), school T1 dates, four placements
    and one recorded judgement (P-0001, 2023-24/T1, appropriate). The clock is in 2023-24/T3."""
    s = School(ledger, tmp_path)
    for staff_id, role in STAFF.items():
        commands.add_staff(ledger, staff_id, role)
    commands.open_class(ledger, "1AJ", "EYFS/KS1", None, T1)
    commands.open_class(ledger, "2MD", "KS1/KS2", "PMLD", T1)
    commands.open_class(ledger, "3CW", "KS3", None, T1)
    commands.close_class(ledger, "3CW", T2)
    commands.set_term_dates(ledger, T1, date(2023, 9, 4), date(2023, 12, 20))
    imports.import_pupils(ledger, s.csv("roll.csv", ROLL))
    s.judged_at = commands.record_judgement(s.as_("T.AJ"), "P-0001", T1, "appropriate")[0].position
    return s


def test_the_school_fixture_is_what_the_tests_assume(school: School) -> None:
    # 2 (init) + 5 staff + 3 classes opened + 1 closed + 1 term + 5 placements + 1 judgement
    assert queries.verify(school.ledger) == school.store.head().position == school.judged_at == 18
    assert school.ledger.current_term() == T3
    assert school.ledger.judgement("P-0001", T1)[1].status == "appropriate"


# -- every rule refused, nothing written ----------------------------------------------------

Action = Callable[[School], Any]


def record(actor: str, pupil: str, term: Term, status: str, reason: str | None = None, class_id: str | None = None) -> Action:
    return lambda s: commands.record_judgement(s.as_(actor), pupil, term, status, reason, class_id)


def revise(actor: str, pupil: str, term: Term, status: str, reason: str | None) -> Action:
    return lambda s: commands.revise_judgement(s.as_(actor), pupil, term, status, reason)


REFUSALS: dict[str, tuple[Action, type[LedgerError], str]] = {
    # staff
    "teacher adds staff": (lambda s: commands.add_staff(s.as_("T.AJ"), "X1", "teacher"), NotAllowed,
                           "T.AJ (teacher) may not add staff; that needs one of: head, data-manager"),
    "deputy adds staff": (lambda s: commands.add_staff(s.as_("DH1"), "X1", "teacher"), NotAllowed, "may not add staff"),
    "unregistered actor": (lambda s: commands.add_staff(s.as_("ghost"), "X1", "teacher"), NotAllowed,
                           "'ghost' is not a registered member of staff"),
    "no actor": (lambda s: commands.add_staff(s.as_(None), "X1", "teacher"), NotAllowed, "no actor given"),
    "staff registered twice": (lambda s: commands.add_staff(s.ledger, "T.AJ", "head"), InvalidInput,
                               "staff member T.AJ is already registered as teacher"),
    "unknown role": (lambda s: commands.add_staff(s.ledger, "X1", "caretaker"), InvalidInput, "role 'caretaker' is not valid"),
    "bad staff id": (lambda s: commands.add_staff(s.ledger, "Mr Jones", "teacher"), InvalidInput, "staff_id 'Mr Jones' is not valid"),
    # classes
    "teacher opens a class": (lambda s: commands.open_class(s.as_("T.AJ"), "4AB", "KS2"), NotAllowed,
                              "may not open or close classes"),
    "class opened twice": (lambda s: commands.open_class(s.ledger, "1AJ", "KS1", None, T2), InvalidInput,
                           "class 1AJ is already open"),
    "phase typo": (lambda s: commands.open_class(s.ledger, "4AB", "EFYS/KS1", None, T2), InvalidInput, "did you mean EYFS?"),
    "bad class id": (lambda s: commands.open_class(s.ledger, "Class 4", "KS2", None, T2), InvalidInput, "class_id 'Class 4' is not valid"),
    "close unknown class": (lambda s: commands.close_class(s.ledger, "9ZZ", T3), NotFound, "class 9ZZ does not exist"),
    "close twice": (lambda s: commands.close_class(s.ledger, "3CW", T3), InvalidInput, "already closed after 2023-24/T2"),
    "close before opening": (lambda s: commands.close_class(s.ledger, "1AJ", Term.parse("2022-23/T3")), InvalidInput,
                             "cannot close after 2022-23/T3"),
    "ks-lead closes a class": (lambda s: commands.close_class(s.as_("KS.LEAD"), "1AJ", T3), NotAllowed, "may not open or close"),
    "close with pupils on the roll after": (lambda s: commands.close_class(s.ledger, "1AJ", T1), InvalidInput,
                                            "class 1AJ still has pupils on its roll after 2023-24/T1 (P-0001, P-0002); "
                                            "move them to another class or record their leaving"),
    "class opened too far ahead": (lambda s: commands.open_class(s.ledger, "4AB", "KS2", None, FAR), InvalidInput,
                                   "2025-26/T1 is too far ahead: a class can open from a term up to the end of next "
                                   "academic year (2024-25); check the year"),
    "class closed too far ahead": (lambda s: commands.close_class(s.ledger, "1AJ", FAR), InvalidInput,
                                   "2025-26/T1 is too far ahead: a class can close after a term up to the end"),
    # term dates
    "term dates too far ahead": (lambda s: commands.set_term_dates(s.ledger, FAR, date(2025, 9, 3), date(2025, 12, 19)),
                                 InvalidInput, "2025-26/T1 is too far ahead: term dates can be set for a term"),
    # term dates
    "teacher sets term dates": (lambda s: commands.set_term_dates(s.as_("T.AJ"), T2, date(2024, 1, 8), date(2024, 3, 28)),
                                NotAllowed, "may not open or close classes, set term dates"),
    "term dates overlap": (lambda s: commands.set_term_dates(s.ledger, T2, date(2023, 12, 18), date(2024, 3, 28)),
                           InvalidInput, "overlaps 2023-24/T1"),
    "term dates outside the year": (lambda s: commands.set_term_dates(s.ledger, T3, date(2024, 4, 15), date(2024, 9, 3)),
                                    InvalidInput, "inside the academic year"),
    "term ends before it starts": (lambda s: commands.set_term_dates(s.ledger, T2, date(2024, 3, 28), date(2024, 1, 8)),
                                   InvalidInput, "is after end"),
    # recording judgements
    "record by unregistered actor": (record("ghost", "P-0002", T1, "appropriate"), NotAllowed, "not a registered member"),
    "record for a pupil not on roll": (record("T.AJ", "P-9999", T1, "appropriate"), InvalidInput,
                                       "pupil P-9999 is not on the roll"),
    "record under a name": (record("T.AJ", "Jane Smith", T1, "appropriate"), InvalidInput, "never a name"),
    "smaller steps without reason": (record("T.AJ", "P-0002", T1, "smaller-steps"), InvalidInput,
                                     "smaller-steps judgement needs a reason"),
    "smaller steps with blank reason": (record("T.AJ", "P-0002", T1, "smaller-steps", "   "), InvalidInput, "needs a reason"),
    "smaller steps with an invisible reason": (record("T.AJ", "P-0002", T1, "smaller-steps", "\u200b\u200b\u200b"),
                                               InvalidInput, "smaller-steps judgement needs a reason"),
    "reason of too few visible characters": (record("T.AJ", "P-0002", T1, "appropriate", "\u200bok\u200b"), InvalidInput,
                                             "reason '\u200bok\u200b' needs at least 3 visible characters"),
    "reason with a control character": (record("T.AJ", "P-0002", T1, "smaller-steps", "long\x07absence"), InvalidInput,
                                        "reason 'long\x07absence' has a line break or other control character (U+0007); "
                                        "write it as one line of plain text"),
    "unknown status": (record("T.AJ", "P-0002", T1, "excellent"), InvalidInput, "status 'excellent' is not valid"),
    "second judgement": (record("T.AJ", "P-0001", T1, "smaller-steps", "absence"), InvalidInput,
                         "P-0001 already has a judgement for 2023-24/T1 (appropriate); use 'ledger judgement revise'"),
    "term not started": (record("T.AJ", "P-0001", NEXT_T1, "appropriate"), InvalidInput,
                         "2024-25/T1 has not started yet (it starts 2024-09-01)"),
    "pupil not on the class roll": (record("T.AJ", "P-0001", T2, "appropriate", class_id="2MD"), InvalidInput,
                                    "pupil P-0001 is not on the roll of 2MD in 2023-24/T2"),
    "pupil moved out before the term": (record("T.AJ", "P-0002", T3, "appropriate", class_id="1AJ"), InvalidInput,
                                        "pupil P-0002 is not on the roll of 1AJ in 2023-24/T3"),
    "pupil left before the term": (record("T.AJ", "P-0003", T3, "appropriate"), InvalidInput,
                                   "pupil P-0003 is not on the roll of any class in 2023-24/T3"),
    "class closed in the term": (record("T.AJ", "P-0003", T3, "appropriate", class_id="3CW"), InvalidInput,
                                 "class 3CW is not open in 2023-24/T3"),
    "unknown class": (record("T.AJ", "P-0001", T2, "appropriate", class_id="9ZZ"), NotFound, "class 9ZZ does not exist"),
    # revising judgements
    "teacher revises": (revise("T.AJ", "P-0001", T1, "smaller-steps", "moderation"), NotAllowed,
                        "T.AJ (teacher) may not revise judgements; that needs one of: line-manager, ks-lead, deputy-head, head"),
    "data manager revises": (revise("dm1", "P-0001", T1, "smaller-steps", "moderation"), NotAllowed,
                             "dm1 (data-manager) may not revise judgements"),
    "revise what was never recorded": (revise("KS.LEAD", "P-0002", T1, "smaller-steps", "moderation"), NotFound,
                                       "pupil P-0002 has no judgement for 2023-24/T1 to revise"),
    "revise without reason": (revise("KS.LEAD", "P-0001", T1, "smaller-steps", None), InvalidInput,
                              "a revision needs a reason"),
    "revise with blank reason": (revise("KS.LEAD", "P-0001", T1, "smaller-steps", "  "), InvalidInput, "needs a reason"),
    "revise with an invisible reason": (revise("KS.LEAD", "P-0001", T1, "smaller-steps", "\u2060\u200b\ufeff"),
                                        InvalidInput, "a revision needs a reason"),
    "revise under a name": (revise("KS.LEAD", "Jane Smith", T1, "smaller-steps", "moderation"), InvalidInput, "never a name"),
    "revise to the same status": (revise("KS.LEAD", "P-0001", T1, "appropriate", "moderation"), InvalidInput,
                                  "is already appropriate; nothing to revise"),
    # the ledger itself
    "init twice": (lambda s: commands.init(s.ledger), StoreError, "is already a ledger; nothing was changed"),
    # imports: all or nothing
    "teacher imports pupils": (lambda s: imports.import_pupils(s.as_("T.AJ"), s.csv("p.csv", ROLL)), NotAllowed,
                               "may not open or close classes, set term dates or import pupils"),
    "pupil import with bad rows": (
        lambda s: imports.import_pupils(s.ledger, s.csv("p.csv", (
            "pupil_id,class,enrolled_on,left_on\n"
            "P-0100,1AJ,2024-04-15,\n"            # fine on its own
            "Jane Smith,1AJ,2024-04-15,\n"
            "P-0101,9ZZ,2024-04-15,\n"
            "P-0102,1AJ,2024-02-30,\n"
            "P-0103,1AJ,2024-04-15,2024-04-01\n"
            "P-0001,2MD,2023-09-01,\n"           # contradicts the recorded enrolment
        ))),
        ImportRefused, "import of {folder}/p.csv refused: 5 problems, nothing was written",
    ),
    "judgement change without --revise": (
        lambda s: imports.import_judgements(s.as_("T.AJ"), s.csv("j.csv", (
            "pupil_id,class,term,status,reason\n"
            "P-0002,1AJ,2023-24/T1,appropriate,\n"
            "P-0001,1AJ,2023-24/T1,smaller-steps,absence\n"
        ))),
        ImportRefused, "refused: 1 problem, nothing was written",
    ),
    "judgement import by unregistered actor": (
        lambda s: imports.import_judgements(s.as_("ghost"), s.csv("j.csv", "pupil_id,class,term,status,reason\n")),
        NotAllowed, "'ghost' is not a registered member",
    ),
    "teacher imports revisions": (
        lambda s: imports.import_judgements(
            s.as_("T.AJ"), s.csv("j.csv", "pupil_id,class,term,status,reason\nP-0001,1AJ,2023-24/T1,smaller-steps,x y\n"),
            revise_reason="moderation",
        ),
        NotAllowed, "may not revise judgements",
    ),
    "revisions import without reason": (
        lambda s: imports.import_judgements(
            s.as_("KS.LEAD"), s.csv("j.csv", "pupil_id,class,term,status,reason\nP-0001,1AJ,2023-24/T1,smaller-steps,abc\n"),
            revise_reason=" ",
        ),
        InvalidInput, "--revise needs --reason TEXT",
    ),
    "revisions import with an invisible reason": (
        lambda s: imports.import_judgements(
            s.as_("KS.LEAD"), s.csv("j.csv", "pupil_id,class,term,status,reason\nP-0001,1AJ,2023-24/T1,smaller-steps,abc\n"),
            revise_reason="\u200b\u200b\u200b",
        ),
        InvalidInput, "--revise needs --reason TEXT",
    ),
    "enrolment more than a year ahead": (
        lambda s: imports.import_pupils(s.ledger, s.csv("p.csv", "pupil_id,class,enrolled_on\nP-0100,1AJ,2025-07-02\n")),
        ImportRefused, "import of {folder}/p.csv refused: 1 problem, nothing was written",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_are_clear_and_write_nothing(school: School, case: str) -> None:
    action, error, message = REFUSALS[case]
    message = message.format(folder=school.folder)
    before = school.state()

    with pytest.raises(error) as caught:
        action(school)

    text = str(caught.value)
    assert message in text
    assert all("\n" not in line and line for line in caught.value.lines())
    assert school.state() == before
    assert queries.verify(school.ledger) == before[0]


def test_a_refused_import_lists_every_bad_row_by_file_and_line(school: School) -> None:
    path = school.csv("p.csv", (
        "pupil_id,class,enrolled_on,left_on\n"
        "P-0100,1AJ,2024-04-15,\n"
        "Jane Smith,1AJ,2024-04-15,\n"
        "P-0101,9ZZ,2024-04-15,\n"
        "P-0102,1AJ,2024-02-30,\n"
        "P-0103,1AJ,2024-04-15,2024-04-01\n"
        "P-0001,2MD,2023-09-01,\n"
    ))
    before = school.state()
    with pytest.raises(ImportRefused) as caught:
        imports.import_pupils(school.ledger, path)
    problems = caught.value.problems
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:{n}" for n in (3, 4, 5, 6, 7)]
    assert "never a name" in problems[0]
    assert "class 9ZZ does not exist" in problems[1]
    assert "enrolled_on '2024-02-30' is not a date" in problems[2]
    assert "left_on 2024-04-01 is before enrolled_on 2024-04-15" in problems[3]
    assert "conflicts with it" in problems[4]
    assert school.state() == before
    assert school.ledger.pupil("P-0100")[1].placements == ()


def test_a_class_closes_once_nothing_of_it_is_left_after_the_term(school: School) -> None:
    commands.set_term_dates(school.ledger, T3, date(2024, 4, 15), date(2024, 7, 19))
    commands.record_judgement(school.as_("T.AJ"), "P-0001", T2, "appropriate")
    before = school.state()
    with pytest.raises(InvalidInput) as caught:
        commands.close_class(school.ledger, "1AJ", T1)
    assert str(caught.value) == ("class 1AJ has judgements recorded for terms after 2023-24/T1 (1 in 2023-24/T2); "
                                 "close it after 2023-24/T2 or later")
    with pytest.raises(InvalidInput) as caught:
        commands.close_class(school.ledger, "1AJ", T2)
    assert str(caught.value) == (
        "class 1AJ still has pupils on its roll after 2023-24/T2 (P-0001); move them to another class or record "
        "their leaving with 'ledger import pupils' first, or close it after a later term")
    assert school.state() == before
    # P-0001 leaves in the Easter holiday, before the summer term starts: then 1AJ can close after T2
    imports.import_pupils(school.ledger, school.csv("left.csv", "pupil_id,class,enrolled_on,left_on\n"
                                                               "P-0001,1AJ,2023-09-04,2024-04-12\n"))
    [closed] = commands.close_class(school.ledger, "1AJ", T2)
    assert closed.event_type == "ClassClosed"
    report = queries.report(school.ledger, "2023-24")
    [aj] = [row for block in report.phases for row in block.classes if row.class_id == "1AJ"]
    assert (aj.terms["T2"].state, aj.terms["T2"].appropriate, aj.terms["T3"].state) == ("recorded", 1, "not_open")


def test_enrolments_and_leavings_up_to_a_year_ahead(school: School) -> None:
    # the clock stands at 2024-07-01: a year on is 2025-07-01, and no further
    ahead = school.csv("ahead.csv", "pupil_id,class,enrolled_on,left_on\n"
                                    "P-0100,1AJ,2025-07-01,\nP-0101,1AJ,2024-09-02,2025-07-02\nP-0102,1AJ,2099-01-01,\n")
    before = school.state()
    with pytest.raises(ImportRefused) as caught:
        imports.import_pupils(school.ledger, ahead)
    assert caught.value.problems == [
        f"{ahead}:3: left_on 2025-07-02 is more than a year after today (2024-07-01); check the date",
        f"{ahead}:4: enrolled_on 2099-01-01 is more than a year after today (2024-07-01); check the date",
    ]
    assert school.state() == before
    assert imports.import_pupils(school.ledger, school.csv("ok.csv", "pupil_id,class,enrolled_on,left_on\n"
                                                                     "P-0100,1AJ,2025-07-01,\n")).written == 1


# -- writes that change nothing --------------------------------------------------------------


def test_setting_the_same_term_dates_again_writes_nothing(school: School) -> None:
    before = school.state()
    assert commands.set_term_dates(school.ledger, T1, date(2023, 9, 4), date(2023, 12, 20)) == []
    assert school.state() == before


def test_importing_the_same_roll_twice_writes_nothing(school: School) -> None:
    before = school.state()
    result = imports.import_pupils(school.ledger, school.csv("again.csv", ROLL))
    assert result.written == 0 and not result.kinds
    assert school.state() == before


def test_importing_the_same_judgements_twice_writes_nothing(school: School) -> None:
    path = school.csv("j.csv", (
        "pupil_id,class,term,status,reason\n"
        "P-0001,1AJ,2023-24/T1,appropriate,\n"
        "P-0002,1AJ,2023-24/T1,smaller-steps,long absence\n"
    ))
    teacher = school.as_("T.AJ")
    first = imports.import_judgements(teacher, path)
    assert first.written == 1 and dict(first.kinds) == {"JudgementRecorded": 1}
    after_first = school.state()
    again = imports.import_judgements(teacher, path)
    assert again.written == 0
    assert school.state() == after_first


def test_a_dry_run_writes_nothing(school: School) -> None:
    before = school.state()
    path = school.csv("j.csv", "pupil_id,class,term,status,reason\nP-0002,1AJ,2023-24/T1,appropriate,\n")
    result = imports.import_judgements(school.as_("T.AJ"), path, dry_run=True)
    assert result.dry_run and result.written == 1
    assert school.state() == before


def test_a_retried_command_writes_once(school: School) -> None:
    def teacher() -> Ledger:
        return ledger_for_store(school.store, None, actor="T.AJ", command_id="cmd-42")

    first = commands.record_judgement(teacher(), "P-0002", T1, "smaller-steps", "long absence")
    after = school.state()
    # The reply was lost and the same command is sent again with the same id. Whether the service
    # answers with the stored events or says the judgement is already there, nothing more is written.
    try:
        again = commands.record_judgement(teacher(), "P-0002", T1, "smaller-steps", "long absence")
    except LedgerError as exc:
        assert "already has a judgement" in str(exc)
    else:
        assert again == first
    assert school.state() == after
    # at the store, the retry is recognised by its id even though the stream has moved on
    write = school.ledger.write(judgement_stream("P-0002", str(T1)), 0, [first[0].to_event()])
    assert school.store.append([write], actor="T.AJ", command_id="cmd-42") == first
    assert school.state() == after


# -- what every role may do, end to end -----------------------------------------------------


@pytest.mark.parametrize("role", list(ACTOR_FOR))
def test_each_role_can_record_a_judgement(school: School, role: str) -> None:
    stored = commands.record_judgement(school.as_(ACTOR_FOR[role]), "P-0002", T1, "appropriate")
    assert stored[0].actor == ACTOR_FOR[role]
    assert stored[0].stream_id == judgement_stream("P-0002", "2023-24/T1")


def test_revising_is_for_line_managers_and_above(school: School) -> None:
    status, in_force = "appropriate", school.judged_at
    for role, actor in ACTOR_FOR.items():
        before = school.state()
        wanted = "smaller-steps" if status == "appropriate" else "appropriate"
        if role in {"line-manager", "ks-lead", "deputy-head", "head"}:
            stored = commands.revise_judgement(school.as_(actor), "P-0001", T1, wanted, f"moderation by {actor}")
            revision = stored[0].to_event()
            assert (revision.previous_status, revision.status) == (status, wanted)
            assert revision.supersedes_position == in_force
            status, in_force = wanted, stored[0].position
        else:
            with pytest.raises(NotAllowed, match=f"{actor} \\({role}\\) may not revise judgements"):
                commands.revise_judgement(school.as_(actor), "P-0001", T1, wanted, "moderation")
            assert school.state() == before
    assert school.ledger.judgement("P-0001", T1)[1].status == status == "appropriate"  # four revisions
    assert len(school.store.read_stream(judgement_stream("P-0001", "2023-24/T1"))) == 5


def test_managing_the_school_is_for_the_data_manager_head_and_deputy(school: School) -> None:
    for n, (role, actor) in enumerate(ACTOR_FOR.items()):
        before = school.state()
        if role in {"data-manager", "head", "deputy-head"}:
            commands.open_class(school.as_(actor), f"4A{n}", "KS2", None, T3)
            commands.close_class(school.as_(actor), f"4A{n}", T3)
            commands.set_term_dates(school.as_(actor), T2, date(2024, 1, 8 + n), date(2024, 3, 28))
            assert school.state()[0] == before[0] + 3
        else:
            for attempt in (
                lambda: commands.open_class(school.as_(actor), f"4A{n}", "KS2", None, T3),
                lambda: commands.close_class(school.as_(actor), "1AJ", T3),
                lambda: commands.set_term_dates(school.as_(actor), T2, date(2024, 1, 8), date(2024, 3, 28)),
                lambda: imports.import_pupils(school.as_(actor), school.csv("roll.csv", ROLL)),
            ):
                with pytest.raises(NotAllowed, match=f"{actor} \\({role}\\) may not open or close classes"):
                    attempt()
            assert school.state() == before


def test_adding_staff_is_for_the_data_manager_and_head(school: School) -> None:
    for role, actor in ACTOR_FOR.items():
        before = school.state()
        new_id = f"NEW.{role}"
        if role in {"data-manager", "head"}:
            commands.add_staff(school.as_(actor), new_id, "teacher")
            assert school.ledger.staff(new_id)[1].role == "teacher"
        else:
            with pytest.raises(NotAllowed, match=f"{actor} \\({role}\\) may not add staff"):
                commands.add_staff(school.as_(actor), new_id, "teacher")
            assert school.state() == before


# -- optimistic concurrency ------------------------------------------------------------------


def racing(store_url: str, clock: Any, actor: str, other: Callable[[], Any]) -> Ledger:
    """A Ledger on its own connection to the database, whose first append is beaten to it by
    ``other`` (run between the reads it decided on and its write)."""
    store = open_store(store_url, clock=clock)
    real_append = store.append

    def append_after_the_other(*args: Any, **kwargs: Any) -> Any:
        other()
        return real_append(*args, **kwargs)

    store.append = append_after_the_other  # type: ignore[method-assign]
    return ledger_for_store(store, None, actor=actor)


def test_two_ledgers_recording_the_same_judgement_one_conflicts(school: School, store_url: str, clock: Any) -> None:
    winner = ledger_for_store(open_store(store_url, clock=clock), None, actor="KS.LEAD")
    loser = racing(store_url, clock, "T.AJ", lambda: commands.record_judgement(winner, "P-0002", T1, "appropriate"))
    try:
        with pytest.raises(Conflict, match="judgement-P-0002-2023-24/T1 changed while you were working"):
            commands.record_judgement(loser, "P-0002", T1, "smaller-steps", "long absence")
        events = school.store.read_stream(judgement_stream("P-0002", "2023-24/T1"))
        assert [(e.actor, e.to_event().status) for e in events] == [("KS.LEAD", "appropriate")]
        assert queries.verify(school.ledger) == school.judged_at + 1
    finally:
        winner.close()
        loser.close()


def test_two_ledgers_revising_the_same_judgement_one_conflicts(school: School, store_url: str, clock: Any) -> None:
    winner = ledger_for_store(open_store(store_url, clock=clock), None, actor="KS.LEAD")
    loser = racing(
        store_url, clock, "DH1",
        lambda: commands.revise_judgement(winner, "P-0001", T1, "smaller-steps", "moderation by KS lead"),
    )
    try:
        with pytest.raises(Conflict, match="changed while you were working"):
            commands.revise_judgement(loser, "P-0001", T1, "smaller-steps", "moderation by deputy")
        events = school.store.read_stream(judgement_stream("P-0001", "2023-24/T1"))
        assert [e.actor for e in events] == ["T.AJ", "KS.LEAD"]
        # the loser reloads: the judgement is already what they wanted, so nothing more to do
        with pytest.raises(InvalidInput, match="already smaller-steps"):
            commands.revise_judgement(school.as_("DH1"), "P-0001", T1, "smaller-steps", "moderation by deputy")
    finally:
        winner.close()
        loser.close()


def test_two_imports_racing_on_the_same_pupil_one_conflicts(school: School, store_url: str, clock: Any) -> None:
    roll = school.csv("late.csv", "pupil_id,class,enrolled_on,left_on\nP-0001,1AJ,2023-09-04,2024-05-24\n")
    other_roll = school.csv("move.csv", "pupil_id,class,enrolled_on,left_on\nP-0001,1AJ,2023-09-04,2024-04-30\nP-0001,2MD,2024-05-01,\n")
    winner = ledger_for_store(open_store(store_url, clock=clock), None, actor="HT1")
    loser = racing(store_url, clock, "DH1", lambda: imports.import_pupils(winner, other_roll))
    try:
        with pytest.raises(Conflict):
            imports.import_pupils(loser, roll)
        state = school.ledger.pupil("P-0001")[1]
        assert [p.class_id for p in state.placements] == ["1AJ", "2MD"]
    finally:
        winner.close()
        loser.close()
