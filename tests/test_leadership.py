"""The leadership queries at service level, on every store: changes, compare, trend, smaller steps,
audit and the judgements export. The school's history is in ``leadership_fixtures``; a hypothesis
property at the end checks compare and changes against plain Python over the store's log."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import FakeClock
from leadership_fixtures import T1, T2, Marks, as_, build_school, utc
from ledger.bootstrap import ledger_for_store
from ledger.domain.calendar import Term
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.readmodel import Cell
from ledger.render import render
from ledger.services import commands, imports, leadership, learning, queries
from ledger.services.context import Ledger
from ledger.store import open_store

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def school(ledger: Ledger, clock: FakeClock, tmp_path: Path) -> tuple[Ledger, Marks]:
    return ledger, build_school(ledger, clock, tmp_path)


def _head(ledger: Ledger) -> tuple[int, str]:
    h = ledger.store.head()
    return h.position, h.hash


def refused(ledger: Ledger, error: type[LedgerError], match: str, action) -> None:  # noqa: ANN001
    before = _head(ledger)
    with pytest.raises(error, match=match) as caught:
        action()
    assert "\n" not in str(caught.value)
    assert _head(ledger) == before


# -- changes -------------------------------------------------------------------------------------
def test_changes_on_the_data_meeting_day_are_the_revisions_with_before_after_who_and_why(school) -> None:
    ledger, m = school
    result = leadership.changes(ledger, "2024-07-02", "2024-07-02", kinds=("judgement",))
    assert [r.position for r in result.rows] == m.meeting
    first, second = result.rows
    assert (first.change, first.actor, first.pupil_id, first.term, first.class_id) == (
        "judgement revised", "LM1", "P-0002", "2023-24/T1", "1AJ")
    assert (first.before, first.after, first.reason) == (
        "smaller-steps", "appropriate", "data meeting: PLR shows steady progress")
    assert (second.actor, second.pupil_id, second.before, second.after) == ("KSL", "P-0004", "smaller-steps", "appropriate")
    assert result.since == datetime(2024, 7, 1, 23, 0, tzinfo=timezone.utc)  # midnight BST starting 2 July
    assert result.first_position == m.meeting[0] and result.last_position == m.meeting[-1]


def test_a_date_means_the_local_day_from_its_start_to_its_end(school) -> None:
    ledger, m = school
    # The T2 judgements were recorded at 23:30 UTC on 2 July: 00:30 on 3 July in London.
    on_the_3rd = leadership.changes(ledger, "2024-07-03", "2024-07-03")
    assert [r.position for r in on_the_3rd.rows] == m.t2 + m.learning
    on_the_2nd = leadership.changes(ledger, "2024-07-02", "2024-07-02")
    assert [r.position for r in on_the_2nd.rows] == m.meeting


def test_date_time_bounds_are_both_inclusive(school) -> None:
    ledger, m = school
    # 15:00 London is 14:00 UTC: the moment the meeting's revisions were recorded.
    assert [r.position for r in leadership.changes(ledger, "2024-07-02T15:00", "2024-07-02T14:00Z").rows] == m.meeting
    assert leadership.changes(ledger, "2024-07-02T14:00:00.000001Z", "2024-07-02T20:00Z").rows == []


def test_recorded_judgements_have_no_before_and_to_defaults_to_now(school) -> None:
    ledger, m = school
    result = leadership.changes(ledger, "2024-07-01T10:00Z", None, kinds=("judgement",))
    assert result.last_position == ledger.store.head().position
    recorded = [r for r in result.rows if r.change == "judgement recorded"]
    assert [r.position for r in recorded] == m.t1 + m.t2
    assert all(r.before is None for r in recorded)
    assert [r.reason for r in recorded if r.pupil_id == "P-0002"] == ["extended medical absence"]


def test_changes_between_positions_and_by_kind(school) -> None:
    ledger, m = school
    result = leadership.changes(ledger, from_position=m.learning[0], to_position=m.learning[-1])
    assert [r.position for r in result.rows] == m.learning
    assert [r.change for r in result.rows] == [
        "outcome set", "target set", "target approved", "stage recorded", "stage recorded"]
    stages = leadership.changes(ledger, from_position=1, kinds=("stage",)).rows
    assert [(s.item, s.before, s.after, s.note) for s in stages] == [
        ("TG-1", None, "Emerging (achieved 2024-02-01)", "2 of 5 sessions"),
        ("TG-1", "Emerging", "Developing (achieved 2024-05-01)", "4 of 5 sessions"),
    ]
    assert all(r.change.startswith("judgement") for r in leadership.changes(ledger, "2024-07-01", kinds=("judgement",)).rows)


def test_a_reason_alone_does_not_make_a_stage_a_regression(school, clock: FakeClock) -> None:
    ledger, _ = school
    clock.advance(days=1)
    explained = learning.record_stage(as_(ledger, "T1"), "TG-1", "Secure", date(2024, 5, 20), "5 of 5",
                                      reason="moved on after the new seating plan")
    back = learning.record_stage(as_(ledger, "T1"), "TG-1", "Emerging", date(2024, 6, 1), "1 of 5",
                                 reason="two weeks in hospital")
    rows = leadership.changes(ledger, from_position=explained[0].position, kinds=("stage",)).rows
    assert [(r.before, r.reason) for r in rows] == [
        ("Developing", "moved on after the new seating plan"),
        ("Secure", "regression: two weeks in hospital"),
    ]
    assert back[0].position == rows[-1].position
    lines = leadership.audit(ledger, since=None).lines[-2:]
    assert [line.summary.endswith(s) for line, s in zip(lines, [
        "(reason: moved on after the new seating plan)", "(reason: two weeks in hospital)"])] == [True, True]


def test_changes_refuses_from_after_to_and_positions_outside_the_log(school) -> None:
    ledger, _ = school
    refused(ledger, InvalidInput, r"^--from 2024-07-03 is after --to 2024-07-02: give the earlier moment first$",
            lambda: leadership.changes(ledger, "2024-07-03", "2024-07-02"))
    refused(ledger, InvalidInput, r"--from-position 9 is after --to-position 3",
            lambda: leadership.changes(ledger, from_position=9, to_position=3))
    refused(ledger, InvalidInput, r"--from-position 999 is outside the ledger \(positions 0 to \d+\)",
            lambda: leadership.changes(ledger, from_position=999))
    refused(ledger, InvalidInput, r"--from 2030-01-01 is after now",
            lambda: leadership.changes(ledger, "2030-01-01"))
    refused(ledger, InvalidInput, r"is not a date or date-time", lambda: leadership.changes(ledger, "last tuesday"))
    refused(ledger, InvalidInput, r"give one of --from WHEN or --from-position N", lambda: leadership.changes(ledger))


def test_same_moment_both_ends_is_allowed(school) -> None:
    ledger, m = school
    same = leadership.changes(ledger, "2024-07-04T09:05Z", "2024-07-04T09:05Z")
    assert [r.position for r in same.rows] == m.flip[1:]


# -- compare -------------------------------------------------------------------------------------
def test_compare_marks_the_cells_the_meeting_changed_and_explains_them(school) -> None:
    ledger, m = school
    c = leadership.compare(ledger, "2023-24", ("2024-07-01", "2024-07-02"))
    assert (c.a.position, c.b.position) == (m.t1[-1], m.meeting[-1])
    assert c.differences() == [("1AJ", "T1"), ("3MW", "T1")]
    (p2,) = c.explain("1AJ", "T1")
    assert (p2.pupil_id, p2.before_status, p2.after_status) == ("P-0002", "smaller-steps", "appropriate")
    assert [(e.actor, e.reason) for e in p2.events] == [("LM1", "data meeting: PLR shows steady progress")]
    (p4,) = c.explain("3MW", "T1")
    assert (p4.pupil_id, p4.events[0].actor) == ("P-0004", "KSL")
    row = {r.class_id: r for r in c.rows}
    assert row["1AJ"].cells["T1"] == (Cell("recorded", 2, 1), Cell("recorded", 3, 0))
    assert row["1CW"].cells["T1"] == (Cell("not_open"), Cell("not_open"))
    assert c.totals["T1"][0].appropriate + 2 == c.totals["T1"][1].appropriate


def test_compare_takes_positions_in_any_order_and_the_earlier_is_a(school) -> None:
    ledger, m = school
    c = leadership.compare(ledger, "2023-24", positions=(m.meeting[-1], m.t1[-1]))
    assert (c.a.position, c.b.position) == (m.t1[-1], m.meeting[-1])
    mixed = leadership.compare(ledger, "2023-24", ("2024-07-02",), (m.t1[-1],))
    assert mixed.differences() == c.differences()


def test_compare_shows_a_new_class_term_and_a_revision_undone(school) -> None:
    ledger, m = school
    c = leadership.compare(ledger, "2023-24", ("2024-07-02T20:00Z", "2024-07-03"))
    assert ("1CW", "T2") in c.differences()
    assert [p.pupil_id for p in c.explain("1CW", "T2")] == ["P-0006"]
    assert c.explain("1CW", "T2")[0].before_status is None
    undone = leadership.compare(ledger, "2023-24", ("2024-07-03", "2024-07-04"))
    assert undone.differences() == []
    (flip,) = [p for p in undone.pupil_changes if not p.net]
    assert (flip.pupil_id, [e.position for e in flip.events]) == ("P-0001", m.flip)


def test_compare_needs_exactly_two_moments(school) -> None:
    ledger, _ = school
    refused(ledger, InvalidInput, "exactly two moments", lambda: leadership.compare(ledger, "2023-24", ("2024-07-01",)))
    refused(ledger, InvalidInput, "not an academic year",
            lambda: leadership.compare(ledger, "2023", ("2024-07-01", "2024-07-02")))


# -- trend ---------------------------------------------------------------------------------------
def _percents(line) -> list[float | None]:  # noqa: ANN001
    return [None if p.percent is None else round(p.percent, 1) for p in line.points]


def test_trend_per_term_for_school_phases_and_classes(school) -> None:
    ledger, _ = school
    t = leadership.trend(ledger)
    assert t.terms == ["2023-24/T1", "2023-24/T2", "2023-24/T3"]
    lines = {(line.scope, line.name): line for line in t.lines}
    assert [k for k in lines] == [("school", "Whole school"), ("phase", "EYFS/KS1/KS2"), ("class", "1AJ"),
                                  ("class", "1CW"), ("phase", "KS3/KS4"), ("class", "3MW")]
    assert _percents(lines[("school", "Whole school")]) == [80.0, 66.7, None]
    assert _percents(lines[("class", "3MW")]) == [50.0, 100.0, None]
    assert [p.state for p in lines[("class", "1CW")].points] == ["not_open", "recorded", "not_recorded"]
    report = queries.report(ledger, "2023-24")
    assert [(p.appropriate, p.smaller_steps) for p in lines[("school", "Whole school")].points] == [
        (c.appropriate, c.smaller_steps) for c in report.totals.values()]


def test_trend_as_at_and_filters(school) -> None:
    ledger, _ = school
    before = leadership.trend(ledger, class_id="1AJ", as_at="2024-07-01")
    assert [(line.scope, line.name) for line in before.lines] == [("class", "1AJ")]
    assert _percents(before.lines[0]) == [66.7, None, None]
    ks3 = leadership.trend(ledger, phase="ks3")  # one key stage finds its group
    assert [(line.scope, line.name) for line in ks3.lines] == [("phase", "KS3/KS4"), ("class", "3MW")]
    refused(ledger, NotFound, "no class 'NOPE'", lambda: leadership.trend(ledger, class_id="NOPE"))
    refused(ledger, NotFound, "no class in phase 'KS5'", lambda: leadership.trend(ledger, phase="KS5"))
    refused(ledger, InvalidInput, "not a group of key stages", lambda: leadership.trend(ledger, phase="KS9"))


def test_trend_spans_every_year_with_judgements(school, clock: FakeClock) -> None:
    ledger, _ = school
    clock.set(utc("2024-12-10T10:00:00"))
    commands.record_judgement(as_(ledger, "T1"), "P-0003", Term.parse("2024-25/T1"), "smaller-steps", "new class routines")
    t = leadership.trend(ledger, class_id="1AJ")
    assert t.terms == [f"{y}/T{n}" for y in ("2023-24", "2024-25") for n in (1, 2, 3)]
    assert _percents(t.lines[0])[3] == 0.0
    text = render("trend", t, "text")
    assert "2023-24" in text and "2024-25" in text and "0.0%" in text


def test_historic_aggregate_years_join_the_trend_the_changes_and_compare(school, clock: FakeClock) -> None:
    from ledger.services import figures

    ledger, _ = school
    clock.set(utc("2024-07-05T09:00:00"))
    figures.import_figures(as_(ledger, "dm1"), Path(__file__).parent / "fixtures" / "ehcp-data-2022-23.docx")
    t = leadership.trend(ledger)
    assert t.terms == [f"{y}/T{n}" for y in ("2022-23", "2023-24") for n in (1, 2, 3)]
    old = queries.report(ledger, "2022-23")
    (whole,) = [line for line in t.lines if line.scope == "school"]
    assert [(p.appropriate, p.smaller_steps) for p in whole.points[:3]] == [
        (c.appropriate, c.smaller_steps) for c in old.totals.values()]
    assert any("2022-23" in note for note in t.notes)
    (only_then,) = leadership.trend(ledger, class_id="4LW").lines  # a class known only from the figures
    assert [p.state for p in only_then.points] == ["recorded", "recorded", "not_recorded"] + ["not_open"] * 3
    (row,) = leadership.changes(ledger, "2024-07-05").rows
    assert (row.change, row.term, row.actor) == ("figures recorded", "2022-23", "dm1")
    c = leadership.compare(ledger, "2022-23", ("2024-07-04", "2024-07-05"))
    assert c.differences() and all(c.explain(k, t) == [] for k, t in c.differences())
    assert [f.entry.event_type for f in c.figure_events] == ["HistoricFiguresRecorded"]
    assert "Historic aggregate figures for 2022-23 recorded between A and B" in render("compare", c, "text")


# -- smaller steps -------------------------------------------------------------------------------
def test_smaller_steps_grouped_by_reason_ignoring_case_and_spacing(school) -> None:
    ledger, _ = school
    before = leadership.smaller_steps(ledger, T1, as_at="2024-07-01")
    assert [(g.reason, g.count) for g in before.groups] == [("Attendance below 90%", 2), ("extended medical absence", 1)]
    assert before.groups[0].pupils == [("P-0004", "3MW"), ("P-0005", "3MW")]
    assert (before.total, before.judged) == (3, 5)
    now = leadership.smaller_steps(ledger, T1)  # the meeting revised P-0002 and P-0004
    assert [(g.reason, g.pupils) for g in now.groups] == [("attendance  below 90%", [("P-0005", "3MW")])]
    in_class = leadership.smaller_steps(ledger, T2, class_id="1CW")
    assert (in_class.judged, in_class.total, in_class.groups[0].reason) == (1, 1, "settling in after joining")
    assert leadership.smaller_steps(ledger, T1, class_id="1AJ").groups == []
    refused(ledger, NotFound, "no class 'XX'", lambda: leadership.smaller_steps(ledger, T1, class_id="XX"))


# -- audit ---------------------------------------------------------------------------------------
def test_audit_is_the_whole_log_as_stored(school) -> None:
    ledger, _ = school
    result = leadership.audit(ledger)
    stored = list(ledger.store.read_all())
    assert [(a.entry.position, a.entry.actor, a.entry.event_type, a.entry.stream_id, a.entry.command_id)
            for a in result.lines] == [(s.position, s.actor, s.event_type, s.stream_id, s.command_id) for s in stored]
    assert [a.entry.recorded_at for a in result.lines] == [s.recorded_time for s in stored]
    assert [a.payload for a in result.lines] == [json.loads(s.payload) for s in stored]
    assert all("\n" not in a.summary and a.summary for a in result.lines)


def test_audit_filters_by_actor_time_and_type(school) -> None:
    ledger, m = school
    by_lm1 = leadership.audit(ledger, actor="LM1")
    assert [a.entry.position for a in by_lm1.lines] == m.meeting[:1]
    assert by_lm1.lines[0].summary == (
        "P-0002 2023-24/T1 1AJ: smaller-steps -> appropriate (revises position "
        f"{m.t1[1]}): data meeting: PLR shows steady progress")
    revisions = leadership.audit(ledger, since="2024-07-02", until="2024-07-04T09:00Z", event_types=("JudgementRevised",))
    assert [a.entry.position for a in revisions.lines] == m.meeting + m.flip[:1]
    assert leadership.audit(ledger, actor="HT9").lines == []  # registered, never wrote
    stages = leadership.audit(ledger, event_types=("StageRecorded", "TargetApproved"))
    assert [a.entry.event_type for a in stages.lines] == ["TargetApproved", "StageRecorded", "StageRecorded"]
    refused(ledger, NotFound, "'nobody' has never written to this ledger",
            lambda: leadership.audit(ledger, actor="nobody"))
    refused(ledger, InvalidInput, "--since 2024-07-03 is after --until 2024-07-02",
            lambda: leadership.audit(ledger, since="2024-07-03", until="2024-07-02"))


def test_summaries_name_what_happened() -> None:
    assert leadership.summarise("PupilMoved", '{"pupil_id":"P-1","from_class":"1AJ","to_class":"2MD","on":"2024-01-08"}') == \
        "P-1 moved 1AJ -> 2MD on 2024-01-08"
    assert leadership.summarise("SomethingNew", '{"b":2,"a":"x\\ny"}') == "a=x y; b=2"
    assert leadership.summarise("JudgementRecorded", "not json") == "not json"


# -- export --------------------------------------------------------------------------------------
def test_export_is_the_judgements_in_force_and_imports_back_unchanged(school, tmp_path: Path) -> None:
    ledger, m = school
    x = leadership.export_judgements(ledger, "2023-24")
    assert [(j.pupil_id, j.term, j.status) for j in x.rows if j.pupil_id == "P-0002"] == [
        ("P-0002", "2023-24/T1", "appropriate")]
    assert len(x.rows) == 8
    path = tmp_path / "mis.csv"
    path.write_text(render("judgements_export", x, "csv") + "\n", encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert list(rows[0]) == ["pupil_id", "class", "term", "status", "reason"]
    before = _head(ledger)
    imports.import_judgements(as_(ledger, "T1"), path)
    assert _head(ledger) == before  # nothing new: the export is exactly what the ledger holds


def test_export_as_at_a_moment(school) -> None:
    ledger, m = school
    x = leadership.export_judgements(ledger, "2023-24", as_at="2024-07-01")
    assert x.position == m.t1[-1]
    assert [(j.pupil_id, j.status) for j in x.rows] == [
        ("P-0001", "appropriate"), ("P-0002", "smaller-steps"), ("P-0003", "appropriate"),
        ("P-0004", "smaller-steps"), ("P-0005", "smaller-steps")]
    assert leadership.export_judgements(ledger, "2022-23").rows == []


# -- properties ----------------------------------------------------------------------------------
PUPILS = ["P-0001", "P-0002", "P-0003", "P-0004", "P-0005"]
START = datetime(2024, 7, 1, 21, 0, tzinfo=timezone.utc)  # 22:00 in London: days turn over during the run
STEP = st.tuples(
    st.sampled_from(PUPILS), st.sampled_from([T1, T2]), st.sampled_from(["appropriate", "smaller-steps"]),
    st.sampled_from(["LM1", "KSL", "DH1"]), st.integers(min_value=0, max_value=150),
)


def _moment(data: st.DataObject, head: int, times_only: bool = False) -> tuple[str | None, int | None]:
    """An --as-at (date, local date-time or UTC date-time around the run) or a --position."""
    kind = data.draw(st.sampled_from(["date", "local", "utc"] + ([] if times_only else ["position"])))
    if kind == "position":
        return None, data.draw(st.integers(min_value=0, max_value=head))
    moment = START + timedelta(minutes=data.draw(st.integers(min_value=-120, max_value=60 * 30)))
    if kind == "date":
        return moment.astimezone(LONDON).date().isoformat(), None
    if kind == "local":
        return moment.astimezone(LONDON).replace(tzinfo=None).isoformat(timespec="minutes"), None
    return moment.strftime("%Y-%m-%dT%H:%MZ"), None


def _bounds(text: str, tz: ZoneInfo, start: bool) -> datetime:
    """The plain reading of a --from/--to: a date is the whole local day."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        local = datetime.combine(day, time.min if start else time.max).replace(tzinfo=tz)
        return local.astimezone(timezone.utc)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(timezone.utc)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_compare_and_changes_agree_with_reports_and_the_raw_log(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock(datetime(2024, 7, 1, 9, 0, tzinfo=timezone.utc))
        store = open_store(f"sqlite:///{folder}/events.db", clock=clock, must_exist=False)
        store.create_schema()
        ledger = ledger_for_store(store, None, actor="dm1")
        try:
            commands.init(ledger)
            _random_history(ledger, clock, Path(folder), data)
            head = store.head().position
            (as_a, pos_a), (as_b, pos_b) = _moment(data, head), _moment(data, head)
            args = ((as_a,) if as_a else ()) + ((as_b,) if as_b else ())
            positions = tuple(p for p in (pos_a, pos_b) if p is not None)
            c = leadership.compare(ledger, "2023-24", args, positions)

            # compare's differences are exactly the cell-by-cell differences of the two reports.
            ra = queries.report(ledger, "2023-24", position=c.a.position)
            rb = queries.report(ledger, "2023-24", position=c.b.position)
            cells_a = {(row.class_id, t): cell for p in ra.phases for row in p.classes for t, cell in row.terms.items()}
            cells_b = {(row.class_id, t): cell for p in rb.phases for row in p.classes for t, cell in row.terms.items()}
            expected = sorted(k for k in cells_b if leadership.cell_differs(cells_a.get(k, Cell("not_open")), cells_b[k]))
            assert sorted(c.differences()) == expected
            event(f"cells differing: {min(len(expected), 3)}+")

            # Each difference is explained: the pupils' net changes add up to the change in counts.
            for class_id, term in c.differences():
                a, b = cells_a.get((class_id, term), Cell("not_open")), cells_b[(class_id, term)]
                for status, attr in (("appropriate", "appropriate"), ("smaller-steps", "smaller_steps")):
                    gained = sum(1 for p in c.explain(class_id, term) if (p.after_class, p.after_status) == (class_id, status))
                    lost = sum(1 for p in c.explain(class_id, term) if (p.before_class, p.before_status) == (class_id, status))
                    assert getattr(b, attr) - getattr(a, attr) == gained - lost
            events = [s for s in store.read_all() if s.event_type.startswith("Judgement")]
            assert sorted(e.position for p in c.pupil_changes for e in p.events) == [
                e.position for e in events if c.a.position < e.position <= c.b.position]

            # changes lists exactly the judgement events with from <= recorded_at <= to.
            texts = [t for t in (as_a, as_b) if t]
            while len(texts) < 2:
                texts.append(_moment(data, head, times_only=True)[0])
            low, high = texts
            since, until = _bounds(low, ledger.tz, True), _bounds(high, ledger.tz, False)
            if since <= until:
                listed = leadership.changes(ledger, low, high, kinds=("judgement",))
                plain = [e.position for e in events if since <= e.recorded_time <= until]
                assert [r.position for r in listed.rows] == plain
                event(f"changes by time: {min(len(plain), 3)}+ events")
            else:
                with pytest.raises(InvalidInput, match="is after --to"):
                    leadership.changes(ledger, low, high)
                event("changes by time: refused, --from after --to")
            lo, hi = sorted(positions) if len(positions) == 2 else (1, head)
            by_position = leadership.changes(ledger, from_position=lo, to_position=hi, kinds=("judgement",))
            assert [r.position for r in by_position.rows] == [e.position for e in events if max(lo, 1) <= e.position <= hi]
        finally:
            ledger.close()


def _random_history(ledger: Ledger, clock: FakeClock, folder: Path, data: st.DataObject) -> None:
    for staff_id, role in {"T1": "teacher", "LM1": "line-manager", "KSL": "ks-lead", "DH1": "deputy-head"}.items():
        commands.add_staff(ledger, staff_id, role)
    commands.open_class(ledger, "1AJ", "EYFS/KS1/KS2", None, T1)
    opens = data.draw(st.sampled_from([T1, T2]))
    commands.open_class(ledger, "3MW", "KS3/KS4", None, opens)
    roll = folder / "roll.csv"
    roll.write_text("pupil_id,class,enrolled_on\n" + "".join(
        f"{p},1AJ,2023-09-04\n" if i < 3 else f"{p},3MW,{'2023-09-04' if opens == T1 else '2024-01-02'}\n"
        for i, p in enumerate(PUPILS)), encoding="utf-8")
    imports.import_pupils(ledger, roll)
    clock.set(START)
    for pupil, term, status, actor, gap in data.draw(st.lists(STEP, min_size=1, max_size=14)):
        clock.advance(minutes=gap)
        _, existing = ledger.judgement(pupil, term)
        try:
            if existing is None:
                commands.record_judgement(as_(ledger, "T1"), pupil, term, status, "long absence" if status != "appropriate" else None)
            elif existing.status != status:
                commands.revise_judgement(as_(ledger, actor), pupil, term, status, "moderation at the data meeting")
        except LedgerError:
            pass  # e.g. 3MW not open in T1: refused, nothing written
    as_(ledger, "dm1")
