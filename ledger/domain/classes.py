"""Classes, their phase group, and the terms in which they exist."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.domain.calendar import Term
from ledger.errors import InvalidInput, NotFound
from ledger.events import ClassClosed, ClassOpened, Event

KEY_STAGES = ("EYFS", "KS1", "KS2", "KS3", "KS4", "KS5")


def normalise_phase(text: str) -> str:
    """``'EYFS / KS1 / KS2'`` becomes ``'EYFS/KS1/KS2'``; unknown parts are refused."""
    parts = [p for p in re.split(r"\s*/\s*", text.strip().upper()) if p]
    bad = [p for p in parts if p not in KEY_STAGES]
    if not parts or bad:
        hint = " (did you mean EYFS?)" if "EFYS" in bad else ""
        raise InvalidInput(
            f"phase '{text}' is not a group of key stages{hint}; write it like EYFS/KS1/KS2, KS3/KS4 or KS5"
        )
    return "/".join(parts)


@dataclass(frozen=True)
class ClassState:
    class_id: str
    phase: str
    mark: str | None
    from_term: Term
    closed_after: Term | None

    @property
    def label(self) -> str:
        return f"{self.class_id} ({self.mark})" if self.mark else self.class_id

    def is_open_in(self, term: Term) -> bool:
        return self.from_term <= term and (self.closed_after is None or term <= self.closed_after)


def fold_class(events: list[Event]) -> ClassState | None:
    state: ClassState | None = None
    for e in events:
        if isinstance(e, ClassOpened):
            state = ClassState(e.class_id, e.phase, e.mark, Term.parse(e.from_term), None)
        elif isinstance(e, ClassClosed) and state is not None:
            state = ClassState(state.class_id, state.phase, state.mark, state.from_term, Term.parse(e.after_term))
    return state


def decide_open(existing: ClassState | None, class_id: str) -> None:
    if existing is not None:
        raise InvalidInput(
            f"class {class_id} is already open (since {existing.from_term}); a class id is opened once"
        )


def decide_close(existing: ClassState | None, class_id: str, after: Term) -> None:
    state = require_class(existing, class_id)
    if state.closed_after is not None:
        raise InvalidInput(f"class {class_id} was already closed after {state.closed_after}")
    if after < state.from_term:
        raise InvalidInput(f"class {class_id} opened in {state.from_term}; it cannot close after {after}")


def check_empty_after(class_id: str, after: Term, judged_later: Sequence[Term], staying: Sequence[str]) -> None:
    """A class closes only once nothing of it is left after ``after``: its judgements for later terms
    would turn into N/A cells and vanish from the totals, and pupils left on its roll would belong to
    no class that exists. ``judged_later`` has the term of each such judgement; ``staying`` the pupils
    whose placement in the class runs into a later term."""
    if judged_later:
        counts = Counter(judged_later)
        found = ", ".join(f"{n} in {term}" for term, n in sorted(counts.items()))
        raise InvalidInput(
            f"class {class_id} has judgements recorded for terms after {after} ({found}); "
            f"close it after {max(counts)} or later"
        )
    if staying:
        shown = ", ".join(staying[:3]) + (f" and {len(staying) - 3} more" if len(staying) > 3 else "")
        raise InvalidInput(
            f"class {class_id} still has pupils on its roll after {after} ({shown}); move them to another class "
            "or record their leaving with 'ledger import pupils' first, or close it after a later term"
        )


def require_class(state: ClassState | None, class_id: str) -> ClassState:
    if state is None:
        raise NotFound(f"class {class_id} does not exist; open it with 'ledger class open {class_id} --phase PHASE'")
    return state


def require_open(state: ClassState | None, class_id: str, term: Term) -> ClassState:
    state = require_class(state, class_id)
    if not state.is_open_in(term):
        closed = f" and closed after {state.closed_after}" if state.closed_after else ""
        raise InvalidInput(f"class {class_id} is not open in {term} (it opened in {state.from_term}{closed})")
    return state
