"""The ledger's events: frozen pydantic models with a stable type name and a schema version.

An event says what happened, never who or when: the store adds the actor and the recorded time
to the envelope. Names and versions are part of the stored format: never rename a class's
``type_name`` or change a field's meaning without bumping ``schema_version`` and teaching the mapper
to upcast the old shape.

No personal data: pupils are known only by a pseudonymous id (letters, digits and dashes, with at
least one digit), never by name or date of birth.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ledger.errors import InvalidInput
from ledger.text import is_control, visible_length  # noqa: F401 - visible_length re-exported

def _has_digit(value: str) -> str:
    # A code with no digit is most likely a name typed by mistake.
    if not any(ch.isdigit() for ch in value):
        raise ValueError("a pupil id needs at least one digit")
    return value


PupilId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"),
    AfterValidator(_has_digit),
]
StaffId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
ClassId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")]
TermText = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}/T[123]$")]

# -- free text ---------------------------------------------------------------------------------
# Reasons, descriptions, notes and names are one line of plain text: a newline or an escape sequence
# would forge extra lines in every report, CSV and terminal that shows them, and a reason of only
# zero-width spaces says nothing. The rules bind events being written (``build`` passes the WRITING
# context); events already stored are read back as they were written, because the mapper validates
# on the way out and a rule added later must never turn an old event into "tampering found".
WRITING = {"writing": True}


def plain_text(min_visible: int) -> AfterValidator:
    """Put after a string's constraints: one line, with at least ``min_visible`` visible characters."""

    def check(value: str, info: ValidationInfo) -> str:
        if not (info.context or {}).get("writing"):
            return value
        bad = next((ch for ch in value if is_control(ch)), None)
        if bad is not None:
            raise PydanticCustomError(
                "control_character",
                "has a line break or other control character (U+{code}); write it as one line of plain text",
                {"code": f"{ord(bad):04X}"},
            )
        if visible_length(value) < min_visible:
            wanted = f"{min_visible} visible character" + ("s" if min_visible > 1 else "")
            raise PydanticCustomError(
                "too_few_visible",
                f"needs at least {wanted}; spaces and invisible characters such as zero-width spaces do not count",
            )
        return value

    return AfterValidator(check)


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500), plain_text(3)]
SchoolName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), plain_text(1)]
Role = Literal["teacher", "line-manager", "ks-lead", "deputy-head", "head", "data-manager"]
Status = Literal["appropriate", "smaller-steps"]
from ledger.vocab import ROLES, STATUSES  # noqa: E402,F401 - pydantic-free, for the CLI; re-exported here


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type_name: ClassVar[str]
    schema_version: ClassVar[int] = 1


E = TypeVar("E", bound=Event)


class LedgerCreated(Event):
    type_name = "LedgerCreated"
    school: SchoolName
    timezone: str


class StaffRegistered(Event):
    type_name = "StaffRegistered"
    staff_id: StaffId
    role: Role


class ClassOpened(Event):
    type_name = "ClassOpened"
    class_id: ClassId
    phase: Annotated[str, StringConstraints(min_length=2, max_length=40)]
    mark: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 -]{1,16}$")] | None = None
    from_term: TermText


class ClassClosed(Event):
    type_name = "ClassClosed"
    class_id: ClassId
    after_term: TermText


class PupilEnrolled(Event):
    type_name = "PupilEnrolled"
    pupil_id: PupilId
    class_id: ClassId
    on: date


class PupilMoved(Event):
    """The pupil is in ``to_class`` from ``on``; their last day in ``from_class`` was the day before."""

    type_name = "PupilMoved"
    pupil_id: PupilId
    from_class: ClassId
    to_class: ClassId
    on: date


class PupilLeft(Event):
    """``on`` is the pupil's last day on the school's roll."""

    type_name = "PupilLeft"
    pupil_id: PupilId
    class_id: ClassId
    on: date


class JudgementRecorded(Event):
    type_name = "JudgementRecorded"
    pupil_id: PupilId
    term: TermText
    class_id: ClassId
    status: Status
    reason: Reason | None = None

    @model_validator(mode="after")
    def _reason_for_smaller_steps(self) -> "JudgementRecorded":
        if self.status == "smaller-steps" and not self.reason:
            raise ValueError("a smaller-steps judgement needs a reason")
        return self


class JudgementRevised(Event):
    type_name = "JudgementRevised"
    pupil_id: PupilId
    term: TermText
    class_id: ClassId
    status: Status
    previous_status: Status
    reason: Reason
    supersedes_position: int = Field(ge=1)


class TermDatesSet(Event):
    type_name = "TermDatesSet"
    term: TermText
    start: date
    end: date


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_name: cls
    for cls in (
        LedgerCreated,
        StaffRegistered,
        ClassOpened,
        ClassClosed,
        PupilEnrolled,
        PupilMoved,
        PupilLeft,
        JudgementRecorded,
        JudgementRevised,
        TermDatesSet,
    )
}


def ledger_stream() -> str:
    return "ledger"


def staff_stream(staff_id: str) -> str:
    return f"staff-{staff_id}"


def class_stream(class_id: str) -> str:
    return f"class-{class_id}"


def pupil_stream(pupil_id: str) -> str:
    return f"pupil-{pupil_id}"


def judgement_stream(pupil_id: str, term: str) -> str:
    """One stream per pupil and term: version 1 is the judgement, later versions its revisions."""
    return f"judgement-{pupil_id}-{term}"


def calendar_stream(year: str) -> str:
    return f"calendar-{year}"


def build(cls: type[E], where: str = "", **fields: Any) -> E:
    """Build an event to write, turning pydantic's multi-line report into one line that says where."""
    try:
        return cls.model_validate(fields, context=WRITING)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "value"
        # Inside a list (a framework's stages) quote the item at fault, not the whole list.
        value = err.get("input") if len(err["loc"]) > 1 else fields.get(str(err["loc"][0])) if err["loc"] else None
        prefix = f"{where}: " if where else ""
        raise InvalidInput(prefix + _explain(field, value, err["msg"], err["type"])) from None


_HINTS = {
    "pupil_id": "a pupil id must be a pseudonymous code of letters, digits and dashes with at least one digit (e.g. P-0042), never a name",
    "staff_id": "a staff id is letters, digits, dots and dashes, at most 32 characters (e.g. dm1 or T.AJ)",
    "class_id": "a class is letters, digits and dashes, at most 16 characters (e.g. 1AJ)",
    "to_class": "a class is letters, digits and dashes, at most 16 characters (e.g. 1AJ)",
    "from_class": "a class is letters, digits and dashes, at most 16 characters (e.g. 1AJ)",
    "reason": "a reason must be 3 to 500 characters",
    "status": "status must be appropriate or smaller-steps",
    "role": "role must be one of teacher, line-manager, ks-lead, deputy-head, head, data-manager",
    "mark": "a mark is a short label of letters and digits, e.g. PMLD",
}


# Errors raised by the ledger's own validators say exactly what is wrong; a field's hint would not.
_OWN_ERRORS = {"control_character", "too_few_visible"}


def _explain(field: str, value: Any, msg: str, kind: str = "") -> str:
    hint = _HINTS.get(field)
    shown = f" '{value}'" if value not in (None, "") else ""
    if kind in _OWN_ERRORS:
        return f"{field}{shown} {msg}"
    if hint:
        return f"{field}{shown} is not valid: {hint}"
    return f"{field}{shown}: {msg}"


_ID_ADAPTERS = {"pupil_id": TypeAdapter(PupilId), "staff_id": TypeAdapter(StaffId), "class_id": TypeAdapter(ClassId)}


def check_id(kind: str, value: str) -> str:
    """A pupil, staff or class id, trimmed, or a one-line refusal saying what such an id looks like."""
    try:
        return _ID_ADAPTERS[kind].validate_python(value)
    except ValidationError:
        raise InvalidInput(_explain(kind, value, "")) from None
