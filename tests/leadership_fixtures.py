"""A small school with a known history, for the leadership query tests (service and CLI).

Times are UTC on the fake clock; the ledger's zone is Europe/London (BST in July, UTC+1):

* 2024-07-01 09:00  setup: staff, classes 1AJ and 3MW (from T1) and 1CW (from T2), six pupils
* 2024-07-01 10:00  T1 judgements by T1 (teacher): P-0002, P-0004, P-0005 smaller steps
* 2024-07-02 14:00  the data meeting: LM1 revises P-0002 T1 to appropriate, KSL P-0004 T1 too
* 2024-07-02 23:30  T2 judgements by T1 (00:30 on 3 July, local time)
* 2024-07-03 09:00  an outcome and a target for P-0001, approved by KSL; stages Emerging, Developing
* 2024-07-04 09:00  DH1 revises P-0001 T2 to smaller steps, and at 09:05 back to appropriate
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from ledger.domain.calendar import Term
from ledger.services import commands, imports, learning
from ledger.services.context import Ledger

T1, T2, T3 = (Term.parse(f"2023-24/T{n}") for n in (1, 2, 3))
STAFF = {"T1": "teacher", "LM1": "line-manager", "KSL": "ks-lead", "DH1": "deputy-head", "HT9": "head"}
ROLL = (
    "pupil_id,class,enrolled_on\n"
    "P-0001,1AJ,2023-09-04\n"
    "P-0002,1AJ,2023-09-04\n"
    "P-0003,1AJ,2023-09-04\n"
    "P-0004,3MW,2023-09-04\n"
    "P-0005,3MW,2023-09-04\n"
    "P-0006,1CW,2024-01-08\n"
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@dataclass
class Marks:
    """Positions of the events the tests talk about."""

    setup_end: int = 0
    t1: list[int] = field(default_factory=list)
    meeting: list[int] = field(default_factory=list)
    t2: list[int] = field(default_factory=list)
    learning: list[int] = field(default_factory=list)
    flip: list[int] = field(default_factory=list)


def as_(ledger: Ledger, actor: str) -> Ledger:
    ledger.actor = actor
    return ledger


def build_school(ledger: Ledger, clock, folder: Path) -> Marks:  # noqa: ANN001 - conftest.FakeClock
    m = Marks()
    clock.set(utc("2024-07-01T09:00:00"))
    as_(ledger, "dm1")
    for staff_id, role in STAFF.items():
        commands.add_staff(ledger, staff_id, role)
    commands.open_class(ledger, "1AJ", "EYFS/KS1/KS2", None, T1)
    commands.open_class(ledger, "3MW", "KS3/KS4", None, T1)
    commands.open_class(ledger, "1CW", "EYFS/KS1/KS2", None, T2)
    roll = folder / "roll.csv"
    roll.write_text(ROLL, encoding="utf-8")
    imports.import_pupils(ledger, roll)
    m.setup_end = ledger.store.head().position

    clock.set(utc("2024-07-01T10:00:00"))
    as_(ledger, "T1")
    for pupil, status, reason in [
        ("P-0001", "appropriate", None),
        ("P-0002", "smaller-steps", "extended medical absence"),
        ("P-0003", "appropriate", None),
        ("P-0004", "smaller-steps", "Attendance below 90%"),
        ("P-0005", "smaller-steps", "attendance  below 90% "),
    ]:
        m.t1 += [e.position for e in commands.record_judgement(ledger, pupil, T1, status, reason)]

    clock.set(utc("2024-07-02T14:00:00"))
    m.meeting += [e.position for e in commands.revise_judgement(
        as_(ledger, "LM1"), "P-0002", T1, "appropriate", "data meeting: PLR shows steady progress")]
    m.meeting += [e.position for e in commands.revise_judgement(
        as_(ledger, "KSL"), "P-0004", T1, "appropriate", "moderation: attendance recovered")]

    clock.set(utc("2024-07-02T23:30:00"))
    as_(ledger, "T1")
    for pupil, status, reason in [
        ("P-0001", "appropriate", None),
        ("P-0004", "appropriate", None),
        ("P-0006", "smaller-steps", "settling in after joining"),
    ]:
        m.t2 += [e.position for e in commands.record_judgement(ledger, pupil, T2, status, reason)]

    clock.set(utc("2024-07-03T09:00:00"))
    m.learning += [e.position for e in learning.set_outcome(
        as_(ledger, "T1"), "O-1", "P-0001", "communication-interaction", "Requests help using a communication aid")]
    m.learning += [e.position for e in learning.set_target(
        ledger, "TG-1", "P-0001", "O-1", "engagement", "Uses a symbol to request a break", "2023-24/T2;2023-24/T3")]
    m.learning += [e.position for e in learning.approve_targets(as_(ledger, "KSL"), ["TG-1"])]
    m.learning += [e.position for e in learning.record_stage(as_(ledger, "T1"), "TG-1", "Emerging", date(2024, 2, 1), "2 of 5 sessions")]
    m.learning += [e.position for e in learning.record_stage(ledger, "TG-1", "Developing", date(2024, 5, 1), "4 of 5 sessions")]

    clock.set(utc("2024-07-04T09:00:00"))
    m.flip += [e.position for e in commands.revise_judgement(
        as_(ledger, "DH1"), "P-0001", T2, "smaller-steps", "checking the moderation sample")]
    clock.set(utc("2024-07-04T09:05:00"))
    m.flip += [e.position for e in commands.revise_judgement(
        ledger, "P-0001", T2, "appropriate", "entered in error: back to appropriate")]
    as_(ledger, "dm1")
    return m
