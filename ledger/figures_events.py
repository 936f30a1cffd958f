"""Historic aggregate figures: a school's own per-class counts for a year kept before pupil-level records.

Before a school keeps termly judgements pupil by pupil in the ledger, its figures live in documents
like the seed's Word report: per class and term, how many pupils made appropriate progress and how
many made smaller steps. These events record such a table for one academic year, as counts only;
they are marked as aggregate by their type, and a year holds either aggregate figures or
pupil-level judgements, never both.

Same rules as :mod:`ledger.events`: frozen, a stable ``type_name``, a ``schema_version``, no
personal data (class codes and counts only).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ledger.events import ClassId, Event, Reason, plain_text

YearText = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")]
Phase = Annotated[str, StringConstraints(min_length=2, max_length=40)]
Mark = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 -]{1,16}$")]
SourceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), plain_text(1)]
Count = Annotated[int, Field(ge=0, le=10_000)]
TERM_FIELDS = ("t1", "t2", "t3")


class TermFigures(BaseModel):
    """One class in one term: ``recorded`` with both counts, ``not_recorded`` (blank) or ``not_open`` (N/A)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    state: Literal["recorded", "not_recorded", "not_open"]
    appropriate: Count | None = None
    smaller_steps: Count | None = None

    @model_validator(mode="after")
    def _counts_with_state(self) -> "TermFigures":
        has = (self.appropriate is not None, self.smaller_steps is not None)
        if self.state == "recorded" and has != (True, True):
            raise ValueError("recorded figures need both counts")
        if self.state != "recorded" and has != (False, False):
            raise ValueError(f"{self.state} figures have no counts")
        return self


class ClassFigures(BaseModel):
    """A row of the school's table: the class, its phase group and its three terms."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    phase: Phase
    class_id: ClassId
    mark: Mark | None = None
    t1: TermFigures
    t2: TermFigures
    t3: TermFigures

    def term(self, n: int) -> TermFigures:
        return (self.t1, self.t2, self.t3)[n - 1]


def _check_table(year: str, classes: list[ClassFigures]) -> None:
    start, end = int(year[:4]), int(year[5:])
    if (start + 1) % 100 != end:
        raise ValueError(f"'{year}' is not an academic year")
    seen: set[str] = set()
    for c in classes:
        if c.class_id in seen:
            raise ValueError(f"class {c.class_id} appears twice")
        seen.add(c.class_id)


class HistoricFiguresRecorded(Event):
    """The school's aggregate table for ``year``, in the order of its own document (phases, then classes)."""

    type_name = "HistoricFiguresRecorded"
    year: YearText
    source: SourceName  # the file's name, for the audit trail
    classes: list[ClassFigures] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _valid_table(self) -> "HistoricFiguresRecorded":
        _check_table(self.year, self.classes)
        return self


class HistoricFiguresRevised(Event):
    """A corrected table for a year already recorded; it replaces the whole table, with the reason."""

    type_name = "HistoricFiguresRevised"
    year: YearText
    source: SourceName
    classes: list[ClassFigures] = Field(min_length=1, max_length=500)
    reason: Reason
    supersedes_position: int = Field(ge=1)

    @model_validator(mode="after")
    def _valid_table(self) -> "HistoricFiguresRevised":
        _check_table(self.year, self.classes)
        return self


FIGURES_EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_name: cls for cls in (HistoricFiguresRecorded, HistoricFiguresRevised)
}


def figures_stream(year: str) -> str:
    """One stream per academic year: version 1 records the table, later versions revise it."""
    return f"figures-{year}"
