"""Synthetic ledgers and import files for the benchmarks: a deterministic, realistic mix.

A school of ``pupils`` children in classes of about eight, over ``years`` academic years: staff,
classes and term dates; pupils enrolling, moving class in September and leaving in July; 2 EHCP
outcomes per pupil (a few revised), 3 targets a year each approved by a Key Stage lead, a stage per
target per term, a judgement per pupil per term and about 5% of them revised at the next data
meeting. About 19 events per pupil per year.

Every payload is built from the ledger's own event models (so it validates on the way out) and
every event goes through ``store.append`` (so positions, times and hashes are real); only the
domain's per-command checks are skipped, which is what lets a 1M-event ledger build in minutes.
The import files drive the application layer instead (``ledger.services.imports``).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

EVENTS_PER_PUPIL_YEAR = 19
FIRST_YEAR = 2019
FRAMEWORKS = {"engagement": 5, "three-step": 3, "prompt": 5, "fluency": 4}
STAGE_NAMES = {
    "engagement": ("Encountered", "Emerging", "Developing", "Secure", "Mastered"),
    "three-step": ("Emerging", "Developing", "Secure"),
    "prompt": ("Full physical prompt", "Partial physical prompt", "Gestural prompt", "Verbal prompt", "Independent"),
    "fluency": ("Acquiring", "Fluent", "Maintained", "Generalised"),
}
PHASES = ("EYFS/KS1/KS2", "KS3/KS4", "KS5")
AREAS = ("communication-interaction", "cognition-learning", "semh", "sensory-physical", "preparation-adulthood")
REASONS = (
    "attendance below 90% this term",
    "extended medical absence",
    "change of medication affecting engagement",
    "awaiting speech and language therapy input",
)
UTC = timezone.utc


def term_dates(year: int, n: int) -> tuple[date, date]:
    return {
        1: (date(year, 9, 4), date(year, 12, 20)),
        2: (date(year + 1, 1, 4), date(year + 1, 3, 28)),
        3: (date(year + 1, 4, 15), date(year + 1, 7, 19)),
    }[n]


def term_text(year: int, n: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}/T{n}"


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@dataclass
class Step:
    """Events recorded at one moment by one actor: stream id -> events (the models, not yet mapped)."""

    moment: datetime
    actor: str
    writes: dict[str, list] = field(default_factory=dict)

    def add(self, stream: str, event: object) -> None:
        self.writes.setdefault(stream, []).append(event)

    def __len__(self) -> int:
        return sum(len(v) for v in self.writes.values())


def pupils_for(events: int, years: int) -> int:
    return max(8, round(events / (years * EVENTS_PER_PUPIL_YEAR)))


class SchoolPlan:
    """Generates the steps of a synthetic school; ``positions`` is filled in by the builder as it
    appends (judgement stream -> position of its JudgementRecorded), for the revisions."""

    def __init__(self, pupils: int, years: int = 5, seed: int = 6) -> None:
        self.pupils = pupils
        self.years = years
        self.rng = random.Random(seed)
        self.classes = [f"C{i:04d}" for i in range(max(2, pupils // 8))]
        self.positions: dict[str, int] = {}
        self._next_pupil = 0
        self._next_target = 0

    def new_pupil(self) -> str:
        self._next_pupil += 1
        return f"P-{self._next_pupil:06d}"

    def steps(self) -> Iterator[Step]:
        from ledger.events import (
            ClassOpened, JudgementRecorded, JudgementRevised, PupilEnrolled, PupilLeft, PupilMoved,
            StaffRegistered, TermDatesSet,
        )
        from ledger.learning_events import OutcomeRevised, OutcomeSet, StageRecorded, TargetApproved, TargetSet

        rng = self.rng
        setup = Step(at(date(FIRST_YEAR, 9, 1), 8), "DM1")
        for i, class_id in enumerate(self.classes):
            setup.add(f"staff-T{i:04d}", StaffRegistered(staff_id=f"T{i:04d}", role="teacher"))
            setup.add(f"class-{class_id}", ClassOpened(
                class_id=class_id, phase=PHASES[i % len(PHASES)], mark="PMLD" if i % 5 == 0 else None,
                from_term=term_text(FIRST_YEAR, 1)))
        for lead in ("KSL1", "KSL2"):
            setup.add(f"staff-{lead}", StaffRegistered(staff_id=lead, role="ks-lead"))
        yield setup

        roll: dict[str, str] = {}  # pupil -> class
        outcomes: dict[str, list[str]] = {}
        for year in range(FIRST_YEAR, FIRST_YEAR + self.years):
            start = term_dates(year, 1)[0]
            dates = Step(at(start - timedelta(days=3)), "DM1")
            for n in (1, 2, 3):
                first, last = term_dates(year, n)
                dates.add(f"calendar-{year}-{(year + 1) % 100:02d}", TermDatesSet(term=term_text(year, n), start=first, end=last))
            yield dates

            placements = Step(at(start, 8), "DM1")
            for pupil, class_id in list(roll.items()):
                if rng.random() < 0.10:  # a class move in September
                    to = rng.choice(self.classes)
                    if to != class_id:
                        placements.add(f"pupil-{pupil}", PupilMoved(pupil_id=pupil, from_class=class_id, to_class=to, on=start))
                        roll[pupil] = to
            joiners = []
            while len(roll) < self.pupils:
                pupil = self.new_pupil()
                roll[pupil] = rng.choice(self.classes)
                joiners.append(pupil)
                placements.add(f"pupil-{pupil}", PupilEnrolled(pupil_id=pupil, class_id=roll[pupil], on=start))
            yield placements

            plr = Step(at(start + timedelta(days=6)), "KSL1")
            for pupil in joiners:
                outcomes[pupil] = []
                for k in range(2):
                    oid = f"O-{pupil}-{k}"
                    outcomes[pupil].append(oid)
                    plr.add(f"outcome-{oid}", OutcomeSet(outcome_id=oid, pupil_id=pupil, area=AREAS[(k + len(pupil)) % 5],
                                                          description="communicates a choice between two objects"))
            for pupil in roll:
                if pupil not in joiners and rng.random() < 0.10:
                    oid = outcomes[pupil][0]
                    plr.add(f"outcome-{oid}", OutcomeRevised(outcome_id=oid, area=AREAS[0],
                                                              description="communicates a choice between three objects",
                                                              reason="annual review updated the outcome"))
            yield plr

            targets: dict[str, tuple[str, str, int]] = {}  # target -> (pupil, framework, stage index)
            setting = Step(at(start + timedelta(days=10)), "T0000")
            terms = [term_text(year, n) for n in (1, 2, 3)]
            for pupil in roll:
                for k in range(3):
                    self._next_target += 1
                    tid = f"TG-{self._next_target:07d}"
                    framework = list(FRAMEWORKS)[(self._next_target + k) % len(FRAMEWORKS)]
                    targets[tid] = (pupil, framework, 0)
                    setting.add(f"target-{tid}", TargetSet(target_id=tid, pupil_id=pupil, outcome_id=outcomes[pupil][k % 2],
                                                           framework_id=framework, description="uses a symbol to request help",
                                                           terms=terms))
            yield setting
            approving = Step(at(start + timedelta(days=17)), "KSL1")
            for tid, (pupil, _, _) in targets.items():
                approving.add(f"target-{tid}", TargetApproved(target_id=tid, pupil_id=pupil))
            yield approving

            previous: list[tuple[str, str, str, str]] = []  # (stream, pupil, term, status) judged last term
            for n in (1, 2, 3):
                first, last = term_dates(year, n)
                if previous:  # the data meeting early in the term revises about 5% of last term's judgements
                    revising = Step(at(first + timedelta(days=6), 15), "KSL2")
                    for stream, pupil, term, status in previous:
                        if rng.random() < 0.05:
                            new = "smaller-steps" if status == "appropriate" else "appropriate"
                            revising.add(stream, JudgementRevised(
                                pupil_id=pupil, term=term, class_id=roll_at_term[pupil], status=new, previous_status=status,
                                reason="moderation at the data meeting", supersedes_position=self.positions[stream]))
                    if len(revising):
                        yield revising
                staging = Step(at(first + (last - first) / 2), "T0001")
                for tid, (pupil, framework, index) in targets.items():
                    index = min(index + (1 if rng.random() < 0.7 else 0), FRAMEWORKS[framework] - 1)
                    targets[tid] = (pupil, framework, index)
                    staging.add(f"target-{tid}", StageRecorded(target_id=tid, pupil_id=pupil, stage=STAGE_NAMES[framework][index],
                                                               stage_index=index, achieved_on=first + (last - first) / 2))
                yield staging
                judging = Step(at(last, 14), "T0002")
                roll_at_term = dict(roll)
                previous = []
                term = term_text(year, n)
                for pupil, class_id in roll.items():
                    status = "appropriate" if rng.random() < 0.85 else "smaller-steps"
                    reason = rng.choice(REASONS) if status == "smaller-steps" else None
                    stream = f"judgement-{pupil}-{term}"
                    judging.add(stream, JudgementRecorded(pupil_id=pupil, term=term, class_id=class_id, status=status, reason=reason))
                    previous.append((stream, pupil, term, status))
                yield judging
            leaving = Step(at(term_dates(year, 3)[1], 16), "DM1")
            for pupil, class_id in list(roll.items()):
                if rng.random() < 0.08:
                    leaving.add(f"pupil-{pupil}", PupilLeft(pupil_id=pupil, class_id=class_id, on=term_dates(year, 3)[1]))
                    del roll[pupil]
            yield leaving
        self.final_roll = roll


class SettableClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def build_ledger(store, plan: SchoolPlan, clock: SettableClock, *, chunk: int = 20_000,
                 progress: Callable[[int], None] | None = None) -> int:
    """Append every step of ``plan`` through ``store.append`` in chunks of about ``chunk`` events.

    The store must already be initialised (``commands.init``); returns the number of events written."""
    from ledger.store.base import StreamWrite
    from ledger.store.mapper import NewEvent

    versions: dict[str, int] = {}
    written = 0
    command = 0
    for step in plan.steps():
        clock.moment = step.moment
        writes: list = []
        size = 0
        items = list(step.writes.items())
        for i, (stream, events) in enumerate(items):
            writes.append(StreamWrite(stream, versions.get(stream, 0), tuple(NewEvent.from_event(e) for e in events)))
            versions[stream] = versions.get(stream, 0) + len(events)
            size += len(events)
            if size >= chunk or i == len(items) - 1:
                command += 1
                stored = store.append(writes, actor=step.actor, command_id=f"bench-{command}")
                for s in stored:
                    if s.event_type == "JudgementRecorded":
                        plan.positions[s.stream_id] = s.position
                written += len(stored)
                if progress:
                    progress(written)
                writes, size = [], 0
    return written


def extra_events(count: int, tag: str, pupils: list[str]):
    """``count`` new events on new streams (outcomes, targets, judgements in a later year): the
    events a catch-up or an append-latency run writes on top of a built ledger."""
    from ledger.events import JudgementRecorded
    from ledger.learning_events import OutcomeSet, TargetSet
    from ledger.store.base import StreamWrite
    from ledger.store.mapper import NewEvent

    writes = []
    year = 2030 + sum(map(ord, tag)) % 50
    for i in range(count):
        pupil = pupils[i % len(pupils)]
        kind = i % 3
        if kind == 0:
            oid = f"X{tag}-{i}"
            e, stream = OutcomeSet(outcome_id=oid, pupil_id=pupil, area="semh", description="manages a change of routine"), f"outcome-{oid}"
        elif kind == 1:
            tid = f"X{tag}-{i}"
            e = TargetSet(target_id=tid, pupil_id=pupil, outcome_id=f"O-{pupil}-0", framework_id="engagement",
                          description="waits for a turn", terms=[term_text(year, 1)])
            stream = f"target-{tid}"
        else:
            term = term_text(year + i // (3 * len(pupils)), 1)
            e, stream = JudgementRecorded(pupil_id=pupil, term=term, class_id="C0000", status="appropriate"), f"judgement-{pupil}-{term}-{tag}"
        writes.append(StreamWrite(stream, 0, (NewEvent.from_event(e),)))
    return writes


# -- import files for the application layer ---------------------------------------------------------
@dataclass
class ImportFiles:
    classes: list[str]
    pupils_csv: Path
    judgements_csv: Path
    pupils: int


def write_import_files(folder: Path, events: int, seed: int = 7) -> ImportFiles:
    """A 2023-24 roll and its three terms of judgements: about ``events`` events in all (an
    enrolment and three judgements per pupil; 5% move class in January, 3% leave at Easter)."""
    rng = random.Random(seed)
    pupils = max(4, round(events / 4.08))
    classes = [f"C{i:04d}" for i in range(max(2, pupils // 8))]
    folder.mkdir(parents=True, exist_ok=True)
    pupil_rows, judgement_rows = [], []
    for p in range(1, pupils + 1):
        pid = f"P-{p:06d}"
        first = rng.choice(classes)
        fate = rng.random()
        term_class = {1: first, 2: first, 3: first}
        if fate < 0.05:
            second = classes[(classes.index(first) + 1) % len(classes)]
            pupil_rows.append((pid, first, "2023-09-04", "2024-01-03"))
            pupil_rows.append((pid, second, "2024-01-04", ""))
            term_class = {1: first, 2: second, 3: second}
        elif fate < 0.08:
            pupil_rows.append((pid, first, "2023-09-04", "2024-03-28"))
            del term_class[3]
        else:
            pupil_rows.append((pid, first, "2023-09-04", ""))
        for n, class_id in term_class.items():
            status = "appropriate" if rng.random() < 0.85 else "smaller-steps"
            judgement_rows.append((pid, class_id, f"2023-24/T{n}", status, rng.choice(REASONS) if status == "smaller-steps" else ""))
    pupils_csv, judgements_csv = folder / "pupils.csv", folder / "judgements.csv"
    with pupils_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("pupil_id", "class", "enrolled_on", "left_on"))
        w.writerows(pupil_rows)
    with judgements_csv.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("pupil_id", "class", "term", "status", "reason"))
        w.writerows(judgement_rows)
    return ImportFiles(classes, pupils_csv, judgements_csv, pupils)


def open_classes_fast(store, classes: list[str], actor: str = "DM1") -> None:
    """Open the import's classes in one append (setup, not timed)."""
    from ledger.events import ClassOpened
    from ledger.store.base import StreamWrite
    from ledger.store.mapper import NewEvent

    writes = [StreamWrite(f"class-{c}", 0, (NewEvent.from_event(ClassOpened(class_id=c, phase=PHASES[i % 3], from_term="2023-24/T1")),))
              for i, c in enumerate(classes)]
    store.append(writes, actor=actor, command_id="bench-classes")
