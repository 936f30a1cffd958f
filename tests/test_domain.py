"""Unit tests for the rules in ``ledger/domain`` and the event models: no database involved."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ledger.domain.calendar import AcademicYear, Calendar, Term, parse_date, parse_instant, zone
from ledger.domain.classes import (
    ClassState, check_empty_after, decide_close, decide_open, fold_class, normalise_phase, require_class, require_open,
)
from ledger.domain.horizon import check_date_ahead, check_term_ahead, one_year_after
from ledger.domain.judgements import (
    JudgementState, check_status, decide_record, decide_revise, fold_judgement, judged_class,
)
from ledger.domain.pupils import Placement, PlacementRow, PupilState, fold_pupil, plan_placements
from ledger.domain.staff import ALLOWED, Action, StaffMember, check_allowed, decide_register, fold_staff
from ledger.errors import InvalidInput, NotAllowed, NotFound
from ledger.events import (
    ROLES, ClassClosed, ClassOpened, JudgementRecorded, JudgementRevised, LedgerCreated, PupilEnrolled, PupilLeft,
    PupilMoved, StaffRegistered, build, check_id, visible_length,
)
from ledger.exchange.grids import csv_grid
from ledger.figures_events import HistoricFiguresRevised
from ledger.learning_events import FrameworkDefined, OutcomeSet, StageRecorded, TargetSet

LONDON = ZoneInfo("Europe/London")
Y2324 = AcademicYear(2023)
T1, T2, T3 = (Term(Y2324, n) for n in (1, 2, 3))
NEXT_T1 = Term(AcademicYear(2024), 1)
D = date.fromisoformat


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and text.strip() == text and text
    return text


# -- calendar: years and terms --------------------------------------------------------------


@pytest.mark.parametrize(("text", "start"), [("2023-24", 2023), (" 2023-24 ", 2023), ("2099-00", 2099), ("1999-00", 1999)])
def test_academic_year_parse(text: str, start: int) -> None:
    year = AcademicYear.parse(text)
    assert year == AcademicYear(start)
    assert str(year) == text.strip()


@pytest.mark.parametrize("text", ["2023-25", "2023-23", "2023/24", "23-24", "2023-2024", "2023", "", "2023-24/T1", "abcd-ef"])
def test_academic_year_refusals(text: str) -> None:
    with pytest.raises(InvalidInput, match="write it like 2023-24") as caught:
        AcademicYear.parse(text)
    one_line(caught)


def test_academic_year_bounds_and_containing() -> None:
    assert (Y2324.first_day, Y2324.last_day) == (D("2023-09-01"), D("2024-08-31"))
    assert AcademicYear.containing(D("2023-09-01")) == Y2324
    assert AcademicYear.containing(D("2024-08-31")) == Y2324
    assert AcademicYear.containing(D("2023-08-31")) == AcademicYear(2022)
    assert Y2324.terms() == [T1, T2, T3]


@pytest.mark.parametrize(("text", "number"), [("2023-24/T1", 1), ("2023-24/T2", 2), ("2023-24/T3", 3), (" 2023-24/T3\n", 3)])
def test_term_parse(text: str, number: int) -> None:
    term = Term.parse(text)
    assert term == Term(Y2324, number)
    assert str(term) == text.strip()
    assert term.label == f"T{number}"
    assert Term.from_key(term.key) == term and term.key == 20230 + number


@pytest.mark.parametrize(
    "text", ["2023-24/T4", "2023-24/T0", "T1", "2023-24", "2023-25/T1", "2023-24/1", "2023-24 T1", "2023-24/T12", ""]
)
def test_term_refusals(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a term; write it like 2023-24/T1") as caught:
        Term.parse(text)
    one_line(caught)


def test_terms_sort_in_time_order() -> None:
    assert sorted([NEXT_T1, T3, T1, T2, Term(AcademicYear(2022), 3)]) == [Term(AcademicYear(2022), 3), T1, T2, T3, NEXT_T1]


def test_default_term_dates_cover_the_year_without_gaps() -> None:
    assert T1.default_dates() == (D("2023-09-01"), D("2023-12-31"))
    assert T2.default_dates() == (D("2024-01-01"), D("2024-03-31"))
    assert T3.default_dates() == (D("2024-04-01"), D("2024-08-31"))
    assert Term(AcademicYear(2027), 2).default_dates() == (D("2028-01-01"), D("2028-03-31"))


# -- calendar: term dates -------------------------------------------------------------------

SCHOOL = Calendar({
    T1: (D("2023-09-04"), D("2023-12-20")),
    T2: (D("2024-01-08"), D("2024-03-28")),
    T3: (D("2024-04-15"), D("2024-07-23")),
})


def test_calendar_dates_prefer_the_schools_own() -> None:
    assert SCHOOL.dates(T2) == (D("2024-01-08"), D("2024-03-28"))
    assert Calendar().dates(T2) == T2.default_dates()
    assert Calendar({T1: (D("2023-09-05"), D("2023-12-19"))}).dates(T2) == T2.default_dates()


@pytest.mark.parametrize(
    ("day", "term"),
    [
        ("2023-09-04", T1), ("2023-12-20", T1), ("2024-03-28", T2), ("2024-07-23", T3),
        # holidays belong to the next term to start
        ("2023-09-01", T1), ("2023-12-21", T2), ("2024-01-07", T2), ("2024-04-01", T3),
        ("2024-07-24", NEXT_T1), ("2024-08-31", NEXT_T1),
    ],
)
def test_term_on_with_school_dates(day: str, term: Term) -> None:
    assert SCHOOL.term_on(D(day)) == term


@pytest.mark.parametrize(
    ("day", "term"),
    [("2023-09-01", T1), ("2023-12-31", T1), ("2024-01-01", T2), ("2024-03-31", T2), ("2024-04-01", T3), ("2024-08-31", T3)],
)
def test_term_on_with_default_dates(day: str, term: Term) -> None:
    assert Calendar().term_on(D(day)) == term


def test_check_new_dates_accepts_sensible_dates() -> None:
    Calendar().check_new_dates(T1, D("2023-09-04"), D("2023-12-20"))
    Calendar().check_new_dates(T1, D("2023-09-01"), D("2023-09-01"))  # a one-day term is odd but allowed
    SCHOOL.check_new_dates(T2, D("2024-01-03"), D("2024-04-10"))  # stretching T2 into the Easter holiday


@pytest.mark.parametrize(
    ("calendar", "term", "start", "end", "message"),
    [
        (Calendar(), T1, "2023-12-20", "2023-09-04", "is after end"),
        (Calendar(), T1, "2023-08-30", "2023-12-20", "inside the academic year"),
        (Calendar(), T3, "2024-04-15", "2024-09-02", "inside the academic year"),
        (Calendar(), T1, "2022-09-05", "2022-12-20", "inside the academic year"),
        (Calendar(), T1, "2023-09-04", "2024-01-05", "overlaps 2023-24/T2"),  # the default T2 starts 1 Jan
        (SCHOOL, T2, "2023-12-15", "2024-03-28", "overlaps 2023-24/T1"),
        (SCHOOL, T3, "2024-03-28", "2024-07-23", "overlaps 2023-24/T2"),
        (Calendar({T1: (D("2023-10-01"), D("2023-12-20"))}), T2, "2023-09-01", "2023-09-20", "in order"),
        (Calendar({T3: (D("2024-04-15"), D("2024-07-20"))}), T2, "2024-07-25", "2024-08-10", "in order"),
    ],
)
def test_check_new_dates_refusals(calendar: Calendar, term: Term, start: str, end: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        calendar.check_new_dates(term, D(start), D(end))
    assert one_line(caught).startswith(str(term))


# -- calendar: instants and dates -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        # a date alone is the end of that day, local time
        ("2024-07-01", datetime(2024, 7, 1, 22, 59, 59, 999999)),  # BST: UTC+1
        ("2024-01-15", datetime(2024, 1, 15, 23, 59, 59, 999999)),  # GMT
        (" 2024-03-28 ", datetime(2024, 3, 28, 23, 59, 59, 999999)),
        # a naive date-time is local time
        ("2024-07-01T12:00", datetime(2024, 7, 1, 11, 0)),
        ("2024-07-01 12:00", datetime(2024, 7, 1, 11, 0)),
        ("2024-01-15T12:00", datetime(2024, 1, 15, 12, 0)),
        ("2024-03-31T00:30", datetime(2024, 3, 31, 0, 30)),  # still GMT: the clocks go forward at 01:00
        ("2024-03-31T02:30", datetime(2024, 3, 31, 1, 30)),  # BST from 01:00 UTC
        ("2024-10-27T12:00", datetime(2024, 10, 27, 12, 0)),  # GMT again
        # explicit zones win
        ("2024-07-01T12:00Z", datetime(2024, 7, 1, 12, 0)),
        ("2024-07-01T12:00:30.5Z", datetime(2024, 7, 1, 12, 0, 30, 500000)),
        ("2024-07-01T12:00+00:00", datetime(2024, 7, 1, 12, 0)),
        ("2024-07-01T12:00+02:00", datetime(2024, 7, 1, 10, 0)),
        ("2024-01-15T12:00-05:00", datetime(2024, 1, 15, 17, 0)),
    ],
)
def test_parse_instant(text: str, utc: datetime) -> None:
    got = parse_instant(text, LONDON)
    assert got == utc.replace(tzinfo=timezone.utc)
    assert got.utcoffset() is not None and got.utcoffset().total_seconds() == 0


def test_parse_instant_uses_the_ledgers_own_zone() -> None:
    assert parse_instant("2024-07-01T12:00", ZoneInfo("UTC")) == datetime(2024, 7, 1, 12, tzinfo=timezone.utc)
    assert parse_instant("2024-07-01", ZoneInfo("Asia/Tokyo")) == datetime(2024, 7, 1, 14, 59, 59, 999999, tzinfo=timezone.utc)


def test_a_compact_date_alone_also_means_the_end_of_that_day() -> None:
    # Python reads 20240701 as a date too; it must not silently mean midnight at the start of the day.
    assert parse_instant("20240701", LONDON) == parse_instant("2024-07-01", LONDON)


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2024-13-01", "2024-02-30", "01/07/2024", "2024-07-01T25:00", "2024-07-01T12:00 BST", "12:00"]
)
def test_parse_instant_refusals(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a date or date-time") as caught:
        parse_instant(text, LONDON)
    assert "2024-03-28T16:00Z" in one_line(caught)


def test_parse_date_and_zone() -> None:
    assert parse_date(" 2024-02-29 ", "left_on") == D("2024-02-29")
    with pytest.raises(InvalidInput, match="left_on '2023-02-29' is not a date; write it as YYYY-MM-DD"):
        parse_date("2023-02-29", "left_on")
    assert zone("Europe/London") == LONDON
    for bad in ("Europe/Londn", "", "../etc/passwd"):
        with pytest.raises(InvalidInput, match="unknown time zone"):
            zone(bad)


# -- classes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phase"),
    [
        ("EYFS/KS1/KS2", "EYFS/KS1/KS2"),
        ("eyfs / ks1 / ks2", "EYFS/KS1/KS2"),
        (" KS3/KS4 ", "KS3/KS4"),
        ("ks5", "KS5"),
    ],
)
def test_normalise_phase(text: str, phase: str) -> None:
    assert normalise_phase(text) == phase


def test_normalise_phase_hints_at_the_common_typo() -> None:
    with pytest.raises(InvalidInput, match=r"did you mean EYFS\?") as caught:
        normalise_phase("EFYS/KS1")
    assert "'EFYS/KS1'" in one_line(caught)


@pytest.mark.parametrize("text", ["", "  ", "/", "KS6", "KS1/Year 3", "Primary", "KS 1"])
def test_normalise_phase_refusals(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a group of key stages") as caught:
        normalise_phase(text)
    assert "did you mean" not in one_line(caught)


def test_class_is_open_from_its_first_term_until_it_closes() -> None:
    opened = fold_class([build(ClassOpened, class_id="1AJ", phase="EYFS/KS1", from_term="2023-24/T2")])
    assert opened is not None and opened.closed_after is None and opened.label == "1AJ"
    assert not opened.is_open_in(T1)
    assert opened.is_open_in(T2) and opened.is_open_in(T3) and opened.is_open_in(Term(AcademicYear(2030), 1))

    closed = fold_class([
        build(ClassOpened, class_id="2MD", phase="KS1/KS2", mark="PMLD", from_term="2023-24/T1"),
        build(ClassClosed, class_id="2MD", after_term="2023-24/T2"),
    ])
    assert closed is not None and closed.label == "2MD (PMLD)" and closed.closed_after == T2
    assert [closed.is_open_in(t) for t in (Term(AcademicYear(2022), 3), T1, T2, T3, NEXT_T1)] == [
        False, True, True, False, False,
    ]
    assert fold_class([]) is None


def test_decide_open_and_close() -> None:
    state = ClassState("1AJ", "KS1", None, T2, None)
    decide_open(None, "1AJ")
    with pytest.raises(InvalidInput, match="already open \\(since 2023-24/T2\\)"):
        decide_open(state, "1AJ")
    decide_close(state, "1AJ", T2)  # open for a single term
    decide_close(state, "1AJ", NEXT_T1)
    with pytest.raises(NotFound, match="class 9ZZ does not exist; open it with 'ledger class open 9ZZ"):
        decide_close(None, "9ZZ", T3)
    with pytest.raises(InvalidInput, match="opened in 2023-24/T2; it cannot close after 2023-24/T1"):
        decide_close(state, "1AJ", T1)
    with pytest.raises(InvalidInput, match="already closed after 2023-24/T3"):
        decide_close(ClassState("1AJ", "KS1", None, T2, T3), "1AJ", NEXT_T1)


def test_require_open() -> None:
    state = ClassState("1AJ", "KS1", None, T2, T3)
    assert require_open(state, "1AJ", T3) is state
    assert require_class(state, "1AJ") is state
    with pytest.raises(InvalidInput, match="not open in 2023-24/T1 \\(it opened in 2023-24/T2 and closed after 2023-24/T3\\)"):
        require_open(state, "1AJ", T1)
    with pytest.raises(NotFound):
        require_open(None, "1AJ", T1)


# -- pupils ---------------------------------------------------------------------------------

PID = "P-0001"


def enrolled(class_id: str, on: str) -> PupilEnrolled:
    return build(PupilEnrolled, pupil_id=PID, class_id=class_id, on=D(on))


def moved(src: str, dst: str, on: str) -> PupilMoved:
    return build(PupilMoved, pupil_id=PID, from_class=src, to_class=dst, on=D(on))


def left(class_id: str, on: str) -> PupilLeft:
    return build(PupilLeft, pupil_id=PID, class_id=class_id, on=D(on))


def test_fold_pupil_enrol_move_leave_reenrol() -> None:
    state = fold_pupil(PID, [
        enrolled("1AJ", "2023-09-04"),
        moved("1AJ", "2MD", "2024-01-08"),
        left("2MD", "2024-02-01"),
        enrolled("3CW", "2024-04-15"),
    ])
    assert state.placements == (
        Placement("1AJ", D("2023-09-04"), D("2024-01-07")),
        Placement("2MD", D("2024-01-08"), D("2024-02-01"), ended_by_leaving=True),
        Placement("3CW", D("2024-04-15")),
    )
    assert state.current == Placement("3CW", D("2024-04-15"))
    assert [p.class_id for p in state.classes_during(D("2024-01-01"), D("2024-03-31"))] == ["1AJ", "2MD"]
    assert state.class_at_end_of(D("2024-01-01"), D("2024-03-31")) == "2MD"  # left during T2, from 2MD
    assert state.class_at_end_of(D("2024-02-02"), D("2024-04-14")) is None  # off roll all that time
    assert state.class_at_end_of(D("2023-09-01"), D("2023-12-31")) == "1AJ"
    assert fold_pupil(PID, []) == PupilState(PID)


def plan(state: PupilState, *rows: PlacementRow) -> tuple[PupilState, list]:
    return plan_placements(state, list(rows))


def row(class_id: str, start: str, left_on: str | None = None, moves_on: bool = False) -> PlacementRow:
    return PlacementRow(class_id, D(start), D(left_on) if left_on else None, moves_on)


def test_plan_enrol() -> None:
    state, events = plan(PupilState(PID), row("1AJ", "2023-09-04"))
    assert events == [enrolled("1AJ", "2023-09-04")]
    assert state == fold_pupil(PID, events)


def test_plan_move() -> None:
    start = fold_pupil(PID, [enrolled("1AJ", "2023-09-04")])
    state, events = plan(start, row("1AJ", "2023-09-04", "2024-01-07", moves_on=True), row("2MD", "2024-01-08"))
    assert events == [moved("1AJ", "2MD", "2024-01-08")]
    assert state.placements[0].last_day == D("2024-01-07") and not state.placements[0].ended_by_leaving


def test_plan_leave() -> None:
    start = fold_pupil(PID, [enrolled("1AJ", "2023-09-04")])
    state, events = plan(start, row("1AJ", "2023-09-04", "2024-02-01"))
    assert events == [left("1AJ", "2024-02-01")]
    assert state.current == Placement("1AJ", D("2023-09-04"), D("2024-02-01"), ended_by_leaving=True)


def test_plan_enrol_and_leave_in_one_row() -> None:
    _, events = plan(PupilState(PID), row("1AJ", "2023-09-04", "2023-10-20"))
    assert events == [enrolled("1AJ", "2023-09-04"), left("1AJ", "2023-10-20")]


def test_plan_reenrol_after_leaving() -> None:
    start = fold_pupil(PID, [enrolled("1AJ", "2023-09-04"), left("1AJ", "2023-10-20")])
    state, events = plan(start, row("1AJ", "2023-09-04", "2023-10-20"), row("1AJ", "2024-01-08"))
    assert events == [enrolled("1AJ", "2024-01-08")]
    assert len(state.placements) == 2


def test_restated_rows_write_nothing() -> None:
    history = [enrolled("1AJ", "2023-09-04"), moved("1AJ", "2MD", "2024-01-08"), left("2MD", "2024-02-01"),
               enrolled("3CW", "2024-04-15")]
    state = fold_pupil(PID, history)
    rows = [row("1AJ", "2023-09-04", "2024-01-07", moves_on=True), row("2MD", "2024-01-08", "2024-02-01"),
            row("3CW", "2024-04-15")]
    again, events = plan(state, *rows)
    assert events == [] and again == state
    # each row on its own also restates
    for r in rows:
        assert plan(state, r)[1] == []
    # and planning from nothing produces exactly the history
    assert plan(PupilState(PID), *rows)[1] == history


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([row("2MD", "2023-09-01")], "conflicts with it"),  # starts before the current placement
        ([row("2MD", "2023-09-04")], "conflicts with it"),  # same start, other class
        ([row("1AJ", "2023-10-01")], "already in 1AJ"),
        ([row("1AJ", "2023-09-04", "2023-08-01")], "is before enrolled_on"),
    ],
)
def test_plan_refuses_rows_that_contradict_an_open_placement(rows: list[PlacementRow], message: str) -> None:
    start = fold_pupil(PID, [enrolled("1AJ", "2023-09-04")])
    with pytest.raises(InvalidInput, match=message) as caught:
        plan(start, *rows)
    one_line(caught)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([row("1AJ", "2023-09-04", "2024-03-01")], "already recorded as leaving 1AJ on 2024-02-01, not 2024-03-01"),
        ([row("2MD", "2024-01-10")], "to 2024-02-01; a placement in 2MD from 2024-01-10 conflicts"),  # while on roll
        ([row("2MD", "2024-02-01")], "conflicts with it"),  # on the last day on roll
    ],
)
def test_plan_refuses_rows_that_contradict_a_closed_placement(rows: list[PlacementRow], message: str) -> None:
    start = fold_pupil(PID, [enrolled("1AJ", "2023-09-04"), left("1AJ", "2024-02-01")])
    with pytest.raises(InvalidInput, match=message):
        plan(start, *rows)


def test_plan_allows_reenrolment_the_day_after_leaving() -> None:
    start = fold_pupil(PID, [enrolled("1AJ", "2023-09-04"), left("1AJ", "2024-02-01")])
    assert plan(start, row("2MD", "2024-02-02"))[1] == [enrolled("2MD", "2024-02-02")]


# -- judgements -----------------------------------------------------------------------------

PUPIL = fold_pupil(PID, [enrolled("1AJ", "2023-09-04"), moved("1AJ", "2MD", "2024-01-08")])
OPEN_1AJ = ClassState("1AJ", "EYFS/KS1", None, T1, None)
OPEN_2MD = ClassState("2MD", "KS1/KS2", "PMLD", T1, None)
RECORDED = JudgementState("appropriate", "1AJ", None, position=42)


def test_check_status() -> None:
    assert check_status("appropriate", None) == "appropriate"
    assert check_status("smaller-steps", "long absence") == "smaller-steps"
    with pytest.raises(InvalidInput, match="status 'Appropriate' is not valid"):
        check_status("Appropriate", None)
    for reason in (None, "", "   "):
        with pytest.raises(InvalidInput, match="smaller-steps judgement needs a reason"):
            check_status("smaller-steps", reason)


def test_decide_record() -> None:
    event = decide_record(None, PID, T1, D("2023-09-04"), D("2024-07-01"), "1AJ", "smaller-steps", "  long absence ")
    assert event == build(JudgementRecorded, pupil_id=PID, term="2023-24/T1", class_id="1AJ",
                          status="smaller-steps", reason="long absence")
    plain = decide_record(None, PID, T1, D("2023-09-04"), D("2023-09-04"), "1AJ", "appropriate", "  ")
    assert plain.reason is None  # a blank reason is no reason; judging on the first day is allowed


@pytest.mark.parametrize(
    ("existing", "today", "status", "reason", "error", "message"),
    [
        (None, "2024-07-01", "smaller-steps", None, InvalidInput, "needs a reason"),
        (None, "2024-07-01", "smaller-steps", "  ", InvalidInput, "needs a reason"),
        (None, "2024-07-01", "great", None, InvalidInput, "status 'great' is not valid"),
        (RECORDED, "2024-07-01", "appropriate", None, InvalidInput, "already has a judgement for 2023-24/T1 \\(appropriate\\); use 'ledger judgement revise'"),
        (RECORDED, "2024-07-01", "smaller-steps", "new reason", InvalidInput, "already has a judgement"),
        (None, "2023-09-03", "appropriate", None, InvalidInput, "2023-24/T1 has not started yet \\(it starts 2023-09-04\\)"),
    ],
)
def test_decide_record_refusals(existing, today, status, reason, error, message) -> None:  # noqa: ANN001
    with pytest.raises(error, match=message) as caught:
        decide_record(existing, PID, T1, D("2023-09-04"), D(today), "1AJ", status, reason)
    one_line(caught)


def test_decide_revise() -> None:
    event = decide_revise(RECORDED, PID, T1, "smaller-steps", " moderation ")
    assert event == build(JudgementRevised, pupil_id=PID, term="2023-24/T1", class_id="1AJ", status="smaller-steps",
                          previous_status="appropriate", reason="moderation", supersedes_position=42)


@pytest.mark.parametrize(
    ("existing", "status", "reason", "error", "message"),
    [
        (None, "smaller-steps", "moderation", NotFound, "has no judgement for 2023-24/T1 to revise"),
        (RECORDED, "smaller-steps", None, InvalidInput, "a revision needs a reason"),
        (RECORDED, "smaller-steps", "   ", InvalidInput, "a revision needs a reason"),
        (RECORDED, "appropriate", "moderation", InvalidInput, "is already appropriate; nothing to revise"),
        (RECORDED, "excellent", "moderation", InvalidInput, "status 'excellent' is not valid"),
    ],
)
def test_decide_revise_refusals(existing, status, reason, error, message) -> None:  # noqa: ANN001
    with pytest.raises(error, match=message) as caught:
        decide_revise(existing, PID, T1, status, reason)
    one_line(caught)


def test_fold_judgement_follows_revisions() -> None:
    recorded = build(JudgementRecorded, pupil_id=PID, term="2023-24/T1", class_id="1AJ", status="appropriate")
    revised = decide_revise(fold_judgement([(7, recorded)]), PID, T1, "smaller-steps", "moderation")
    assert revised.supersedes_position == 7
    assert fold_judgement([(7, recorded), (9, revised)]) == JudgementState("smaller-steps", "1AJ", "moderation", 9)
    assert fold_judgement([]) is None


def test_judged_class_defaults_to_the_class_at_the_end_of_the_term() -> None:
    t2 = (D("2024-01-01"), D("2024-03-31"))
    assert judged_class(PUPIL, T2, t2, None, OPEN_2MD) == "2MD"
    assert judged_class(PUPIL, T2, t2, "1AJ", OPEN_1AJ) == "1AJ"  # on 1AJ's roll 1-7 January
    assert judged_class(PUPIL, T1, T1.default_dates(), "1AJ", OPEN_1AJ) == "1AJ"


def test_judged_class_refusals() -> None:
    with pytest.raises(InvalidInput, match="not on the roll of 2MD in 2023-24/T1 \\(2023-09-01 to 2023-12-31\\)"):
        judged_class(PUPIL, T1, T1.default_dates(), "2MD", OPEN_2MD)
    with pytest.raises(InvalidInput, match="not on the roll of any class in 2023-24/T1"):
        judged_class(fold_pupil(PID, [enrolled("1AJ", "2024-01-08")]), T1, T1.default_dates(), None, OPEN_1AJ)
    with pytest.raises(NotFound, match="class 4XX does not exist"):
        judged_class(PUPIL, T2, T2.default_dates(), "4XX", None)
    closed = ClassState("1AJ", "EYFS/KS1", None, T1, T1)
    with pytest.raises(InvalidInput, match="class 1AJ is not open in 2023-24/T2"):
        judged_class(PUPIL, T2, T2.default_dates(), "1AJ", closed)
    left_early = fold_pupil(PID, [enrolled("1AJ", "2023-09-04"), left("1AJ", "2023-12-01")])
    with pytest.raises(InvalidInput, match="not on the roll of any class in 2023-24/T2"):
        judged_class(left_early, T2, T2.default_dates(), None, OPEN_1AJ)


# -- staff ----------------------------------------------------------------------------------

EXPECTED_PERMISSIONS = {
    Action.ADD_STAFF: {"data-manager", "head"},
    Action.MANAGE_SCHOOL: {"data-manager", "head", "deputy-head"},
    Action.RECORD_JUDGEMENT: {"teacher", "line-manager", "ks-lead", "deputy-head", "head", "data-manager"},
    Action.REVISE_JUDGEMENT: {"line-manager", "ks-lead", "deputy-head", "head"},
}


def test_roles_are_the_six_known_ones() -> None:
    assert set(ROLES) == {"teacher", "line-manager", "ks-lead", "deputy-head", "head", "data-manager"}


@pytest.mark.parametrize("action", list(EXPECTED_PERMISSIONS), ids=lambda a: a.name)
def test_permissions_table(action: Action) -> None:
    assert set(ALLOWED[action]) == EXPECTED_PERMISSIONS[action]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(EXPECTED_PERMISSIONS), ids=lambda a: a.name)
def test_check_allowed_for_every_role_and_action(role: str, action: Action) -> None:
    member = StaffMember("S1", role)
    if role in EXPECTED_PERMISSIONS[action]:
        assert check_allowed("S1", member, action) is member
    else:
        with pytest.raises(NotAllowed) as caught:
            check_allowed("S1", member, action)
        text = one_line(caught)
        assert text.startswith(f"S1 ({role}) may not {action.value}; that needs one of: ")
        assert set(text.rsplit(": ", 1)[1].split(", ")) == EXPECTED_PERMISSIONS[action]


@pytest.mark.parametrize("action", list(EXPECTED_PERMISSIONS), ids=lambda a: a.name)
def test_unregistered_or_missing_actor_is_refused(action: Action) -> None:
    with pytest.raises(NotAllowed, match="'ghost' is not a registered member of staff; ask the data manager"):
        check_allowed("ghost", None, action)
    for actor in (None, ""):
        with pytest.raises(NotAllowed, match="no actor given"):
            check_allowed(actor, None, action)


def test_staff_registration() -> None:
    assert fold_staff([build(StaffRegistered, staff_id="T.AJ", role="teacher")]) == StaffMember("T.AJ", "teacher")
    assert fold_staff([]) is None
    decide_register(None, "T.AJ", "teacher")
    with pytest.raises(InvalidInput, match="already registered as teacher"):
        decide_register(StaffMember("T.AJ", "teacher"), "T.AJ", "head")
    with pytest.raises(InvalidInput, match="unknown role 'caretaker'"):
        decide_register(None, "C1", "caretaker")


# -- events ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pupil_id", ["P-0001", "p1", "0042", "ABC_123", "X9", " P-0042 ", "A" * 31 + "1"])
def test_pseudonymous_pupil_ids_are_accepted(pupil_id: str) -> None:
    event = build(PupilEnrolled, pupil_id=pupil_id, class_id="1AJ", on=D("2023-09-04"))
    assert event.pupil_id == pupil_id.strip()
    assert check_id("pupil_id", pupil_id) == pupil_id.strip()


@pytest.mark.parametrize(
    "pupil_id",
    ["Jane Smith", "Jane", "SMITH-JANE", "P 0001", "P-0001 Jane", "", "1", "-P0001", "P/0001", "P.0001",
     "Zoë1", "A" * 32 + "1"],
)
def test_names_and_malformed_pupil_ids_are_refused(pupil_id: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build(PupilEnrolled, "pupils.csv:7", pupil_id=pupil_id, class_id="1AJ", on=D("2023-09-04"))
    text = one_line(caught)
    assert text.startswith("pupils.csv:7: pupil_id")
    assert "never a name" in text
    with pytest.raises(InvalidInput, match="never a name"):
        check_id("pupil_id", pupil_id)


def test_build_gives_one_line_invalid_input_for_each_kind_of_field() -> None:
    cases = [
        (ClassOpened, dict(class_id="1AJ", phase="KS1", from_term="2023-24/T4"), "from_term"),
        (ClassOpened, dict(class_id="a class with spaces", phase="KS1", from_term="2023-24/T1"), "class_id 'a class with spaces' is not valid"),
        (ClassOpened, dict(class_id="1AJ", phase="KS1", mark="P.M.L.D!", from_term="2023-24/T1"), "mark 'P.M.L.D!' is not valid"),
        (StaffRegistered, dict(staff_id="T AJ", role="teacher"), "staff_id 'T AJ' is not valid"),
        (StaffRegistered, dict(staff_id="TAJ", role="caretaker"), "role 'caretaker' is not valid"),
        (PupilEnrolled, dict(pupil_id="P1", class_id="1AJ", on="2023-02-30"), "on '2023-02-30'"),
        (JudgementRecorded, dict(pupil_id="P1", term="2023-24/T1", class_id="1AJ", status="smaller-steps"), "needs a reason"),
        (JudgementRecorded, dict(pupil_id="P1", term="2023-24/T1", class_id="1AJ", status="great"), "status 'great' is not valid"),
        (JudgementRecorded, dict(pupil_id="P1", term="2023-24/T1", class_id="1AJ", status="appropriate", reason="x"), "reason 'x' is not valid"),
        (JudgementRecorded, dict(pupil_id="P1", term="2023-24/T1", class_id="1AJ", status="appropriate", extra=1), "extra"),
    ]
    for cls, fields, message in cases:
        with pytest.raises(InvalidInput) as caught:
            build(cls, **fields)
        assert message in one_line(caught), (cls.__name__, fields)


def test_events_are_frozen_and_say_nothing_of_who_or_when() -> None:
    event = build(PupilEnrolled, pupil_id="P1", class_id="1AJ", on=D("2023-09-04"))
    with pytest.raises(Exception):
        event.pupil_id = "P2"  # type: ignore[misc]
    assert set(event.model_dump()) == {"pupil_id", "class_id", "on"}


# -- free text: one line, enough visible characters ---------------------------------------------
_JUDGED = dict(pupil_id="P1", term="2023-24/T1", class_id="1AJ", status="appropriate")
_STAGE = dict(target_id="T-1", pupil_id="P1", stage="Emerging", stage_index=1, achieved_on=D("2023-10-02"))
FREE_TEXT = [  # (event, its other fields, the free-text field)
    (JudgementRecorded, _JUDGED, "reason"),
    (JudgementRevised, {**_JUDGED, "previous_status": "smaller-steps", "supersedes_position": 3}, "reason"),
    (LedgerCreated, dict(timezone="Europe/London"), "school"),
    (OutcomeSet, dict(outcome_id="O-1", pupil_id="P1", area="semh"), "description"),
    (TargetSet, dict(target_id="T-1", pupil_id="P1", outcome_id="O-1", framework_id="engagement",
                     terms=["2023-24/T1"]), "description"),
    (FrameworkDefined, dict(framework_id="own", stages=["a", "b", "c"]), "name"),
    (StageRecorded, _STAGE, "note"),
    (StageRecorded, _STAGE, "reason"),
    (HistoricFiguresRevised, dict(year="2022-23", source="seed.docx", supersedes_position=3, classes=[
        dict(phase="KS1", class_id="1AJ", t1=dict(state="not_open"), t2=dict(state="not_open"),
             t3=dict(state="not_open"))]), "reason"),
]


@pytest.mark.parametrize("cls, fields, field", FREE_TEXT, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("bad, code", [("line one\nline two", "000A"), ("carriage\rreturn", "000D"),
                                       ("bell\x07rings", "0007"), ("\x1b[2Jcleared", "001B"),
                                       ("tab\there", "0009"), ("next\x85line", "0085"),
                                       ("line\u2028separator", "2028"), ("para\u2029separator", "2029")])
def test_free_text_refuses_control_characters(cls: type, fields: dict, field: str, bad: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build(cls, "f.csv:4", **fields, **{field: bad})
    assert str(caught.value) == (f"f.csv:4: {field} '{bad}' has a line break or other control character "
                                 f"(U+{code}); write it as one line of plain text")
    # at either end a newline is only white space, trimmed like the rest
    assert getattr(build(cls, **fields, **{field: "\t a reason in words\r\n"}), field) == "a reason in words"


@pytest.mark.parametrize("cls, fields, field", [c for c in FREE_TEXT if c[2] != "note"],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_free_text_counts_only_visible_characters(cls: type, fields: dict, field: str) -> None:
    # zero-width space, word joiner, byte-order mark, soft hyphen: format characters that show nothing
    for invisible in ("\u200b\u200b\u200b", "\u2060\ufeff\u00ad", "\u200b \u200c \u200d"):
        with pytest.raises(InvalidInput, match="needs at least .* visible character"):
            build(cls, **fields, **{field: invisible})
    assert getattr(build(cls, **fields, **{field: "Café\u200b 10"}), field) == "Café\u200b 10"
    assert visible_length(" a\u200bb\u00adc ") == 3 and visible_length(None) == 0


def test_an_item_of_a_list_is_quoted_alone() -> None:
    with pytest.raises(InvalidInput) as caught:
        build(FrameworkDefined, "f.csv:4", framework_id="own", name="Own scale", stages=["a", "b\x01", "c"])
    assert str(caught.value) == ("f.csv:4: stages.1 'b\x01' has a line break or other control character (U+0001); "
                                 "write it as one line of plain text")


def test_events_already_stored_are_read_whatever_their_text() -> None:
    # The rules bind what is written now; an event stored before them must still read (the mapper
    # validates on the way out, and an old reason with a newline is not tampering).
    stored = JudgementRecorded.model_validate_json(
        '{"pupil_id":"P1","term":"2023-24/T1","class_id":"1AJ","status":"smaller-steps","reason":"long\\n\\u200b"}')
    assert stored.reason == "long\n\u200b"


def test_a_staff_id_too_long_is_refused_saying_how_long_it_may_be() -> None:
    build(StaffRegistered, staff_id="A" * 32, role="teacher")
    with pytest.raises(InvalidInput) as caught:
        build(StaffRegistered, staff_id="A" * 33, role="teacher")
    assert str(caught.value).endswith("a staff id is letters, digits, dots and dashes, at most 32 characters "
                                      "(e.g. dm1 or T.AJ)")


# -- how far ahead -------------------------------------------------------------------------------
def test_terms_up_to_the_end_of_next_academic_year() -> None:
    for today in (D("2023-09-01"), D("2024-08-31")):
        assert check_term_ahead(Term(AcademicYear(2024), 3), today, "a class can open from")
        with pytest.raises(InvalidInput) as caught:
            check_term_ahead(Term(AcademicYear(2025), 1), today, "a class can open from")
        assert str(caught.value) == ("2025-26/T1 is too far ahead: a class can open from a term up to the end of next "
                                     "academic year (2024-25); check the year")
    assert check_term_ahead(Term(AcademicYear(2025), 1), D("2024-09-01"), "a target can be for")
    assert check_term_ahead(Term(AcademicYear(1990), 1), D("2024-09-01"), "a target can be for")  # the past is fine


def test_dates_up_to_a_year_after_today() -> None:
    assert check_date_ahead(D("2025-07-01"), D("2024-07-01"), "enrolled_on") == D("2025-07-01")
    with pytest.raises(InvalidInput) as caught:
        check_date_ahead(D("2025-07-02"), D("2024-07-01"), "left_on")
    assert str(caught.value) == "left_on 2025-07-02 is more than a year after today (2024-07-01); check the date"
    assert one_year_after(D("2024-02-29")) == D("2025-02-28")


# -- a class closes once nothing of it is left -----------------------------------------------------
def test_a_class_with_judgements_or_pupils_after_the_term_cannot_close() -> None:
    check_empty_after("1AJ", T1, [], [])
    with pytest.raises(InvalidInput) as caught:
        check_empty_after("1AJ", T1, [T3, T2, T3], ["P-1"])  # judgements are said first: they fix the earliest term
    assert str(caught.value) == ("class 1AJ has judgements recorded for terms after 2023-24/T1 (1 in 2023-24/T2, "
                                 "2 in 2023-24/T3); close it after 2023-24/T3 or later")
    with pytest.raises(InvalidInput) as caught:
        check_empty_after("1AJ", T2, [], ["P-1", "P-2", "P-3", "P-4", "P-5"])
    assert str(caught.value) == (
        "class 1AJ still has pupils on its roll after 2023-24/T2 (P-1, P-2, P-3 and 2 more); move them to another "
        "class or record their leaving with 'ledger import pupils' first, or close it after a later term")


# -- CSV lines ---------------------------------------------------------------------------------------
def test_a_csv_record_over_several_lines_is_where_it_starts() -> None:
    grid = csv_grid(Path("f.csv"), b'a,b\n1,"two\nlines"\n\n3,4\n5,"three\nmore\nlines"\n6,7\n')
    assert [(r.where, r.cells) for r in grid.rows] == [
        ("f.csv:1", ("a", "b")), ("f.csv:2", ("1", "two\nlines")), ("f.csv:4", ()), ("f.csv:5", ("3", "4")),
        ("f.csv:6", ("5", "three\nmore\nlines")), ("f.csv:9", ("6", "7"))]
