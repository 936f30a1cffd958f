"""Build the shipped sample ledger ``events.db`` from the school's 2023-24 table.

    python scripts/build_sample.py [--out events.db] [--source data/ehcp-data-2023-24.csv]

The table only has counts, so the builder invents what a real ledger would hold behind them:
pseudonymous pupils (P-0001...) on class rolls whose size each term is appropriate + smaller steps,
class moves and a leaver at term boundaries, one judgement per pupil per term with the table's
statuses, and revisions made at the following data meeting, so the final figures are the table's and
the figures as at a date before a meeting differ in exactly the revised cells.

Behind the judgements sits each pupil's personal learning record: 2-3 EHCP outcomes and 2-6 targets on
the shipped frameworks or the school's own sensory scale, uploaded per class by the class teachers in
September and approved by the Key Stage leads class by class; stages uploaded per class once a term
(a few typed in during the last week) that fit the judgements in force, so pupils judged smaller steps
show fewer moves; a few regressions with health reasons, two revised and re-approved targets, one
withdrawn, and a few targets for next year still awaiting approval.

Everything goes through the application services (commands and imports), as staff would, so the
sample is also a worked example of the ledger's rules. The output is deterministic: a fixed clock
that only this script moves, a command id per command, one seeded random generator used in a fixed
order, and import files whose bytes depend on the plan alone (their temporary path is never stored).
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from ledger.bootstrap import open_ledger
from ledger.domain.calendar import AcademicYear, Term
from ledger.domain.classes import normalise_phase
from ledger.domain.learning import BUILTIN_FRAMEWORKS
from ledger.services import commands, imports, learning, learning_imports
from ledger.services.context import Ledger

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO / "data" / "ehcp-data-2023-24.csv"
DEFAULT_OUT = REPO / "events.db"

SEED = 20230904
SCHOOL = "Sample Special School (invented data)"
TIMEZONE = "Europe/London"
YEAR = AcademicYear(2023)
TERMS = (1, 2, 3)
TERM_DATES = {
    1: (date(2023, 9, 4), date(2023, 12, 20)),
    2: (date(2024, 1, 4), date(2024, 3, 28)),
    3: (date(2024, 4, 15), date(2024, 7, 19)),
}
# The moderation meeting where each term's judgements are revised: early in the next term, and for
# the summer term at the end-of-year meeting, so the whole sample stays inside 2023-24.
MEETINGS = {1: date(2024, 1, 10), 2: date(2024, 4, 17), 3: date(2024, 7, 17)}
JUDGEMENT_SLOTS = (time(9, 30), time(11, 15), time(14, 0))  # three class data meetings a day
TRANSFERS_INTO_NEW_CLASS = 2  # a class opening mid-year takes a few pupils from its phase
APPROPRIATE, SMALLER_STEPS = "appropriate", "smaller-steps"
DATA_MANAGER, HEAD = "DM1", "HT1"
DEPUTY_HEADS = ("DH1", "DH2")

REASONS = (
    "attendance below 90% this term",
    "extended medical absence",
    "change of medication affecting engagement",
    "health: several hospital appointments during the term",
    "family circumstances affecting attendance and regulation",
    "change of provision: revised timetable and transport",
    "awaiting speech and language therapy input named in the EHCP",
    "EHCP targets revised at annual review part-way through the term",
    "dysregulation after a change of staffing in class",
    "increased seizure activity reduced time in learning",
)
ARRIVAL_REASONS = {
    "moved": "transition to a new class this term",
    "joined": "settling in after joining the school this term",
}


@dataclass(frozen=True)
class PlannedRevision:
    """A change agreed at a term's moderation meeting: one pupil of ``class_id`` ends up ``to_status``."""

    term: int
    class_id: str
    to_status: str
    actor: str
    reason: str
    via_import: bool = False  # part of the meeting's moderation file, imported with --revise


BATCH_REASON = "KS3/KS4 moderation at the April data meeting: judgements re-checked against PLR evidence"
REVISIONS = (
    PlannedRevision(1, "1RF", APPROPRIATE, "LM1",
                    "January data meeting: PLR shows three distinct stages against each EHCP target"),
    PlannedRevision(1, "3MW", SMALLER_STEPS, "KSL-KS3",
                    "January data meeting: communication target not evidenced in the PLR after medical absence"),
    PlannedRevision(1, "6AO", APPROPRIATE, "KSL-KS5",
                    "work-experience evidence added to the PLR after the December data meeting"),
    PlannedRevision(2, "3LP", SMALLER_STEPS, "DH1", BATCH_REASON, via_import=True),
    PlannedRevision(2, "4HM", APPROPRIATE, "DH1", BATCH_REASON, via_import=True),
    PlannedRevision(2, "2CB", SMALLER_STEPS, "LM1",
                    "April data meeting: attendance fell to 78% after a hospital stay in March"),
    PlannedRevision(3, "APOLLO", SMALLER_STEPS, "KSL-EYFS",
                    "end-of-year moderation: change of medication in June; two targets carried forward"),
    PlannedRevision(3, "3LS", APPROPRIATE, HEAD,
                    "end-of-year moderation: PLR entries from the summer work placement show every target met"),
    PlannedRevision(3, "2LB", SMALLER_STEPS, "DH2",
                    "end-of-year moderation: family circumstances limited progress on the independence target"),
)


# -- the seed table --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TermFigures:
    """One class in one term: not open (``N/A``), open with no figures (blank), or the two counts."""

    open: bool
    appropriate: int | None = None
    smaller_steps: int | None = None

    @property
    def recorded(self) -> bool:
        return self.appropriate is not None


@dataclass(frozen=True)
class ClassFigures:
    phase: str
    class_id: str
    mark: str | None
    terms: dict[int, TermFigures]


def read_figures(path: Path) -> list[ClassFigures]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    figures = []
    for line, row in enumerate(rows, start=2):
        class_id, mark = split_label(row["class"])
        terms = {
            n: term_figures(row[f"t{n}_appropriate"], row[f"t{n}_smaller_steps"], f"{path}:{line} T{n}")
            for n in TERMS
        }
        figures.append(ClassFigures(normalise_phase(row["phase"]), class_id, mark, terms))
    return figures


def split_label(label: str) -> tuple[str, str | None]:
    """``'2MD (PMLD)'`` is class 2MD with the mark PMLD."""
    m = re.fullmatch(r"([^\s(]+)\s*(?:\(\s*([^)]+?)\s*\))?", label)
    if not m:
        raise ValueError(f"class '{label}' is not CLASS or CLASS (MARK)")
    return m.group(1), m.group(2)


def term_figures(appropriate: str, smaller_steps: str, where: str) -> TermFigures:
    cells = (appropriate.upper(), smaller_steps.upper())
    if cells == ("N/A", "N/A"):
        return TermFigures(open=False)
    if cells == ("", ""):
        return TermFigures(open=True)
    try:
        return TermFigures(True, int(appropriate), int(smaller_steps))
    except ValueError:
        raise ValueError(f"{where}: cells '{appropriate}', '{smaller_steps}' are not two counts, N/A or blank") from None


def roll_sizes(fig: ClassFigures) -> dict[int, int]:
    """Pupils on the class roll each term; a blank term keeps the previous roll (pupils stay, unjudged)."""
    sizes: dict[int, int] = {}
    previous = 0
    for n in TERMS:
        cell = fig.terms[n]
        if not cell.open:
            size = 0
        elif cell.recorded:
            size = (cell.appropriate or 0) + (cell.smaller_steps or 0)
        elif previous:
            size = previous
        else:
            raise ValueError(f"{fig.class_id} T{n} is blank with no earlier roll to say how many pupils it has")
        sizes[n] = previous = size
    return sizes


def opening_term(fig: ClassFigures) -> int:
    return next(n for n in TERMS if fig.terms[n].open)


def check_report_order(figures: list[ClassFigures]) -> None:
    """The report lists classes by opening event, grouped by phase: that must give the table's order."""
    opened = sorted(figures, key=opening_term)  # stable: table order within each opening term
    grouped: dict[str, list[str]] = {}
    for fig in opened:
        grouped.setdefault(fig.phase, []).append(fig.class_id)
    report_order = [c for classes in grouped.values() for c in classes]
    if report_order != [f.class_id for f in figures]:
        raise ValueError(f"opening classes by term would list them as {report_order}, not in the table's order")


# -- the roll ----------------------------------------------------------------------------------------
@dataclass
class Placement:
    pupil_id: str
    class_id: str
    start: date
    last_day: date | None = None


@dataclass
class RollPlan:
    placements: list[Placement] = field(default_factory=list)
    rolls: dict[int, dict[str, list[str]]] = field(default_factory=dict)  # term -> class -> pupils
    arrivals: dict[tuple[str, int], str] = field(default_factory=dict)  # (pupil, term) -> joined|moved

    def roll_rows(self, term: int) -> list[dict[str, str]]:
        """The school's roll export as at the start of ``term``: every placement known by then."""
        start = TERM_DATES[term][0]
        known = sorted((p for p in self.placements if p.start <= start), key=lambda p: (p.pupil_id, p.start))
        # A move or leaving planned for a later term is not known yet at this term's start.
        return [
            {"pupil_id": p.pupil_id, "class": p.class_id, "enrolled_on": p.start.isoformat(),
             "left_on": p.last_day.isoformat() if p.last_day and p.last_day < start else ""}
            for p in known
        ]


class RollPlanner:
    """Enrolments, moves and leavings at term boundaries that give every class its size each term."""

    def __init__(self, figures: list[ClassFigures], rng: random.Random) -> None:
        self.figures = figures
        self.sizes = {f.class_id: roll_sizes(f) for f in figures}
        self.rng = rng
        self.plan = RollPlan()
        self.current: dict[str, Placement] = {}  # every pupil's latest placement, leavers included
        self.pupils = 0

    def build(self) -> RollPlan:
        first = {f.class_id: [self._enrol(f.class_id, 1) for _ in range(self.sizes[f.class_id][1])]
                 for f in self.figures}
        self.plan.rolls[1] = first
        for term in TERMS[1:]:
            roll = {c: list(pupils) for c, pupils in self.plan.rolls[term - 1].items()}
            self._fill_new_classes(roll, term)
            self._swap_within_a_phase(roll, term)
            self._balance(roll, term)
            self.plan.rolls[term] = roll
        for fig in self.figures:
            for term in TERMS:
                if len(self.plan.rolls[term][fig.class_id]) != self.sizes[fig.class_id][term]:
                    raise RuntimeError(f"planned roll of {fig.class_id} T{term} does not match the table")
        return self.plan

    def _enrol(self, class_id: str, term: int) -> str:
        self.pupils += 1
        placement = Placement(f"P-{self.pupils:04d}", class_id, TERM_DATES[term][0])
        self.plan.placements.append(placement)
        self.current[placement.pupil_id] = placement
        if term > 1:
            self.plan.arrivals[(placement.pupil_id, term)] = "joined"
        return placement.pupil_id

    def _move(self, roll: dict[str, list[str]], pupil_id: str, to_class: str, term: int) -> None:
        old = self.current[pupil_id]
        start = TERM_DATES[term][0]
        old.last_day = start - timedelta(days=1)  # a move on day D ends the old placement on D-1
        new = Placement(pupil_id, to_class, start)
        self.plan.placements.append(new)
        self.current[pupil_id] = new
        roll[old.class_id].remove(pupil_id)
        roll[to_class].append(pupil_id)
        self.plan.arrivals[(pupil_id, term)] = "moved"

    def _stayers(self, roll: dict[str, list[str]], class_id: str, term: int) -> list[str]:
        """Pupils of the class who did not arrive this term: the ones free to move on or leave."""
        return [p for p in roll[class_id] if (p, term) not in self.plan.arrivals]

    def _continuing(self, term: int) -> list[ClassFigures]:
        return [f for f in self.figures if f.terms[term - 1].open and f.terms[term].open]

    def _fill_new_classes(self, roll: dict[str, list[str]], term: int) -> None:
        # A new class is seeded with pupils from its phase; _balance refills the donors.
        for fig in self.figures:
            if fig.terms[term - 1].open or not fig.terms[term].open:
                continue
            donors = [f.class_id for f in self._continuing(term) if f.phase == fig.phase and roll[f.class_id]]
            wanted = min(TRANSFERS_INTO_NEW_CLASS, len(donors), self.sizes[fig.class_id][term])
            for donor in self.rng.sample(donors, wanted):
                self._move(roll, self.rng.choice(self._stayers(roll, donor, term)), fig.class_id, term)

    def _swap_within_a_phase(self, roll: dict[str, list[str]], term: int) -> None:
        # Two pupils change places between classes of one phase: moves that keep both sizes.
        by_phase: dict[str, list[str]] = {}
        for fig in self._continuing(term):
            if self._stayers(roll, fig.class_id, term):
                by_phase.setdefault(fig.phase, []).append(fig.class_id)
        phases = [p for p, classes in by_phase.items() if len(classes) >= 2]
        if not phases:
            return
        first, second = self.rng.sample(by_phase[self.rng.choice(phases)], 2)
        one = self.rng.choice(self._stayers(roll, first, term))
        other = self.rng.choice(self._stayers(roll, second, term))
        self._move(roll, one, second, term)
        self._move(roll, other, first, term)

    def _balance(self, roll: dict[str, list[str]], term: int) -> None:
        for fig in self.figures:
            gap = self.sizes[fig.class_id][term] - len(roll[fig.class_id])
            if gap < 0:
                for pupil_id in self.rng.sample(self._stayers(roll, fig.class_id, term), -gap):
                    self.current[pupil_id].last_day = TERM_DATES[term - 1][1]  # left at the end of last term
                    roll[fig.class_id].remove(pupil_id)
            for _ in range(gap):
                roll[fig.class_id].append(self._enrol(fig.class_id, term))


# -- judgements and revisions ------------------------------------------------------------------------
@dataclass(frozen=True)
class Judgement:
    pupil_id: str
    term: int
    class_id: str
    status: str
    reason: str | None


@dataclass(frozen=True)
class Revision:
    pupil_id: str
    term: int
    class_id: str
    before: str
    after: str
    actor: str
    reason: str
    via_import: bool


def plan_final_judgements(
    figures: list[ClassFigures], rolls: RollPlan, rng: random.Random
) -> dict[int, list[Judgement]]:
    """The judgements in force at the end: per term, each recorded class's pupils with the table's counts."""
    final: dict[int, list[Judgement]] = {}
    last_status: dict[str, str] = {}
    for term in TERMS:
        final[term] = []
        for fig in figures:
            cell = fig.terms[term]
            if not cell.recorded:
                continue
            pupils = rolls.rolls[term][fig.class_id]
            # Smaller steps tends to persist and to follow an arrival, so those pupils come first.
            keys = {p: (last_status.get(p) != SMALLER_STEPS, (p, term) not in rolls.arrivals, rng.random())
                    for p in pupils}
            smaller = set(sorted(pupils, key=keys.__getitem__)[: cell.smaller_steps])
            for pupil_id in pupils:
                if pupil_id in smaller:
                    reason = smaller_steps_reason(rolls.arrivals.get((pupil_id, term)), rng)
                    final[term].append(Judgement(pupil_id, term, fig.class_id, SMALLER_STEPS, reason))
                else:
                    final[term].append(Judgement(pupil_id, term, fig.class_id, APPROPRIATE, None))
        last_status = {j.pupil_id: j.status for j in final[term]}
    return final


def smaller_steps_reason(arrival: str | None, rng: random.Random) -> str:
    return ARRIVAL_REASONS[arrival] if arrival else rng.choice(REASONS)


def plan_revisions(final: dict[int, list[Judgement]], rng: random.Random) -> list[Revision]:
    chosen: list[Revision] = []
    used: set[tuple[str, int]] = set()
    for planned in REVISIONS:
        candidates = [j for j in final[planned.term] if j.class_id == planned.class_id
                      and j.status == planned.to_status and (j.pupil_id, j.term) not in used]
        if not candidates:
            raise ValueError(f"{planned.class_id} T{planned.term} has no {planned.to_status} pupil to revise into")
        pick = rng.choice(candidates)
        used.add((pick.pupil_id, pick.term))
        before = APPROPRIATE if planned.to_status == SMALLER_STEPS else SMALLER_STEPS
        chosen.append(Revision(pick.pupil_id, pick.term, pick.class_id, before, planned.to_status,
                               planned.actor, planned.reason, planned.via_import))
    return chosen


def original_judgements(final: dict[int, list[Judgement]], revisions: list[Revision],
                        rng: random.Random) -> dict[int, list[Judgement]]:
    """What the class teams first recorded: the final judgements with each revised one the other way."""
    revised = {(r.pupil_id, r.term): r for r in revisions}
    original: dict[int, list[Judgement]] = {}
    for term, judgements in final.items():
        original[term] = []
        for j in judgements:
            r = revised.get((j.pupil_id, j.term))
            if r is not None:
                reason = rng.choice(REASONS) if r.before == SMALLER_STEPS else None
                j = Judgement(j.pupil_id, j.term, j.class_id, r.before, reason)
            original[term].append(j)
    return original


# -- the personal learning record ---------------------------------------------------------------------
# EHCP outcomes and the targets that break them down are set by the class teachers at the start of the
# year (one outcomes file and one targets file per class), approved by the phase's Key Stage lead a few
# days later, class by class, and progress is uploaded as stages once a term per class just before the
# class's data meeting; a few stages are typed in during the last week of term. Pupils who join later
# in the year get theirs typed in early in their first term.
SCHOOL_FRAMEWORK_ID = "sensory-responses"
SCHOOL_FRAMEWORK_NAME = "Sensory responses (school scale)"
SCHOOL_FRAMEWORK_STAGES = ("Tolerates with support", "Accepts", "Responds", "Explores", "Initiates")
FRAMEWORK_LEAD = "KSL-EYFS"  # the PMLD provision's Key Stage lead adds the school's own scale
FRAMEWORK_DAY = date(2023, 9, 5)
STAGES: dict[str, tuple[str, ...]] = {
    **{fid: f.stages for fid, f in BUILTIN_FRAMEWORKS.items()}, SCHOOL_FRAMEWORK_ID: SCHOOL_FRAMEWORK_STAGES,
}
TARGET_SETTING_FROM = date(2023, 9, 6)   # class teachers upload outcomes and targets, three classes a day
APPROVAL_DELAY = 3                       # weekdays until the Key Stage lead approves a class's batch
SETTING_SLOTS = (time(15, 45), time(16, 5), time(16, 25))
APPROVAL_SLOTS = (time(12, 30), time(12, 45), time(13, 0))
STAGE_IMPORT_SLOTS = (time(8, 0), time(8, 10), time(8, 20))  # before the class's data meeting
LATE_STAGE_DAYS = {1: date(2023, 12, 18), 2: date(2024, 3, 26), 3: date(2024, 7, 15)}  # typed in, last week
LATE_STAGES_PER_TERM = 4
NEXT_YEAR_TARGETS_DAY = date(2024, 7, 12)  # drafted for next year's T1, still awaiting approval
NEXT_YEAR_TARGETS = 7
NEXT_YEAR_TERM = "2024-25/T1"

AREA_ORDER = ("communication-interaction", "cognition-learning", "semh", "sensory-physical", "preparation-adulthood")
AREA_WEIGHTS = {  # how often each area of need comes up, by phase (and for the PMLD class)
    "EYFS/KS1/KS2": (5, 4, 3, 3, 1),
    "KS3/KS4": (3, 4, 4, 2, 3),
    "KS5": (2, 3, 3, 1, 6),
    "PMLD": (5, 2, 2, 6, 1),
}
AREA_FRAMEWORKS = {
    "communication-interaction": ("engagement", "prompt", "three-step"),
    "cognition-learning": ("fluency", "three-step", "engagement"),
    "semh": ("engagement", "three-step"),
    "sensory-physical": (SCHOOL_FRAMEWORK_ID, "prompt"),
    "preparation-adulthood": ("prompt", "fluency", "three-step"),
}
OUTCOME_TEXT = {
    "communication-interaction": (
        "To communicate needs, wants and choices using speech, signs, symbols or a communication aid",
        "To take part in shared attention and two-way interaction with familiar adults and peers",
        "To understand and follow spoken instructions within familiar routines",
    ),
    "cognition-learning": (
        "To develop early literacy and number skills for use in everyday situations",
        "To build attention and problem-solving skills across the curriculum",
        "To apply reading, writing and number skills in practical and accredited work",
    ),
    "semh": (
        "To recognise and manage feelings, using agreed strategies to self-regulate",
        "To cope with changes to routine and transitions with reducing adult support",
        "To build positive relationships and work alongside others",
    ),
    "sensory-physical": (
        "To tolerate and explore a widening range of sensory experiences",
        "To develop fine and gross motor skills for everyday tasks",
        "To follow a physical management programme as part of the school day",
    ),
    "preparation-adulthood": (
        "To develop independence in self-care and daily living skills",
        "To travel and stay safe in the community with decreasing support",
        "To build skills for work, further learning and taking part in the community",
    ),
}
TARGET_TEXT = {
    "communication-interaction": (
        "Requests a preferred item or activity using a symbol, sign or word",
        "Responds to own name in a small-group session",
        "Makes a choice between two objects of reference",
        "Takes turns in a short game with one peer and an adult",
        "Follows a two-part instruction in a familiar routine",
        "Uses a communication aid to comment during a shared activity",
        "Greets a familiar adult on arrival using a chosen method",
        "Asks for help using a help card or a short phrase",
    ),
    "cognition-learning": (
        "Counts up to five objects with one-to-one correspondence",
        "Matches objects to pictures in a sorting task",
        "Reads and understands ten familiar words in context",
        "Stays on a focused task for five minutes",
        "Recognises coins and uses them in a shop role-play",
        "Sequences three pictures to retell a familiar story",
        "Writes first name using a model",
        "Solves a simple two-step problem with concrete resources",
    ),
    "semh": (
        "Uses an agreed calm-down strategy when becoming upset",
        "Moves between activities using a visual timetable",
        "Shares resources with a peer during a group task",
        "Shows an adult how they feel using a feelings board",
        "Accepts a change to the timetable when given notice",
        "Waits for a turn in a group activity",
        "Joins a small group game at break time",
    ),
    "sensory-physical": (
        "Tolerates hand-over-hand messy play for two minutes",
        "Explores a range of textures in a sensory tray",
        "Uses a pincer grip to pick up small objects",
        "Completes the daily stretching routine from the physiotherapy plan",
        "Climbs stairs using the handrail",
        "Tolerates wearing ear defenders in the hall",
        "Uses a spoon or fork to eat at lunch",
    ),
    "preparation-adulthood": (
        "Washes and dries hands after using the toilet",
        "Prepares a simple snack following a visual recipe",
        "Crosses a quiet road safely with an adult nearby",
        "Pays for an item in a local shop",
        "Completes a work-experience task to the agreed standard",
        "Packs own bag for the day using a checklist",
        "Uses a bus timetable to plan a short journey",
        "Puts on coat and shoes at home time",
    ),
}
NOTES = (
    "observed in 3 of 4 sessions", "with one adult prompt", "in class and at lunch", "photo in the PLR",
    "work sample in the PLR", "short video in the PLR", "seen by teacher and TA", "in a new setting",
    "on two separate days", "reported by the therapist", "during the community visit",
    "consistent over two weeks",
)
BASELINE_NOTE = "baseline when the target was set"
SPANS = ((1, 2, 3),) * 3 + ((1, 2),) * 2 + ((2, 3),) * 2 + ((1,), (2,), (3,))
TARGETS_PER_PUPIL = ((2, 3, 4, 5, 6), (1, 3, 4, 2, 1))
MOVES = {  # stages moved up during a term on one target: (choices, weights) by the term's judgement
    APPROPRIATE: ((0, 1, 2), (12, 55, 33)),
    SMALLER_STEPS: ((0, 1), (62, 38)),
    None: ((0, 1), (40, 60)),  # on roll in a term the class recorded no judgements for
}
UNFLAGGED_SHARE = 0.03  # how rarely a pupil judged appropriate has no target moved in a term's record
# A regression follows the pupil's smaller-steps reason where it is a health one.
REGRESSION_REASONS = {
    "extended medical absence": "long absence: several weeks off school with illness",
    "change of medication affecting engagement": "change of medication: drowsy and less engaged in sessions",
    "health: several hospital appointments during the term": "illness: hospital appointments and time off school",
    "increased seizure activity reduced time in learning": "illness: increased seizure activity",
}
# Pupils whose judgement was revised to smaller steps at a data meeting for health reasons: their record
# shows the step back that the meeting discussed.
REVISION_REGRESSIONS = {
    (1, "3MW"): "long absence: several weeks off school with illness",
    (2, "2CB"): "long absence after a hospital stay",
    (3, "APOLLO"): "change of medication: drowsy and less engaged in sessions",
}
OTHER_REGRESSIONS = 4
LATE_REGRESSIONS = 2  # of the regressions that end a term lower, typed in during the last week
TARGET_REVISIONS = (
    # (day, re-approval day, what changes, reason)
    (date(2024, 1, 5), date(2024, 1, 8), "description",
     "annual review: next step agreed with the speech and language therapist"),
    (date(2024, 4, 16), date(2024, 4, 18), "terms",
     "carried forward into the summer term: not yet secure across settings"),
)
WITHDRAWAL_DAY = date(2024, 2, 6)
WITHDRAWAL_REASON = "no longer appropriate: the physiotherapy programme is now set and recorded by the NHS team"


@dataclass(frozen=True)
class PlannedOutcome:
    outcome_id: str
    pupil_id: str
    area: str
    description: str


@dataclass(frozen=True)
class PlannedStage:
    target_id: str
    term: int
    day: date
    stage: str
    index: int
    note: str
    reason: str | None = None
    late: bool = False  # typed in with 'stage record' in the last week of term, not uploaded


@dataclass
class PlannedTarget:
    target_id: str
    pupil_id: str
    outcome_id: str
    area: str
    framework: str
    description: str
    terms: tuple[int, ...]          # the terms it covers in the end
    first_term: int                 # the term it was set in (1: September)
    set_terms: tuple[int, ...] = ()  # the terms as first set, if a revision changed them
    stages: list[PlannedStage] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(STAGES[self.framework])


@dataclass(frozen=True)
class TargetChange:
    kind: str  # "revise" or "withdraw"
    target_id: str
    day: date
    actor: str
    reason: str
    description: str | None = None
    terms: tuple[int, ...] | None = None
    approve_on: date | None = None
    approver: str | None = None


@dataclass(frozen=True)
class PendingTarget:
    target_id: str
    pupil_id: str
    outcome_id: str
    framework: str
    description: str
    actor: str


@dataclass
class LearningPlan:
    outcomes: list[PlannedOutcome]
    targets: list[PlannedTarget]
    changes: list[TargetChange]
    pending: list[PendingTarget]
    regressions: list[tuple[str, int, str]]  # (pupil, term, reason)


def weekdays_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)
            if (first + timedelta(days=i)).weekday() < 5]


def class_days(class_ids: list[str], first: date, slots: tuple[time, ...]) -> dict[str, tuple[date, time]]:
    """Classes in order, ``len(slots)`` a weekday from ``first``."""
    days = weekdays_from(first, -(-len(class_ids) // len(slots)))
    return {c: (days[i // len(slots)], slots[i % len(slots)]) for i, c in enumerate(class_ids)}


def approval_day(setting_day: date) -> date:
    return weekdays_from(setting_day + timedelta(days=1), APPROVAL_DELAY)[-1]


def target_setting_days(figures: list[ClassFigures]) -> dict[str, tuple[date, time]]:
    return class_days([f.class_id for f in figures if opening_term(f) == 1], TARGET_SETTING_FROM, SETTING_SLOTS)


def joiner_setting_day(term: int) -> date:
    return weekdays_from(TERM_DATES[term][0] + timedelta(days=2), 1)[0]


def stage_import_days(figures: list[ClassFigures], rolls: RollPlan, term: int) -> dict[str, tuple[date, time]]:
    """Each class with pupils on roll uploads its stages once a term, on or before its data meeting's day."""
    classes = [f.class_id for f in figures if rolls.rolls[term].get(f.class_id)]
    return class_days(classes, TERM_DATES[term][1] - timedelta(days=20), STAGE_IMPORT_SLOTS)


class LearningPlanner:
    """Outcomes, targets and stages for every pupil, fitted to the judgements in force at the end."""

    def __init__(self, figures: list[ClassFigures], rolls: RollPlan, final: dict[int, list[Judgement]],
                 revisions: list[Revision], rng: random.Random) -> None:
        self.figures = {f.class_id: f for f in figures}
        self.rolls = rolls
        self.revisions = revisions
        self.rng = rng
        self.judged = {(j.pupil_id, j.term): j for js in final.values() for j in js}
        self.class_in = {(p, t): c for t in TERMS for c, pupils in rolls.rolls[t].items() for p in pupils}
        self.pupils = sorted({p for p, _ in self.class_in})
        self.setting = target_setting_days(figures)
        self.imports = {t: stage_import_days(figures, rolls, t) for t in TERMS}
        self.outcomes: list[PlannedOutcome] = []
        self.targets: list[PlannedTarget] = []
        self.by_pupil: dict[str, list[PlannedTarget]] = {}
        self.withdrawn: dict[str, int] = {}  # target -> last term it covers before its withdrawal
        self.changed: set[str] = set()  # pupils with a revised or withdrawn target: kept out of other picks

    def build(self) -> LearningPlan:
        for pupil_id in self.pupils:
            self._outcomes_and_targets(pupil_id)
        changes = self._changes()
        regressions = self._regressions()
        wanted = {(p, t): reason for p, t, reason in regressions}
        for pupil_id in self.pupils:
            self._stages(pupil_id, wanted)
        self._late_stages()
        self._check()
        return LearningPlan(self.outcomes, self.targets, changes, self._pending(), regressions)

    # -- helpers -------------------------------------------------------------------------------------
    def on_roll(self, pupil_id: str) -> list[int]:
        return [t for t in TERMS if (pupil_id, t) in self.class_in]

    def status(self, pupil_id: str, term: int) -> str | None:
        j = self.judged.get((pupil_id, term))
        return j.status if j else None

    def phase_key(self, pupil_id: str) -> str:
        fig = self.figures[self.class_in[(pupil_id, self.on_roll(pupil_id)[0])]]
        return "PMLD" if fig.mark == "PMLD" else fig.phase

    def used(self, pupil_id: str) -> set[str]:
        return {t.description for t in self.by_pupil.get(pupil_id, [])}

    def fresh_text(self, pupil_id: str, area: str) -> str:
        options = [d for d in TARGET_TEXT[area] if d not in self.used(pupil_id)]
        return self.rng.choice(options)

    # -- outcomes and targets -----------------------------------------------------------------------
    def _outcomes_and_targets(self, pupil_id: str) -> None:
        rng = self.rng
        first = self.on_roll(pupil_id)[0]
        n = rng.choices(*TARGETS_PER_PUPIL)[0]
        n_outcomes = 2 if n == 2 else rng.choice((2, 2, 3))
        weights = list(AREA_WEIGHTS[self.phase_key(pupil_id)])
        areas: list[str] = []
        for _ in range(n_outcomes):
            i = rng.choices(range(len(AREA_ORDER)), weights)[0]
            areas.append(AREA_ORDER[i])
            weights[i] = 0
        areas.sort(key=AREA_ORDER.index)
        outcomes = [PlannedOutcome(f"{pupil_id}-O{i}", pupil_id, area, rng.choice(OUTCOME_TEXT[area]))
                    for i, area in enumerate(areas, start=1)]
        self.outcomes += outcomes
        owners = list(range(n_outcomes)) + [rng.randrange(n_outcomes) for _ in range(n - n_outcomes)]
        owners.sort()
        spans = [tuple(range(first, 4))] + [
            s for s in (rng.choice([s for s in SPANS if s[0] >= first] or [tuple(range(first, 4))])
                        for _ in range(n - 1))
        ]
        rng.shuffle(spans)
        counters: dict[int, int] = {}
        self.by_pupil[pupil_id] = []
        for owner, span in zip(owners, spans):
            outcome = outcomes[owner]
            counters[owner] = counters.get(owner, 0) + 1
            frameworks = [f for f in AREA_FRAMEWORKS[outcome.area] if len(STAGES[f]) >= len(span) + 1]
            target = PlannedTarget(f"{outcome.outcome_id}.{counters[owner]}", pupil_id, outcome.outcome_id,
                                   outcome.area, rng.choice(frameworks), self.fresh_text(pupil_id, outcome.area),
                                   span, first)
            self.by_pupil[pupil_id].append(target)
            self.targets.append(target)

    # -- revisions, a withdrawal and the regressions ---------------------------------------------------
    def _all_year(self) -> list[str]:
        return [p for p in self.pupils if self.on_roll(p) == list(TERMS)]

    def _changes(self) -> list[TargetChange]:
        changes: list[TargetChange] = []
        taken: set[str] = set()
        for day, approve_on, what, reason in TARGET_REVISIONS:
            term = next(t for t in TERMS if TERM_DATES[t][0] <= day <= TERM_DATES[t][1])
            if what == "description":
                candidates = [t for p in self._all_year() for t in self.by_pupil[p]
                              if t.area == "communication-interaction" and t.terms == (1, 2, 3)]
            else:
                candidates = [t for p in self._all_year() for t in self.by_pupil[p]
                              if t.terms == (1, 2, 3) and t.size >= 4]
            target = self.rng.choice([t for t in candidates if t.pupil_id not in taken])
            taken.add(target.pupil_id)
            klass = self.class_in[(target.pupil_id, term)]
            lead = phase_lead(self.figures[klass].phase)
            if what == "description":
                changes.append(TargetChange("revise", target.target_id, day, teacher(klass), reason,
                                            description=self.fresh_text(target.pupil_id, target.area),
                                            approve_on=approve_on, approver=lead))
            else:
                target.set_terms = (1, 2)
                changes.append(TargetChange("revise", target.target_id, day, lead, reason, terms=target.terms,
                                            approve_on=approve_on, approver=DEPUTY_HEADS[0]))
        candidates = []
        for p in self._all_year():
            if p in taken or len(self.by_pupil[p]) < 4:
                continue
            for t in self.by_pupil[p]:
                rest = [o for o in self.by_pupil[p] if o is not t]
                if (t.area == "sensory-physical" and t.terms[:2] == (1, 2)
                        and len({o.area for o in rest}) >= 2 and {s for o in rest for s in o.terms} == set(TERMS)):
                    candidates.append(t)
        target = self.rng.choice(candidates)
        self.withdrawn[target.target_id] = 1
        klass = self.class_in[(target.pupil_id, 2)]
        changes.append(TargetChange("withdraw", target.target_id, WITHDRAWAL_DAY,
                                    phase_lead(self.figures[klass].phase), WITHDRAWAL_REASON))
        self.changed = taken | {target.pupil_id}
        return changes

    def _regressions(self) -> list[tuple[str, int, str]]:
        chosen: list[tuple[str, int, str]] = []
        for r in self.revisions:
            reason = REVISION_REGRESSIONS.get((r.term, r.class_id))
            if reason and r.after == SMALLER_STEPS:
                chosen.append((r.pupil_id, r.term, reason))
        picked = {p for p, _, _ in chosen} | self.changed
        candidates = sorted(
            (j.pupil_id, j.term, REGRESSION_REASONS[j.reason])
            for j in self.judged.values()
            if j.status == SMALLER_STEPS and j.term > 1 and j.reason in REGRESSION_REASONS and j.pupil_id not in picked
        )
        for pupil_id, term, reason in self.rng.sample(candidates, len(candidates)):
            if len(chosen) == len(REVISION_REGRESSIONS) + OTHER_REGRESSIONS:
                break
            if pupil_id not in picked:
                chosen.append((pupil_id, term, reason))
                picked.add(pupil_id)
        return chosen

    # -- stages -------------------------------------------------------------------------------------
    def covers(self, target: PlannedTarget, term: int) -> bool:
        return term in target.terms and term <= self.withdrawn.get(target.target_id, 3)

    def _stages(self, pupil_id: str, regressions: dict[tuple[str, int], str]) -> None:
        rng = self.rng
        index: dict[str, int] = {}
        terms = self.on_roll(pupil_id)
        for term in terms:
            status = self.status(pupil_id, term)
            covering = [t for t in self.by_pupil[pupil_id] if self.covers(t, term)]
            moves: dict[str, int] = {}
            caps: dict[str, int] = {}
            for t in covering:
                if t.target_id not in index:
                    index[t.target_id] = 1 if t.size >= 5 and len(t.terms) <= 2 and rng.random() < 0.3 else 0
                left = len([s for s in t.terms if s >= term and s in terms])
                caps[t.target_id] = max(0, t.size - 1 - index[t.target_id] - (left - 1))
                choices, weights = MOVES[status]
                moves[t.target_id] = min(rng.choices(choices, weights)[0], caps[t.target_id])
            if status == APPROPRIATE:
                if not any(moves.values()):
                    room = [t for t in covering if caps[t.target_id]]
                    if room:
                        moves[rng.choice(room).target_id] = 1
                for t in covering:
                    if term == max(s for s in t.terms if s in terms and self.covers(t, s)):
                        # The school looks for at least 3 distinct stages by the end of a target.
                        start = index[t.target_id]
                        seen = {s.index for s in t.stages} | set(range(start, start + moves[t.target_id] + 1))
                        top_up = min(max(0, 3 - len(seen)), t.size - 1 - start - moves[t.target_id])
                        moves[t.target_id] += max(0, top_up)
                if rng.random() < UNFLAGGED_SHARE:
                    moves = dict.fromkeys(moves, 0)  # nothing recorded to back the judgement: the review flags it
            falls: str | None = None
            reason = regressions.get((pupil_id, term))
            if reason and covering:
                falls = rng.choice(covering).target_id
                moves[falls] = 0
            for t in covering:
                steps = self._steps(t, index, moves[t.target_id], reason if falls == t.target_id else None)
                self._date(t, term, steps)

    def _steps(self, t: PlannedTarget, index: dict[str, int], moves: int, regression: str | None) -> list[tuple[int, str, str | None]]:
        """The stages recorded on ``t`` during ``term``: (index, note, reason)."""
        rng = self.rng
        start = index[t.target_id]
        steps: list[tuple[int, str, str | None]] = []
        if not t.stages:
            steps.append((start, BASELINE_NOTE, None))
        if regression is None:
            steps += [(start + i, rng.choice(NOTES), None) for i in range(1, moves + 1)]
        else:
            # A step back with its reason; about half recover before the end of the term.
            high = start if start > 0 else start + 1
            if start == 0:
                steps.append((high, rng.choice(NOTES), None))
            steps.append((high - 1, "", regression))
            if rng.random() < 0.5:
                steps.append((high, "regained after the return to school", None))
        index[t.target_id] = steps[-1][0] if steps else start
        return steps

    def _date(self, t: PlannedTarget, term: int, steps: list[tuple[int, str, str | None]]) -> None:
        rng = self.rng
        if not steps:
            return
        klass = self.class_in[(t.pupil_id, term)]
        last = self.imports[term][klass][0] - timedelta(days=1)
        start = TERM_DATES[term][0] + timedelta(days=7)
        days: list[date] = []
        if steps[0][1] == BASELINE_NOTE:
            if term == 1 and t.first_term == 1:
                start = approval_day(self.setting[self.class_in[(t.pupil_id, 1)]][0]) + timedelta(days=1)
            elif term == t.first_term:
                start = approval_day(joiner_setting_day(term)) + timedelta(days=1)
            days.append(rng.choice(weekdays_between(start, start + timedelta(days=13))))
            start = days[0] + timedelta(days=7)
        # The rest spread over the term: one day in each equal part of what is left of the window.
        window, rest = weekdays_between(start, last), len(steps) - len(days)
        days += [rng.choice(window[len(window) * i // rest: len(window) * (i + 1) // rest]) for i in range(rest)]
        for (i, note, reason), day in zip(steps, days):
            t.stages.append(PlannedStage(t.target_id, term, day, STAGES[t.framework][i], i, note, reason))

    def _late_stages(self) -> None:
        """A few last stages of a term are typed in during its last week instead of uploaded."""
        def make_late(t: PlannedTarget, term: int) -> None:
            last = max(i for i, s in enumerate(t.stages) if s.term == term)
            s = t.stages[last]
            t.stages[last] = PlannedStage(s.target_id, s.term, LATE_STAGE_DAYS[term], s.stage, s.index, s.note,
                                          s.reason, late=True)

        falls = [(t, s.term) for t in self.targets for s in t.stages
                 if s.reason and s is [x for x in t.stages if x.term == s.term][-1]]
        for t, term in falls[:LATE_REGRESSIONS]:
            make_late(t, term)
        for term in TERMS:
            candidates = [
                t for t in self.targets
                if self.status(t.pupil_id, term) == APPROPRIATE and t.pupil_id not in self.changed
                and any(s.term == term and s.note not in ("", BASELINE_NOTE) for s in t.stages)
                and not any(s.term == term and (s.reason or s.late) for s in t.stages)
            ]
            for t in self.rng.sample(candidates, LATE_STAGES_PER_TERM):
                make_late(t, term)

    def _pending(self) -> list[PendingTarget]:
        pending = []
        stayers = [p for p in self.pupils if (p, 3) in self.class_in and p not in self.changed]
        for pupil_id in sorted(self.rng.sample(stayers, NEXT_YEAR_TARGETS)):
            outcome = next(o for o in self.outcomes if o.pupil_id == pupil_id)
            number = 1 + sum(1 for t in self.by_pupil[pupil_id] if t.outcome_id == outcome.outcome_id)
            pending.append(PendingTarget(
                f"{outcome.outcome_id}.{number}", pupil_id, outcome.outcome_id,
                self.rng.choice(AREA_FRAMEWORKS[outcome.area]), self.fresh_text(pupil_id, outcome.area),
                teacher(self.class_in[(pupil_id, 3)]),
            ))
        return pending

    def _check(self) -> None:
        for t in self.targets:
            days = [s.day for s in t.stages]
            if days != sorted(days) or len(set(days)) != len(days):
                raise AssertionError(f"{t.target_id}: stages are not on distinct days in order: {days}")
            for s in t.stages:
                if not TERM_DATES[s.term][0] <= s.day <= TERM_DATES[s.term][1]:
                    raise AssertionError(f"{t.target_id}: a stage on {s.day} is outside T{s.term}")


def phase_lead(phase: str) -> str:
    return phase_staff([phase])[phase][0]


@dataclass(frozen=True)
class SamplePlan:
    figures: list[ClassFigures]
    rolls: RollPlan
    final: dict[int, list[Judgement]]
    original: dict[int, list[Judgement]]
    revisions: list[Revision]
    learning: LearningPlan


def make_plan(source: Path) -> SamplePlan:
    figures = read_figures(source)
    check_report_order(figures)
    rng = random.Random(SEED)
    rolls = RollPlanner(figures, rng).build()
    final = plan_final_judgements(figures, rolls, rng)
    revisions = plan_revisions(final, rng)
    original = original_judgements(final, revisions, rng)
    # The learning record draws on the same generator after everything above, so adding it left the
    # rolls, judgements and revisions exactly as they were.
    learning_plan = LearningPlanner(figures, rolls, final, revisions, rng).build()
    return SamplePlan(figures, rolls, final, original, revisions, learning_plan)


# -- writing it through the services ------------------------------------------------------------------
class SimulatedClock:
    """The store's clock: it stands still until the builder moves it, and never moves backwards."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.now = datetime(2000, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date, local_time: time) -> None:
        moment = datetime.combine(day, local_time, tzinfo=self.tz).astimezone(timezone.utc)
        if moment < self.now:
            raise AssertionError(f"the schedule goes back in time to {moment} (clock at {self.now})")
        self.now = moment

    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


def teacher(class_id: str) -> str:
    return f"T-{class_id}"


def phase_staff(phases: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Each phase's key stage lead and line manager: ``KSL-KS3``, ``LM2``..."""
    return {phase: (f"KSL-{phase.split('/')[0]}", f"LM{i}") for i, phase in enumerate(phases, start=1)}


def term_of(n: int) -> Term:
    return Term(YEAR, n)


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


JUDGEMENT_COLUMNS = ("pupil_id", "class", "term", "status", "reason")


def judgement_rows(judgements: Iterable[Judgement]) -> list[dict[str, str]]:
    return [{"pupil_id": j.pupil_id, "class": j.class_id, "term": str(term_of(j.term)), "status": j.status,
             "reason": j.reason or ""} for j in judgements]


class SampleWriter:
    """Plays the plan into a ledger in date order, one service call per thing staff would do."""

    def __init__(self, ledger: Ledger, clock: SimulatedClock, workdir: Path, plan: SamplePlan) -> None:
        self.ledger = ledger
        self.clock = clock
        self.workdir = workdir
        self.plan = plan
        self.commands = 0
        self.phases = phase_staff(dict.fromkeys(f.phase for f in plan.figures))

    def as_(self, actor: str) -> Ledger:
        """The ledger ready for the next command by ``actor``, a minute after the one before."""
        self.commands += 1
        self.ledger.actor = actor
        self.ledger.command_id = f"sample-{self.commands:05d}"
        self.clock.advance(1)
        return self.ledger

    def importer(self, actor: str) -> Ledger:
        """As :meth:`as_`, for an import: with no command id of its own, an import is keyed by its file
        and what it writes (deterministic already), as the shipped sample's imports were written."""
        ledger = self.as_(actor)
        ledger.command_id = None
        return ledger

    def schedule(self) -> list[tuple[datetime, int, Callable[[], None]]]:
        tz = self.clock.tz
        items: list[tuple[date, time, Callable[[], None]]] = [(date(2023, 9, 1), time(8, 0), self.set_up)]
        for term in TERMS:
            opening = [f for f in self.plan.figures if opening_term(f) == term and term > 1]
            if opening:
                items.append((TERM_DATES[term - 1][1], time(15, 0), lambda o=opening, t=term: self.open_classes(o, t)))
            items.append((TERM_DATES[term][0], time(8, 15), lambda t=term: self.import_roll(t)))
            items += self.judgement_sessions(term)
            items.append((MEETINGS[term], time(15, 45), lambda t=term: self.moderation_meeting(t)))
        items += self.learning_schedule()
        moments = [(datetime.combine(d, t, tzinfo=tz), i, action) for i, (d, t, action) in enumerate(items)]
        return sorted(moments, key=lambda m: (m[0], m[1]))

    def run(self) -> None:
        for moment, _, action in self.schedule():
            local = moment.astimezone(self.clock.tz)
            self.clock.at(local.date(), local.time())
            action()

    # -- actions -------------------------------------------------------------------------------
    def set_up(self) -> None:
        self.ledger.actor = DATA_MANAGER
        self.ledger.command_id = "sample-00000"
        commands.init(self.ledger, school=SCHOOL, timezone=TIMEZONE)
        commands.add_staff(self.as_(DATA_MANAGER), HEAD, "head")
        for deputy in DEPUTY_HEADS:
            commands.add_staff(self.as_(HEAD), deputy, "deputy-head")
        for lead, manager in self.phases.values():
            commands.add_staff(self.as_(DATA_MANAGER), lead, "ks-lead")
            commands.add_staff(self.as_(DATA_MANAGER), manager, "line-manager")
        for term in TERMS:
            start, end = TERM_DATES[term]
            commands.set_term_dates(self.as_(DATA_MANAGER), term_of(term), start, end)
        self.open_classes([f for f in self.plan.figures if opening_term(f) == 1], 1)

    def open_classes(self, figures: list[ClassFigures], term: int) -> None:
        for fig in figures:
            commands.add_staff(self.as_(DATA_MANAGER), teacher(fig.class_id), "teacher")
            commands.open_class(self.as_(DEPUTY_HEADS[0] if term > 1 else DATA_MANAGER),
                                fig.class_id, fig.phase, fig.mark, term_of(term))

    def import_roll(self, term: int) -> None:
        path = write_csv(self.workdir / f"roll-T{term}.csv", ("pupil_id", "class", "enrolled_on", "left_on"),
                         self.plan.rolls.roll_rows(term))
        imports.import_pupils(self.importer(DATA_MANAGER), path)

    def judgement_sessions(self, term: int) -> list[tuple[date, time, Callable[[], None]]]:
        """Class data meetings in the last weeks of the term, three a day, in the table's order."""
        recorded = [f for f in self.plan.figures if f.terms[term].recorded]
        days = weekdays_from(TERM_DATES[term][1] - timedelta(days=20), -(-len(recorded) // len(JUDGEMENT_SLOTS)))
        if days[-1] >= min(MEETINGS[term], TERM_DATES[term][1]):
            raise AssertionError(f"T{term}'s data meetings run past its moderation meeting or the end of term")
        smallest = min(recorded, key=lambda f: len(self.plan.rolls.rolls[term][f.class_id]))
        sessions = []
        for i, fig in enumerate(recorded):
            action = self.record_one_by_one if fig is smallest else self.import_class
            sessions.append((days[i // len(JUDGEMENT_SLOTS)], JUDGEMENT_SLOTS[i % len(JUDGEMENT_SLOTS)],
                             lambda a=action, c=fig.class_id, t=term: a(c, t)))
        return sessions

    def class_judgements(self, class_id: str, term: int) -> list[Judgement]:
        return [j for j in self.plan.original[term] if j.class_id == class_id]

    def import_class(self, class_id: str, term: int) -> None:
        path = write_csv(self.workdir / f"judgements-T{term}-{class_id}.csv", JUDGEMENT_COLUMNS,
                         judgement_rows(self.class_judgements(class_id, term)))
        imports.import_judgements(self.importer(teacher(class_id)), path)

    def record_one_by_one(self, class_id: str, term: int) -> None:
        # The smallest class's teacher types each judgement in rather than uploading a file.
        for j in self.class_judgements(class_id, term):
            commands.record_judgement(self.as_(teacher(class_id)), j.pupil_id, term_of(term), j.status, j.reason)

    def moderation_meeting(self, term: int) -> None:
        revisions = [r for r in self.plan.revisions if r.term == term]
        for r in revisions:
            if not r.via_import:
                commands.revise_judgement(self.as_(r.actor), r.pupil_id, term_of(term), r.after, r.reason)
        batch = [r for r in revisions if r.via_import]
        if batch:
            self.import_moderation(term, batch)

    def import_moderation(self, term: int, batch: list[Revision]) -> None:
        """The moderated file for the batch's classes: every pupil's final status, changes as revisions."""
        actors, reasons = {r.actor for r in batch}, {r.reason for r in batch}
        if len(actors) != 1 or len(reasons) != 1:
            raise AssertionError(f"T{term}'s moderation file needs one actor and one reason, not {actors} {reasons}")
        classes = {r.class_id for r in batch}
        reason = reasons.pop()
        revised = {r.pupil_id for r in batch}
        rows = judgement_rows(
            Judgement(j.pupil_id, j.term, j.class_id, j.status, reason if j.pupil_id in revised else j.reason)
            for j in self.plan.final[term] if j.class_id in classes
        )
        path = write_csv(self.workdir / f"moderation-T{term}.csv", JUDGEMENT_COLUMNS, rows)
        result = imports.import_judgements(self.importer(actors.pop()), path, revise_reason=reason)
        if result.kinds["JudgementRevised"] != len(batch) or result.written != len(batch):
            raise AssertionError(f"T{term}'s moderation file wrote {result.summary}, expected {len(batch)} revisions")


    # -- the learning record -------------------------------------------------------------------
    def learning_schedule(self) -> list[tuple[date, time, Callable[[], None]]]:
        plan = self.plan.learning
        items: list[tuple[date, time, Callable[[], None]]] = [(FRAMEWORK_DAY, time(16, 0), self.add_framework)]
        for class_id, (day, slot) in target_setting_days(self.plan.figures).items():
            items.append((day, slot, lambda c=class_id: self.set_class_targets(c)))
            approve = APPROVAL_SLOTS[SETTING_SLOTS.index(slot)]
            items.append((approval_day(day), approve, lambda c=class_id: self.approve_class_targets(c)))
        for term in TERMS[1:]:
            if any(t.first_term == term for t in plan.targets):
                day = joiner_setting_day(term)
                items.append((day, time(16, 30), lambda t=term: self.set_joiner_targets(t)))
                items.append((approval_day(day), APPROVAL_SLOTS[0], lambda t=term: self.approve_joiner_targets(t)))
        for change in plan.changes:
            items.append((change.day, time(16, 0), lambda c=change: self.change_target(c)))
            if change.approve_on:
                items.append((change.approve_on, time(12, 0), lambda c=change: self.reapprove(c)))
        for term in TERMS:
            for class_id, (day, slot) in stage_import_days(self.plan.figures, self.plan.rolls, term).items():
                items.append((day, slot, lambda c=class_id, t=term: self.import_stages(c, t)))
            items.append((LATE_STAGE_DAYS[term], time(15, 30), lambda t=term: self.type_late_stages(t)))
        items.append((NEXT_YEAR_TARGETS_DAY, time(15, 30), self.draft_next_year_targets))
        return items

    def class_in(self, pupil_id: str, term: int) -> str:
        return next(c for c, pupils in self.plan.rolls.rolls[term].items() if pupil_id in pupils)

    def add_framework(self) -> None:
        learning.add_framework(self.as_(FRAMEWORK_LEAD), SCHOOL_FRAMEWORK_ID, SCHOOL_FRAMEWORK_NAME,
                               list(SCHOOL_FRAMEWORK_STAGES))

    def september_targets(self, class_id: str) -> list[PlannedTarget]:
        pupils = set(self.plan.rolls.rolls[1][class_id])
        return [t for t in self.plan.learning.targets if t.first_term == 1 and t.pupil_id in pupils]

    def set_class_targets(self, class_id: str) -> None:
        """The class teacher uploads the class's EHCP outcomes, then the targets that break them down."""
        pupils = set(self.plan.rolls.rolls[1][class_id])
        outcomes = [o for o in self.plan.learning.outcomes if o.pupil_id in pupils]
        path = write_csv(self.workdir / f"outcomes-{class_id}.csv", ("outcome_id", "pupil_id", "area", "description"),
                         [{"outcome_id": o.outcome_id, "pupil_id": o.pupil_id, "area": o.area,
                           "description": o.description} for o in outcomes])
        result = learning_imports.import_outcomes(self.importer(teacher(class_id)), path)
        targets = self.september_targets(class_id)
        path = write_csv(self.workdir / f"targets-{class_id}.csv",
                         ("target_id", "pupil_id", "outcome_id", "framework", "description", "terms"),
                         [{"target_id": t.target_id, "pupil_id": t.pupil_id, "outcome_id": t.outcome_id,
                           "framework": t.framework, "description": t.description,
                           "terms": ";".join(str(term_of(n)) for n in (t.set_terms or t.terms))} for t in targets])
        result2 = learning_imports.import_targets(self.importer(teacher(class_id)), path)
        if (result.written, result2.written) != (len(outcomes), len(targets)):
            raise AssertionError(f"{class_id}: wrote {result.summary} and {result2.summary}")

    def approve_class_targets(self, class_id: str) -> None:
        lead = phase_lead(self.plan_phase(class_id))
        learning.approve_targets(self.as_(lead), [t.target_id for t in self.september_targets(class_id)])

    def plan_phase(self, class_id: str) -> str:
        return next(f.phase for f in self.plan.figures if f.class_id == class_id)

    def joiners(self, term: int) -> dict[str, list[PlannedTarget]]:
        by_class: dict[str, list[PlannedTarget]] = {}
        for fig in self.plan.figures:
            pupils = self.plan.rolls.rolls[term].get(fig.class_id, [])
            targets = [t for t in self.plan.learning.targets if t.first_term == term and t.pupil_id in pupils]
            if targets:
                by_class[fig.class_id] = targets
        return by_class

    def set_joiner_targets(self, term: int) -> None:
        """A pupil who joins mid-year has outcomes and targets typed in early in the first term."""
        for class_id, targets in self.joiners(term).items():
            actor = teacher(class_id)
            for pupil_id in dict.fromkeys(t.pupil_id for t in targets):
                for o in (o for o in self.plan.learning.outcomes if o.pupil_id == pupil_id):
                    learning.set_outcome(self.as_(actor), o.outcome_id, pupil_id, o.area, o.description)
                for t in (t for t in targets if t.pupil_id == pupil_id):
                    learning.set_target(self.as_(actor), t.target_id, pupil_id, t.outcome_id, t.framework,
                                        t.description, [str(term_of(n)) for n in t.terms])

    def approve_joiner_targets(self, term: int) -> None:
        for class_id, targets in self.joiners(term).items():
            learning.approve_targets(self.as_(phase_lead(self.plan_phase(class_id))), [t.target_id for t in targets])

    def change_target(self, change: TargetChange) -> None:
        if change.kind == "withdraw":
            learning.withdraw_target(self.as_(change.actor), change.target_id, change.reason)
            return
        terms = ";".join(str(term_of(n)) for n in change.terms) if change.terms else None
        learning.revise_target(self.as_(change.actor), change.target_id, change.description, terms, change.reason)

    def reapprove(self, change: TargetChange) -> None:
        assert change.approver is not None
        learning.approve_targets(self.as_(change.approver), [change.target_id])

    def import_stages(self, class_id: str, term: int) -> None:
        """The class teacher uploads the term's PLR stages before the class's data meeting."""
        pupils = set(self.plan.rolls.rolls[term][class_id])
        stages = [s for t in self.plan.learning.targets if t.pupil_id in pupils
                  for s in t.stages if s.term == term and not s.late]
        if not stages:
            return
        path = write_csv(self.workdir / f"stages-T{term}-{class_id}.csv",
                         ("target_id", "stage", "achieved_on", "note", "reason"),
                         [{"target_id": s.target_id, "stage": s.stage, "achieved_on": s.day.isoformat(),
                           "note": s.note, "reason": s.reason or ""} for s in stages])
        result = learning_imports.import_stages(self.importer(teacher(class_id)), path)
        if result.written != len(stages):
            raise AssertionError(f"T{term} {class_id}: the stages file wrote {result.summary}, expected {len(stages)}")

    def type_late_stages(self, term: int) -> None:
        late = sorted((s for t in self.plan.learning.targets for s in t.stages if s.term == term and s.late),
                      key=lambda s: s.target_id)
        for s in late:
            pupil_id = next(t.pupil_id for t in self.plan.learning.targets if t.target_id == s.target_id)
            learning.record_stage(self.as_(teacher(self.class_in(pupil_id, term))), s.target_id, s.stage, s.day,
                                  s.note, s.reason)

    def draft_next_year_targets(self) -> None:
        for p in self.plan.learning.pending:
            learning.set_target(self.as_(p.actor), p.target_id, p.pupil_id, p.outcome_id, p.framework,
                                p.description, NEXT_YEAR_TERM)

def weekdays_from(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


# -- the output file ----------------------------------------------------------------------------------
def companions(db: Path) -> list[Path]:
    """The files SQLite and the projection keep beside a ledger file."""
    suffixes = ("-wal", "-shm", "-journal", ".projection.duckdb", ".projection.duckdb.wal")
    return [db.with_name(db.name + s) for s in suffixes]


def remove_ledger_files(db: Path) -> None:
    for path in [db, *companions(db)]:
        path.unlink(missing_ok=True)


def checkpoint(db: Path) -> None:
    """Fold the write-ahead log into the main file, so the single file is the whole ledger."""
    con = sqlite3.connect(db)
    try:
        busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        con.close()
    if busy:
        raise RuntimeError(f"could not checkpoint {db}: another connection holds it")


def write_ledger(db: Path, plan: SamplePlan, workdir: Path) -> None:
    clock = SimulatedClock(ZoneInfo(TIMEZONE))
    ledger = open_ledger(str(db), clock=clock, create=True)
    try:
        SampleWriter(ledger, clock, workdir, plan).run()
    finally:
        ledger.close()


def build(out: Path = DEFAULT_OUT, source: Path = DEFAULT_SOURCE) -> Path:
    """Replace ``out`` with a freshly built sample ledger; a failed build leaves no half-written file."""
    out = out.resolve()
    remove_ledger_files(out)
    plan = make_plan(source)
    with tempfile.TemporaryDirectory(prefix="ehcp-sample-") as tmp:
        work = Path(tmp)
        db = work / "events.db"
        write_ledger(db, plan, work)
        checkpoint(db)
        if any(p.exists() for p in companions(db)[:3]):
            raise RuntimeError(f"{db} still has a journal beside it after the checkpoint")
        shutil.copyfile(db, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="ledger file to (re)create (default: events.db)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the school's table as CSV")
    args = parser.parse_args(argv)
    out = build(args.out, args.source)
    con = sqlite3.connect(f"file:{out}?immutable=1", uri=True)
    try:
        count, head = con.execute(
            "SELECT count(*), (SELECT hash FROM events ORDER BY position DESC LIMIT 1) FROM events"
        ).fetchone()
    finally:
        con.close()
    print(f"built {out}: {count} events, head hash {head}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
