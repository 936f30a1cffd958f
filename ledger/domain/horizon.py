"""How far ahead of today the ledger accepts dates and terms.

A school plans at most into next academic year (targets for September, a class opening then, next
year's term dates) and knows of an enrolment or a leaving a few months ahead. A date or term far
beyond that is a typo (2099 for 2024, 2090-91 for 2024-25), and once written it would sit in the
roll and the reports for good, so it is refused while it can still be corrected.
"""

from __future__ import annotations

from datetime import date

from ledger.domain.calendar import AcademicYear, Term
from ledger.errors import InvalidInput


def last_planned_year(today: date) -> AcademicYear:
    """Next academic year: the furthest a term may be planned."""
    return AcademicYear(AcademicYear.containing(today).start_year + 1)


def check_term_ahead(term: Term, today: date, what: str) -> Term:
    """``term`` unless it starts after the end of next academic year; ``what`` names the use,
    e.g. "a class can open from"."""
    last = last_planned_year(today)
    if term.year > last:
        raise InvalidInput(
            f"{term} is too far ahead: {what} a term up to the end of next academic year ({last}); check the year"
        )
    return term


def one_year_after(today: date) -> date:
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February: a year on is 28 February
        return today.replace(year=today.year + 1, day=28)


def check_date_ahead(day: date, today: date, what: str) -> date:
    """``day`` unless it is more than a year after today; ``what`` names the column, e.g. enrolled_on."""
    if day > one_year_after(today):
        raise InvalidInput(f"{what} {day} is more than a year after today ({today}); check the date")
    return day
