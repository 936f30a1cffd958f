"""Hypothesis: the DuckDB learning-record projections equal a plain-Python fold of the same events.

Each example builds a random ledger through the application services, with a fake clock walking
through the 2023-24 school year: outcomes set, revised and closed; targets set by teachers and Key
Stage leads across the three terms, approved (sometimes by the wrong person, which is refused),
revised (which needs approving again) and withdrawn; stages recorded on random dates, with
regressions that sometimes carry a reason and sometimes do not (refused); judgements and revisions;
term dates sometimes set. A refused command must write nothing.

Then, at random positions p, the per-target view (``targets``), the per-target term progress
(``term_progress``) of each term, the pupil page, the outcomes, the termly review's lines and
``report --targets``' moves are compared with :func:`fold`, written here from the issue's
definitions with dictionaries and loops only: it reads ``store.read_all()`` and calls neither the
domain nor the projection's SQL.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import FakeClock
from ledger.bootstrap import ledger_for_store
from ledger.domain.calendar import Term
from ledger.errors import Conflict, LedgerError, NotFound
from ledger.readmodel import OutcomeView, StageView, TargetView, TermProgress
from ledger.services import commands, imports, learning, learning_queries, queries
from ledger.services.context import Ledger
from ledger.services.learning_queries import ReviewLine
from ledger.store import open_store
from ledger.store.base import EventStore

SETTINGS = settings(
    max_examples=30, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

LONDON = ZoneInfo("Europe/London")
STAFF = {"T1": "teacher", "T2": "teacher", "KS1": "ks-lead", "KS2": "ks-lead", "DH": "deputy-head",
         "HD": "head", "LM": "line-manager"}
SETTERS = ["T1", "T2", "KS1", "T1", "T2", "KS1", "HD"]  # HD may not set targets: refused
APPROVERS = ["KS1", "KS2", "DH", "HD", "T2"]   # T2 may not approve: refused; the setter is refused too
CHANGERS = ["T1", "KS2", "DH"]
RECORDERS = ["T1", "LM", "DH", "dm1"]
PUPILS = {"P-001": "1AJ", "P-002": "1AJ", "P-003": "2MD", "P-004": "2MD"}
AREAS = ["communication-interaction", "cognition-learning", "semh", "sensory-physical", "preparation-adulthood"]
FRAMEWORKS = ["engagement", "three-step", "prompt", "fluency", "sensory"] * 3 + ["nope"]  # 'nope' does not exist
TERMS = [Term.parse(f"2023-24/T{n}") for n in (1, 2, 3)]
SCHOOL_DATES = {  # the school's own dates, inside the defaults so they never overlap
    1: (date(2023, 9, 4), date(2023, 12, 20)),
    2: (date(2024, 1, 3), date(2024, 3, 28)),
    3: (date(2024, 4, 15), date(2024, 7, 23)),
}
YEAR_FIRST, YEAR_LAST = date(2023, 9, 1), date(2024, 8, 31)
DEFAULT_DATES = {1: (date(2023, 9, 1), date(2023, 12, 31)), 2: (date(2024, 1, 1), date(2024, 3, 31)),
                 3: (date(2024, 4, 1), date(2024, 8, 31))}  # until the school sets its own
START = datetime(2023, 9, 1, 7, 0, tzinfo=timezone.utc)
LATEST = datetime(2024, 9, 20, 12, 0, tzinfo=timezone.utc)  # a little into the next year


# -- generating a ledger --------------------------------------------------------------------------
idx = st.integers(0, 40)
PARAMS = {
    "wait": st.tuples(st.integers(0, 24), st.integers(0, 23)),
    "outcome": st.tuples(idx, st.sampled_from(AREAS)),
    "revise_outcome": st.tuples(idx, st.sampled_from(AREAS)),
    "close_outcome": st.tuples(idx),
    # (outcome, framework, terms as a bit mask, setter, 0 = another pupil's outcome: refused)
    "target": st.tuples(idx, st.sampled_from(FRAMEWORKS), st.integers(1, 7), st.sampled_from(SETTERS),
                        st.integers(0, 9)),
    "approve": st.tuples(idx, st.sampled_from(APPROVERS)),
    "revise": st.tuples(idx, st.sampled_from(CHANGERS), st.integers(0, 7), st.booleans()),
    "withdraw": st.tuples(idx, st.sampled_from(CHANGERS)),
    # (target, stage number - 1, days before today, with a reason, recorder)
    "stage": st.tuples(idx, st.integers(0, 4) | st.integers(0, 5), st.integers(0, 6) | st.integers(0, 90),
                       st.sampled_from([True, True, False]), st.sampled_from(RECORDERS)),
    "judge": st.tuples(st.sampled_from(sorted(PUPILS)), st.integers(1, 3),
                       st.sampled_from(["appropriate", "smaller-steps"])),
    "term_dates": st.tuples(st.integers(1, 3)),
}
WEIGHTS = {"wait": 2, "outcome": 2, "revise_outcome": 1, "close_outcome": 1, "target": 5, "approve": 5,
           "revise": 1, "withdraw": 1, "stage": 16, "judge": 3, "term_dates": 1}
# Each step: days the clock moves on first, then one command (or a longer wait).
OPS = st.tuples(
    st.integers(0, 6),
    st.sampled_from([k for k, n in WEIGHTS.items() for _ in range(n)]).flatmap(
        lambda kind: PARAMS[kind].map(lambda params: (kind, *params))),
)


@dataclass
class World:
    store: EventStore
    ledger: Ledger
    clock: FakeClock
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (outcome id, pupil)
    targets: list[str] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)  # approved and not withdrawn (as the runner saw it)
    refused: int = 0
    written: int = 0


def attempt(world: World, actor: str, action) -> bool:  # noqa: ANN001
    """Run one command as ``actor``; a refusal is fine but must write nothing."""
    world.clock.advance(seconds=37)
    world.ledger.actor = actor
    before = world.store.head()
    try:
        action()
    except LedgerError as exc:
        assert not isinstance(exc, Conflict), str(exc)
        assert world.store.head() == before, f"a refused command wrote to the ledger: {exc}"
        world.refused += 1
        return False
    world.written += 1
    return True


def build_world(folder: Path) -> World:
    clock = FakeClock(START)
    store = open_store(f"sqlite:///{folder / 'events.db'}", clock=clock, must_exist=False)
    ledger = ledger_for_store(store, projection=None, actor="dm1")
    commands.init(ledger)
    for staff_id, role in STAFF.items():
        commands.add_staff(ledger, staff_id, role)
    for class_id in sorted(set(PUPILS.values())):
        commands.open_class(ledger, class_id, "EYFS/KS1/KS2", from_term=TERMS[0])
    roll = folder / "roll.csv"
    roll.write_text("pupil_id,class,enrolled_on\n" + "".join(f"{p},{c},2023-09-01\n" for p, c in PUPILS.items()))
    imports.import_pupils(ledger, roll)
    world = World(store, ledger, clock)
    attempt(world, "KS1", lambda: learning.add_framework(ledger, "sensory", "Sensory responses",
                                                          ["Notices", "Tolerates", "Explores", "Initiates"]))
    for n, pupil in enumerate(PUPILS, 1):
        attempt(world, "T1", lambda p=pupil, n=n: learning.set_outcome(ledger, f"O-{n}", p, AREAS[n % 5], f"Outcome number {n}"))
        world.outcomes.append((f"O-{n}", pupil))
    return world


def terms_text(mask: int) -> str:
    return ";".join(str(t) for i, t in enumerate(TERMS) if mask & (1 << i))


def step(world: World, gap_and_op: tuple[int, tuple]) -> None:
    gap, op = gap_and_op
    world.clock.set(min(LATEST, world.clock.now + timedelta(days=gap)))
    run(world, op)


def run(world: World, op: tuple) -> None:  # noqa: C901 - one branch per kind of command
    led, kind = world.ledger, op[0]
    pick = lambda items, i: items[i % len(items)] if items else None  # noqa: E731
    if kind == "wait":
        world.clock.set(min(LATEST, world.clock.now + timedelta(days=op[1], hours=op[2])))
    elif kind == "outcome":
        n = len(world.outcomes) + 1
        pupil = sorted(PUPILS)[op[1] % len(PUPILS)]
        if attempt(world, "T2", lambda: learning.set_outcome(led, f"O-{n}", pupil, op[2], f"Outcome number {n}")):
            world.outcomes.append((f"O-{n}", pupil))
    elif kind == "revise_outcome":
        outcome_id, _ = pick(world.outcomes, op[1])
        attempt(world, "KS1", lambda: learning.revise_outcome(led, outcome_id, op[2], f"Revised at {world.clock.now:%H%M%S}",
                                                               "annual review"))
    elif kind == "close_outcome":
        outcome_id, _ = pick(world.outcomes, op[1])
        attempt(world, "KS2", lambda: learning.close_outcome(led, outcome_id, "achieved at annual review"))
    elif kind == "target":
        _, i, framework, mask, setter, wrong = op
        outcome_id, pupil = pick(world.outcomes, i)
        if wrong == 0:  # someone else's pupil: refused unless it happens to be the same one
            pupil = sorted(PUPILS)[(sorted(PUPILS).index(pupil) + 1) % len(PUPILS)]
        target_id = f"T-{len(world.targets) + 1}"
        if attempt(world, setter, lambda: learning.set_target(led, target_id, pupil, outcome_id, framework,
                                                              f"Target {target_id}", terms_text(mask))):
            world.targets.append(target_id)
    elif kind == "approve":  # mostly a target awaiting approval; sometimes any (approved twice: refused)
        waiting = [t for t in world.targets if t not in world.approved]
        target_id = pick(world.targets if op[1] % 4 == 0 else waiting, op[1])
        if target_id and attempt(world, op[2], lambda: learning.approve_targets(led, [target_id])):
            world.approved.append(target_id)
    elif kind == "revise":
        _, i, actor, mask, new_words = op
        target_id = pick(world.targets, i)
        if target_id:
            words = f"Target {target_id} revised {world.clock.now:%m%d%H%M}" if new_words else None
            if attempt(world, actor, lambda: learning.revise_target(led, target_id, words, terms_text(mask) or None,
                                                                    "moderation meeting")):
                world.approved = [t for t in world.approved if t != target_id]
    elif kind == "withdraw":
        target_id = pick(world.targets, op[1])
        if target_id and attempt(world, op[2], lambda: learning.withdraw_target(led, target_id, "replaced after review")):
            world.approved = [t for t in world.approved if t != target_id]
    elif kind == "stage":
        _, i, stage_n, back, with_reason, actor = op
        target_id = pick(world.targets if i % 5 == 0 else world.approved, i)  # mostly an approved target
        if target_id:
            on = max(date(2023, 8, 1), world.clock.now.astimezone(LONDON).date() - timedelta(days=back))
            reason = "illness and absence" if with_reason else None
            attempt(world, actor, lambda: learning.record_stage(led, target_id, str(stage_n + 1), on,
                                                                f"seen in {stage_n + 2} sessions", reason))
    elif kind == "judge":
        _, pupil, n, status = op
        term = TERMS[n - 1]
        _, existing = led.judgement(pupil, term)
        if existing is None:
            reason = "long absence" if status == "smaller-steps" else None
            attempt(world, "T1", lambda: commands.record_judgement(led, pupil, term, status, reason))
        else:
            attempt(world, "HD", lambda: commands.revise_judgement(led, pupil, term, status, "moderation"))
    elif kind == "term_dates":
        start, end = SCHOOL_DATES[op[1]]
        attempt(world, "dm1", lambda: commands.set_term_dates(led, TERMS[op[1] - 1], start, end))
    else:  # pragma: no cover
        raise AssertionError(kind)


# -- the reference fold ---------------------------------------------------------------------------
def _day(text: str) -> date:
    return date.fromisoformat(text)


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


@dataclass
class Folded:
    targets: dict[str, dict] = field(default_factory=dict)
    outcomes: dict[str, dict] = field(default_factory=dict)
    term_dates: dict[int, tuple[date, date]] = field(default_factory=dict)
    roll: dict[str, str] = field(default_factory=dict)
    judgements: dict[tuple[str, str], dict] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)


def fold(events: list, p: int) -> Folded:
    """Everything the learning-record reads need, as the ledger stood at position ``p``."""
    f = Folded(term_dates=dict(DEFAULT_DATES))
    for e in events:
        if e.position > p:
            break
        d = json.loads(e.payload)
        kind = e.event_type
        if kind == "ClassOpened":
            f.classes.add(d["class_id"])
        elif kind == "PupilEnrolled":
            f.roll[d["pupil_id"]] = d["class_id"]
        elif kind in ("JudgementRecorded", "JudgementRevised"):
            f.judgements[(d["pupil_id"], d["term"])] = d
        elif kind == "TermDatesSet" and d["term"].startswith("2023-24/"):
            f.term_dates[int(d["term"][-1])] = (_day(d["start"]), _day(d["end"]))
        elif kind == "OutcomeSet":
            f.outcomes[d["outcome_id"]] = {**d, "closed": False}
        elif kind == "OutcomeRevised":
            f.outcomes[d["outcome_id"]].update(area=d["area"], description=d["description"])
        elif kind == "OutcomeClosed":
            f.outcomes[d["outcome_id"]]["closed"] = True
        elif kind == "TargetSet":
            f.targets[d["target_id"]] = {**d, "terms": sorted(d["terms"]), "approved_by": None, "withdrawn": False,
                                         "stages": []}
        elif kind == "TargetRevised":
            f.targets[d["target_id"]].update(description=d["description"], terms=sorted(d["terms"]), approved_by=None)
        elif kind == "TargetApproved":
            f.targets[d["target_id"]]["approved_by"] = e.actor
        elif kind == "TargetWithdrawn":
            f.targets[d["target_id"]]["withdrawn"] = True
        elif kind == "StageRecorded":
            f.targets[d["target_id"]]["stages"].append(StageView(
                e.position, _instant(e.recorded_at), e.actor, d["stage"], d["stage_index"], _day(d["achieved_on"]),
                d.get("note", ""), d.get("reason")))
    return f


def by_date(stages: list[StageView]) -> list[StageView]:
    return sorted(stages, key=lambda s: (s.achieved_on, s.position))


def expected_targets(f: Folded, pupil: str | None) -> list[TargetView]:
    views = []
    for target_id, t in f.targets.items():
        if pupil is not None and t["pupil_id"] != pupil:
            continue
        stages = by_date(t["stages"])
        current = stages[-1] if stages else None
        views.append(TargetView(
            target_id, t["pupil_id"], t["outcome_id"], t["framework_id"], t["description"], list(t["terms"]),
            t["approved_by"] is not None, t["approved_by"], t["withdrawn"],
            current.stage if current else None, current.stage_index if current else None, stages,
        ))
    return sorted(views, key=lambda v: (v.pupil_id, v.target_id))


def expected_progress(f: Folded, term: Term) -> list[TermProgress]:
    start, end = f.term_dates[term.number]
    rows = []
    for target_id, t in f.targets.items():
        if t["withdrawn"] or str(term) not in t["terms"]:
            continue
        stages = by_date(t["stages"])
        before = [s for s in stages if s.achieved_on < start]
        during = [s for s in stages if start <= s.achieved_on <= end]
        by_end = [s for s in stages if s.achieved_on <= end]
        baseline = before[-1].stage_index if before else (during[0].stage_index if during else None)
        in_year = {s.stage_index for s in stages if YEAR_FIRST <= s.achieved_on <= min(end, YEAR_LAST)}
        rows.append(TermProgress(target_id, t["pupil_id"], t["approved_by"] is not None, baseline,
                                 by_end[-1].stage_index if by_end else None, len(during), len(in_year)))
    return sorted(rows, key=lambda r: (r.pupil_id, r.target_id))


def expected_review(f: Folded, term: Term, class_id: str | None) -> list[ReviewLine]:
    progress = expected_progress(f, term)
    pupils = dict(f.roll)
    judged = {pupil: j for (pupil, t), j in f.judgements.items() if t == str(term)}
    pupils.update({pupil: j["class_id"] for pupil, j in judged.items()})
    lines = []
    for pupil in sorted(pupils):
        if class_id and pupils[pupil] != class_id:
            continue
        rows = [r for r in progress if r.pupil_id == pupil]
        approved = [r for r in rows if r.approved]
        up = [r for r in approved if r.end_index is not None and r.baseline_index is not None
              and r.end_index > r.baseline_index]
        down = [r for r in approved if r.end_index is not None and r.baseline_index is not None
                and r.end_index < r.baseline_index]
        j = judged.get(pupil)
        flags = []
        if j is None:
            flags.append(f"on roll with no judgement for {term}")
        elif j["status"] == "appropriate" and not up:
            flags.append("judged appropriate but no stage progress recorded this term")
        if not approved:
            flags.append(f"no approved targets for {term}")
        waiting = [r.target_id for r in rows if not r.approved]
        if waiting:
            flags.append(f"{len(waiting)} target(s) awaiting approval: {', '.join(waiting)}")
        if term.number == 3:  # every approved target of the year, whichever terms it was for
            last = min(f.term_dates[3][1], YEAR_LAST)
            thin = [t_id for t_id, t in sorted(f.targets.items())
                    if t["pupil_id"] == pupil and t["approved_by"] and not t["withdrawn"]
                    and any(str(y) in t["terms"] for y in TERMS)
                    and len({s.stage_index for s in t["stages"] if YEAR_FIRST <= s.achieved_on <= last}) < 3]
            if thin:
                flags.append(f"fewer than 3 distinct stages recorded this year: {', '.join(thin)}")
        lines.append(ReviewLine(pupil, pupils[pupil], j["status"] if j else None, j.get("reason") if j else None,
                                len(rows), len(approved), len(up), len(down), len(approved) - len(up) - len(down),
                                flags))
    return lines


def expected_moves(f: Folded) -> dict[tuple[str, str], tuple[int, int]]:
    moves = {}
    for term in TERMS:
        judged = {pupil: j["class_id"] for (pupil, t), j in f.judgements.items() if t == str(term)}
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in expected_progress(f, term):
            if r.pupil_id in judged and r.approved:
                moved = r.baseline_index is not None and r.end_index is not None and r.end_index > r.baseline_index
                tally[judged[r.pupil_id]][0] += int(moved)
                tally[judged[r.pupil_id]][1] += 1
        moves.update({(klass, term.label): (m, n) for klass, (m, n) in tally.items()})
    return moves


def expected_outcomes(f: Folded, pupil: str) -> list[OutcomeView]:
    return [OutcomeView(o, d["area"], d["description"], d["closed"])
            for o, d in sorted(f.outcomes.items()) if d["pupil_id"] == pupil]


# -- the properties ---------------------------------------------------------------------------
def check_position(world: World, events: list, p: int, class_id: str | None) -> None:
    led, model = world.ledger, world.ledger.read_model
    f = fold(events, p)
    assert model.term_dates(p, 2023) == f.term_dates, p
    assert model.targets(p, None, with_stages=True) == expected_targets(f, None), p
    for pupil in PUPILS:  # the pupil page reads targets(p, pupil, with_stages=True) and outcomes(p, pupil)
        page = learning_queries.pupil_page(led, pupil, position=p)
        assert page.position == p
        assert page.targets == expected_targets(f, pupil), (p, pupil)
        assert page.outcomes == expected_outcomes(f, pupil), (p, pupil)
    for term in TERMS:
        start, end = f.term_dates[term.number]
        got = model.term_progress(p, term.key, start, end, YEAR_FIRST, YEAR_LAST)
        assert got == expected_progress(f, term), (p, str(term))
        if class_id is not None and class_id not in f.classes:  # not opened yet at p: refused, not empty
            with pytest.raises(NotFound):
                learning_queries.review(led, term, class_id, position=p)
            continue
        review = learning_queries.review(led, term, class_id, position=p)
        assert review.position == p
        assert review.lines == expected_review(f, term, class_id), (p, str(term), class_id)
    report = learning_queries.with_target_moves(led, queries.report(led, "2023-24", position=p))
    assert report.target_moves == expected_moves(f), p


def describe(events: list) -> None:
    """What the example exercised (see ``pytest --hypothesis-show-statistics``)."""
    stages = [json.loads(e.payload) for e in events if e.event_type == "StageRecorded"]
    event(f"stages recorded: {'0' if not stages else '1-4' if len(stages) < 5 else '5-14' if len(stages) < 15 else '15+'}")
    event(f"regressions with a reason: {'yes' if any(s['reason'] for s in stages) else 'no'}")
    f = fold(events, events[-1].position)
    rows = [r for term in TERMS for r in expected_progress(f, term) if r.approved]
    event(f"term rows moved up: {'yes' if any(r.moved_up for r in rows) else 'no'}")
    event(f"term rows regressed: {'yes' if any(r.regressed for r in rows) else 'no'}")
    kinds = {e.event_type for e in events}
    for kind in ("TargetRevised", "TargetWithdrawn", "JudgementRevised", "TermDatesSet", "OutcomeClosed"):
        event(f"{kind}: {'yes' if kind in kinds else 'no'}")


@SETTINGS
@given(first=st.lists(PARAMS["target"], min_size=1, max_size=6), ops=st.lists(OPS, min_size=20, max_size=80),
       data=st.data())
def test_learning_projections_equal_a_plain_fold_at_random_positions(first: list[tuple], ops: list[tuple],
                                                                      data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        world = build_world(Path(folder))
        try:
            for params in first:  # a few targets at the start of the year, most of them approved
                run(world, ("target", *params))
            for n, target_id in enumerate(list(world.targets)):
                run(world, ("approve", n + 1, "DH"))
            for op in ops:
                step(world, op)
            events = list(world.store.read_all())
            head = events[-1].position
            assert [e.position for e in events] == list(range(1, head + 1))
            describe(events)
            positions = {head, *data.draw(st.lists(st.integers(0, head), min_size=1, max_size=2), label="positions")}
            class_id = data.draw(st.sampled_from([None, "1AJ", "2MD"]), label="class")
            for p in sorted(positions):
                check_position(world, events, p, class_id)
        finally:
            world.ledger.close()


def test_the_fold_sees_regressions_withdrawals_and_revisions() -> None:
    """A fixed story through the same machinery, so the property cannot pass by never exercising them."""
    with tempfile.TemporaryDirectory() as folder:
        world = build_world(Path(folder))
        try:
            story = [
                ("term_dates", 1), ("target", 0, "engagement", 3, "T1", 1), ("approve", 0, "KS1"),
                ("wait", 20, 0), ("stage", 0, 1, 15, False, "T1"), ("wait", 24, 0), ("stage", 0, 3, 2, False, "T1"),
                ("wait", 24, 0), ("stage", 0, 0, 1, False, "LM"),  # a regression without a reason: refused
                ("stage", 0, 0, 1, True, "LM"), ("target", 1, "three-step", 7, "KS1", 1),
                ("approve", 1, "KS1"),  # the setter: refused
                ("approve", 1, "DH"), ("revise", 1, "T1", 6, True), ("withdraw", 0, "DH"), ("wait", 24, 0),
                ("wait", 24, 0), ("wait", 24, 0), ("wait", 24, 0), ("judge", "P-001", 1, "appropriate"),
                ("judge", "P-002", 1, "smaller-steps"), ("judge", "P-001", 1, "smaller-steps"),
            ]
            for op in story:
                run(world, op)
            assert world.refused == 2
            events = list(world.store.read_all())
            kinds = [e.event_type for e in events]
            for kind in ("StageRecorded", "TargetRevised", "TargetWithdrawn", "JudgementRevised", "TermDatesSet"):
                assert kind in kinds, kind
            regressions = [json.loads(e.payload) for e in events if e.event_type == "StageRecorded"
                           and json.loads(e.payload)["reason"]]
            assert len(regressions) == 1
            for p in range(0, events[-1].position + 1, 3):
                check_position(world, events, p, None)
            check_position(world, events, events[-1].position, "1AJ")
            f = fold(events, events[-1].position)
            assert expected_progress(f, TERMS[0]) == []  # T-1 withdrawn; T-2 moved to T2 and T3
            t2 = expected_progress(f, TERMS[1])
            assert [(r.target_id, r.approved) for r in t2] == [("T-2", False)]  # revised: awaiting approval again
        finally:
            world.ledger.close()
