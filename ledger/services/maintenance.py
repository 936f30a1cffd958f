"""Whole-ledger operations: copying a ledger to another database."""

from __future__ import annotations

from ledger.domain.staff import Action
from ledger.errors import InvalidInput
from ledger.services.context import Ledger
from ledger.store import open_store, to_url
from ledger.store.chain import verify_chain


def copy_ledger(ledger: Ledger, to: str) -> int:
    """Copy every event, with positions, times and hashes unchanged, into an empty ledger at ``to``.

    The copy is written in one transaction and its chain verified before this returns.
    """
    ledger.authorise(Action.COPY_LEDGER)
    if to_url(to) == ledger.store.url or to_url(to) == to_url(ledger.store.url):
        raise InvalidInput("--to names the ledger being copied; give another database")
    # A broken source is refused before anything is written, so a copy is never a laundered chain.
    verify_chain(ledger.store.read_all(), ledger.store.recorded_head())
    target = open_store(to, must_exist=False)
    try:
        if target.is_initialised():
            if target.head().position > 0:
                raise InvalidInput(f"{target.url} already holds a ledger ({target.head().position} events); "
                                   "copy into an empty database")
        else:
            target.create_schema()
        count = target.insert_verbatim(ledger.store.read_all())
        verify_chain(target.read_all(), target.recorded_head())
        return count
    finally:
        target.close()
