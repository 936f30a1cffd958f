"""A trust's view: one ledger holding many schools, reported school by school and in total."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.domain.calendar import AcademicYear
from ledger.events import LedgerCreated
from ledger.readmodel import Counts, Report
from ledger.services.context import Ledger
from ledger.services.queries import resolve_moment


@dataclass(frozen=True)
class SchoolReport:
    school: str  # "" for the ledger's own single school
    name: str
    report: Report


@dataclass(frozen=True)
class TrustReport:
    year: str
    reports: list[SchoolReport]
    totals: dict[str, Counts]

    @property
    def as_at(self):  # noqa: ANN201 - same moment for every school
        return self.reports[0].report.as_at

    @property
    def position(self) -> int:
        return self.reports[0].report.position


def schools(ledger: Ledger, position: int) -> list[tuple[str, str]]:
    """(code, name) of every school created in the ledger at or before ``position``, in creation order."""
    found = []
    for stored in ledger.store.read_all(limit=position):
        if stored.event_type == LedgerCreated.type_name:
            found.append((stored.school, stored.to_event().school))  # type: ignore[attr-defined]
    return found


def trust_report(ledger: Ledger, open_school: Callable[[str], Ledger], year: str, as_at: str | None = None,
                 position: int | None = None) -> TrustReport:
    academic_year = AcademicYear.parse(year)
    pos, instant = resolve_moment(ledger, as_at, position)
    reports = []
    for code, name in schools(ledger, pos):
        school_ledger = ledger if code == ledger.school else open_school(code)
        model = school_ledger.read_model
        report = model.report(academic_year.start_year, pos, instant, school_ledger.timezone_name)
        reports.append(SchoolReport(code, name, report))
    totals = {t.label: Counts() for t in academic_year.terms()}
    for r in reports:
        for term, counts in r.report.totals.items():
            totals[term] += counts
    return TrustReport(str(academic_year), reports, totals)
