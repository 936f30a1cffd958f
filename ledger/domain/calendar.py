"""Academic years, terms and the ledger's local time.

The academic year runs 1 September to 31 August and is written ``2023-24``; its three terms are
written ``2023-24/T1`` (autumn), ``/T2`` (spring) and ``/T3`` (summer). Schools set their own term
dates; until they do, T1 ends 31 December, T2 31 March and T3 31 August.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.errors import InvalidInput

DEFAULT_TIMEZONE = "Europe/London"
_YEAR_RE = re.compile(r"^(\d{4})-(\d{2})$")
_TERM_RE = re.compile(r"^(\d{4})-(\d{2})/T([123])$")
# Far enough back for any school's archive and forward for any plan; outside it a year is a typo
# (and Python's dates end in 9999, so 9999-00 could not even hold its last term).
FIRST_YEAR, LAST_YEAR = 1950, 2149


@dataclass(frozen=True, order=True)
class AcademicYear:
    start_year: int

    def __post_init__(self) -> None:
        if not FIRST_YEAR <= self.start_year <= LAST_YEAR:
            raise InvalidInput(
                f"academic year {self} is outside {FIRST_YEAR}-{(FIRST_YEAR + 1) % 100:02d} to "
                f"{LAST_YEAR}-{(LAST_YEAR + 1) % 100:02d}; check the year"
            )

    @classmethod
    def parse(cls, text: str) -> "AcademicYear":
        m = _YEAR_RE.match(text.strip())
        if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            raise InvalidInput(f"'{text.strip()}' is not an academic year; write it like 2023-24")
        return cls(int(m.group(1)))

    @classmethod
    def containing(cls, day: date) -> "AcademicYear":
        return cls(day.year if day.month >= 9 else day.year - 1)

    def __str__(self) -> str:
        return f"{self.start_year:04d}-{(self.start_year + 1) % 100:02d}"

    @property
    def first_day(self) -> date:
        return date(self.start_year, 9, 1)

    @property
    def last_day(self) -> date:
        return date(self.start_year + 1, 8, 31)

    def terms(self) -> list["Term"]:
        return [Term(self, n) for n in (1, 2, 3)]


@dataclass(frozen=True, order=True)
class Term:
    year: AcademicYear
    number: int

    @classmethod
    def parse(cls, text: str) -> "Term":
        m = _TERM_RE.match(text.strip())
        if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            raise InvalidInput(f"'{text}' is not a term; write it like 2023-24/T1 (T1, T2 or T3)")
        return cls(AcademicYear(int(m.group(1))), int(m.group(3)))

    def __str__(self) -> str:
        return f"{self.year}/T{self.number}"

    @property
    def key(self) -> int:
        """A sortable integer (20231 for 2023-24/T1) used in stored projections."""
        return self.year.start_year * 10 + self.number

    @classmethod
    def from_key(cls, key: int) -> "Term":
        return cls(AcademicYear(key // 10), key % 10)

    @property
    def label(self) -> str:
        return f"T{self.number}"

    def default_dates(self) -> tuple[date, date]:
        y = self.year.start_year
        return {
            1: (date(y, 9, 1), date(y, 12, 31)),
            2: (date(y + 1, 1, 1), date(y + 1, 3, 31)),
            3: (date(y + 1, 4, 1), date(y + 1, 8, 31)),
        }[self.number]


class Calendar:
    """Term dates in force: the school's own where set, else the defaults."""

    def __init__(self, overrides: dict[Term, tuple[date, date]] | None = None) -> None:
        self._overrides = dict(overrides or {})

    def dates(self, term: Term) -> tuple[date, date]:
        return self._overrides.get(term) or term.default_dates()

    def term_on(self, day: date) -> Term:
        """The term containing ``day``, or the next one to start when ``day`` falls in a holiday."""
        year = AcademicYear.containing(day)
        for term in [*year.terms(), *AcademicYear(year.start_year + 1).terms()]:
            start, end = self.dates(term)
            if day <= end:
                return term
        raise AssertionError("unreachable: T3 of the following year always ends after day")

    def check_new_dates(self, term: Term, start: date, end: date) -> None:
        if start > end:
            raise InvalidInput(f"{term}: start {start} is after end {end}")
        if start < term.year.first_day or end > term.year.last_day:
            raise InvalidInput(
                f"{term}: dates must fall inside the academic year "
                f"{term.year.first_day} to {term.year.last_day}"
            )
        for other in term.year.terms():
            if other == term:
                continue
            o_start, o_end = self.dates(other)
            if start <= o_end and o_start <= end:
                raise InvalidInput(
                    f"{term} {start}..{end} overlaps {other} ({o_start}..{o_end}); "
                    f"set {other}'s dates first"
                )
            if (other < term and o_start > start) or (other > term and o_start < start):
                raise InvalidInput(f"{term} must come in order with {other} ({o_start}..{o_end})")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone '{name}'; use an IANA name such as Europe/London") from None


def is_date_only(text: str) -> bool:
    """A date without a time: 2024-07-01, 20240701 or 2024-W16 (a week means its Monday)."""
    raw = text.strip()
    return "T" not in raw.upper().replace("W", "") and " " not in raw


def parse_instant(text: str, tz: ZoneInfo) -> datetime:
    """An ``--as-at`` value as a UTC instant.

    A date alone means the end of that day in the ledger's time zone; a naive date-time is local
    time there (so 2024-07-01T12:00 is 11:00 UTC in British Summer Time).
    """
    raw = text.strip()
    try:
        if is_date_only(raw):  # any date alone is the whole day
            day = date.fromisoformat(raw)
            local = datetime.combine(day, time.max).replace(tzinfo=tz)
            return _utc(local, text)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise InvalidInput(
            f"'{text}' is not a date or date-time; write 2024-03-28 or 2024-03-28T16:00 or 2024-03-28T16:00Z"
        ) from None
    if moment.tzinfo is None:
        naive, moment = moment, moment.replace(tzinfo=tz)
        if _utc(moment, text).astimezone(tz).replace(tzinfo=None) != naive:
            raise InvalidInput(
                f"'{text}' does not exist in {tz.key} (the clocks went forward); "
                "give the time with its UTC offset, e.g. 2024-03-31T01:30Z"
            )
    return _utc(moment, text)


def _utc(moment: datetime, text: str) -> datetime:
    try:
        utc = moment.astimezone(timezone.utc)
        utc.astimezone(moment.tzinfo)  # and back: a ledger's local day must exist for it too
    except OverflowError:
        raise InvalidInput(f"'{text}' is outside the calendar; give a date between 1950 and 2149") from None
    return utc


def parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what} '{text}' is not a date; write it as YYYY-MM-DD") from None


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def day_before(day: date) -> date:
    return day - timedelta(days=1)
