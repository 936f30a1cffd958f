"""The application's view of one ledger: its store, clock, time zone and read model."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from ledger.domain.calendar import DEFAULT_TIMEZONE, AcademicYear, Calendar, Term, zone
from ledger.domain.classes import ClassState, fold_class
from ledger.domain.judgements import JudgementState, fold_judgement
from ledger.domain.pupils import PupilState, fold_pupil
from ledger.domain.staff import Action, StaffMember, check_allowed, fold_staff
from ledger.errors import Conflict, NotFound, StoreError
from ledger.events import (
    Event, LedgerCreated, TermDatesSet, calendar_stream, class_stream, judgement_stream,
    ledger_stream, pupil_stream, staff_stream,
)
from ledger.readmodel import ReadModel
from ledger.store.base import EventStore, StreamWrite
from ledger.store.mapper import NewEvent, StoredEvent


@dataclass
class Ledger:
    """Wired by :func:`ledger.bootstrap.open_ledger`; tests build one around any store."""

    store: EventStore
    read_model_factory: Callable[[], ReadModel]
    actor: str | None = None
    command_id: str | None = None
    # A trust keeps many schools in one ledger: each school's streams live under "CODE/"; the
    # ledger's own single school has the empty code and unprefixed streams.
    school: str = ""
    _read_model: ReadModel | None = field(default=None, init=False)
    _preloaded: dict[str, list[StoredEvent]] | None = field(default=None, init=False)

    # -- infrastructure --------------------------------------------------------------------
    def require_initialised(self) -> None:
        if not self.store.is_initialised():
            raise StoreError(f"{self.store.url} is not a ledger yet; create it with 'ledger --actor YOUR-ID init'")

    @property
    def read_model(self) -> ReadModel:
        if self._read_model is None:
            self.require_initialised()
            if self.school and not self.events_of(ledger_stream())[1]:
                raise NotFound(
                    f"no school {self.school} in the ledger at {self.store.url}; "
                    "'ledger report --year YEAR --trust' lists its schools"
                )
            self._read_model = self.read_model_factory()
        self._read_model.catch_up()
        return self._read_model

    def close(self) -> None:
        if self._read_model is not None:
            self._read_model.close()
        self.store.close()

    def now(self) -> datetime:
        return self.store.clock()

    def new_command_id(self) -> str:
        return self.command_id or str(uuid.uuid4())

    def replay(self, *stream_ids: str) -> list[StoredEvent] | None:
        """What this command stored the first time, when it is a retry of a command that succeeded.

        A caller whose reply was lost retries with the same ``--command-id``; by then the rules
        would refuse the write as a duplicate, so the earlier result is returned before deciding.
        The same id used for a write to other records is refused, as the store would.
        """
        if not self.command_id:
            return None
        earlier = self.store.read_command(self.command_id)
        if not earlier:
            return None
        wanted = {self.scoped(s) for s in stream_ids}
        if {e.stream_id for e in earlier} != wanted:
            raise self._reused()
        return earlier

    def check_retry_within(self, stream_ids: Iterable[str]) -> None:
        """Refuse a ``--command-id`` already used for writes outside these streams.

        For a bulk command that has found nothing new to write: a retry of an import that succeeded
        finds its rows written, and what it wrote then lies in the streams its file names now; an
        earlier write anywhere else under this id was another command's, as the store would say."""
        if not self.command_id:
            return
        allowed = {self.scoped(s) for s in stream_ids}
        if any(e.stream_id not in allowed for e in self.store.read_command(self.command_id)):
            raise self._reused()

    def _reused(self) -> Conflict:
        return Conflict(
            f"command id {self.command_id} was already used for a different command; "
            "use a new command id for new work"
        )

    def append(self, writes: Sequence[StreamWrite], command_id: str | None = None) -> list[StoredEvent]:
        assert self.actor is not None, "authorise() before append()"
        return self.store.append(writes, actor=self.actor, command_id=command_id or self.new_command_id())

    def scoped(self, stream_id: str) -> str:
        return f"{self.school}/{stream_id}" if self.school else stream_id

    def write(self, stream_id: str, version: int, events: Sequence[Event]) -> StreamWrite:
        return StreamWrite(self.scoped(stream_id), version, tuple(NewEvent.from_event(e) for e in events))

    # -- stream reads --------------------------------------------------------------------
    @contextmanager
    def preloaded(self, stream_ids: Iterable[str]) -> Iterator[None]:
        """Read these streams in a few queries (``store.read_streams``) and serve them from memory
        until the block ends: a bulk command (an import) decides on thousands of streams and writes
        them in one append at the end, so it needs no round trip per stream. The versions read here
        are still checked by that append, so a concurrent writer gets ``Conflict`` as before."""
        scoped = [self.scoped(s) for s in stream_ids]
        self._preloaded = self.store.read_streams(scoped) if scoped else {}
        try:
            yield
        finally:
            self._preloaded = None

    def stored_stream(self, stream_id: str) -> list[StoredEvent]:
        """One of this school's streams as stored (with actors and positions)."""
        scoped = self.scoped(stream_id)
        if self._preloaded is not None and scoped in self._preloaded:
            return self._preloaded[scoped]
        return self.store.read_stream(scoped)

    def stream(self, stream_id: str) -> tuple[int, list[tuple[int, Event]]]:
        stored = self.stored_stream(stream_id)
        return (stored[-1].stream_version if stored else 0), [(s.position, s.to_event()) for s in stored]

    def events_of(self, stream_id: str) -> tuple[int, list[Event]]:
        version, pairs = self.stream(stream_id)
        return version, [e for _, e in pairs]

    def staff(self, staff_id: str) -> tuple[int, StaffMember | None]:
        version, events = self.events_of(staff_stream(staff_id))
        return version, fold_staff(events)

    def klass(self, class_id: str) -> tuple[int, ClassState | None]:
        version, events = self.events_of(class_stream(class_id))
        return version, fold_class(events)

    def pupil(self, pupil_id: str) -> tuple[int, PupilState]:
        version, events = self.events_of(pupil_stream(pupil_id))
        return version, fold_pupil(pupil_id, events)

    def judgement(self, pupil_id: str, term: Term) -> tuple[int, JudgementState | None]:
        version, pairs = self.stream(judgement_stream(pupil_id, str(term)))
        return version, fold_judgement(pairs)

    def calendar(self, year: AcademicYear) -> tuple[int, Calendar]:
        version, events = self.events_of(calendar_stream(str(year)))
        overrides = {
            Term.parse(e.term): (e.start, e.end) for e in events if isinstance(e, TermDatesSet)
        }
        return version, Calendar(overrides)

    @cached_property
    def timezone_name(self) -> str:
        _, events = self.events_of(ledger_stream())
        created = next((e for e in events if isinstance(e, LedgerCreated)), None)
        return created.timezone if created else DEFAULT_TIMEZONE

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone_name)

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    def current_term(self) -> Term:
        today = self.today()
        _, calendar = self.calendar(AcademicYear.containing(today))
        return calendar.term_on(today)

    def authorise(self, action: Action) -> StaffMember:
        self.require_initialised()
        _, member = self.staff(self.actor or "")
        return check_allowed(self.actor, member, action)
