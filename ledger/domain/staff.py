"""Members of staff, roles and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ledger.errors import InvalidInput, NotAllowed
from ledger.events import ROLES, Event, StaffRegistered


class Action(Enum):
    ADD_STAFF = "add staff"
    MANAGE_SCHOOL = "open or close classes, set term dates or import pupils"
    RECORD_JUDGEMENT = "record or import judgements"
    REVISE_JUDGEMENT = "revise judgements"
    MANAGE_FRAMEWORKS = "add progress frameworks"
    MANAGE_OUTCOMES = "set, revise or close EHCP outcomes"
    SET_TARGETS = "set targets"
    CHANGE_TARGETS = "revise or withdraw targets"
    APPROVE_TARGETS = "approve targets"
    RECORD_STAGES = "record stages on a learning record"
    RECORD_FIGURES = "import the school's historic aggregate figures"
    COPY_LEDGER = "copy the whole ledger to another database"


ALLOWED: dict[Action, frozenset[str]] = {
    Action.ADD_STAFF: frozenset({"data-manager", "head"}),
    Action.MANAGE_SCHOOL: frozenset({"data-manager", "head", "deputy-head"}),
    Action.RECORD_JUDGEMENT: frozenset(ROLES),
    Action.REVISE_JUDGEMENT: frozenset({"line-manager", "ks-lead", "deputy-head", "head"}),
    Action.MANAGE_FRAMEWORKS: frozenset({"ks-lead", "deputy-head", "head", "data-manager"}),
    Action.MANAGE_OUTCOMES: frozenset({"teacher", "ks-lead", "deputy-head", "head", "data-manager"}),
    # The school's process: class teams and Key Stage leads break outcomes into targets...
    Action.SET_TARGETS: frozenset({"teacher", "ks-lead"}),
    Action.CHANGE_TARGETS: frozenset({"teacher", "ks-lead", "deputy-head", "head"}),
    # ...and Key Stage leads (or senior leaders) approve them, never the person who set them.
    Action.APPROVE_TARGETS: frozenset({"ks-lead", "deputy-head", "head"}),
    Action.RECORD_STAGES: frozenset({"teacher", "line-manager", "ks-lead", "deputy-head", "head", "data-manager"}),
    Action.RECORD_FIGURES: frozenset({"data-manager", "head", "deputy-head"}),
    Action.COPY_LEDGER: frozenset({"data-manager", "head"}),
}


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    role: str


def fold_staff(events: list[Event]) -> StaffMember | None:
    member = None
    for e in events:
        if isinstance(e, StaffRegistered):
            member = StaffMember(e.staff_id, e.role)
    return member


def check_allowed(actor: str | None, member: StaffMember | None, action: Action) -> StaffMember:
    if not actor:
        raise NotAllowed("no actor given; pass --actor YOUR-STAFF-ID or set LEDGER_ACTOR")
    if member is None:
        raise NotAllowed(
            f"'{actor}' is not a registered member of staff; ask the data manager to run "
            f"'ledger staff add {actor} --role ROLE'"
        )
    if member.role not in ALLOWED[action]:
        allowed = ", ".join(r for r in ROLES if r in ALLOWED[action])
        raise NotAllowed(f"{actor} ({member.role}) may not {action.value}; that needs one of: {allowed}")
    return member


def decide_register(existing: StaffMember | None, staff_id: str, role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'; use one of {', '.join(ROLES)}")
    if existing is not None:
        raise InvalidInput(f"staff member {staff_id} is already registered as {existing.role}")
