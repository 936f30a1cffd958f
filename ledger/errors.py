"""Every error the ledger raises on purpose.

All derive from :class:`LedgerError`; the CLI catches that one class, prints the message and exits 1.
Anything else is a bug and is allowed to crash loudly. Each message says what is wrong, where, and
what to do about it.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class: a refusal the user can act on."""

    def lines(self) -> list[str]:
        """The message as one line per problem (most errors have exactly one)."""
        return [str(self)]


class InvalidInput(LedgerError):
    """The data given breaks a rule (bad value, missing reason, unknown class...)."""


class NotAllowed(LedgerError):
    """The actor is not registered or their role does not allow the action."""


class NotFound(LedgerError):
    """Something named does not exist in the ledger."""


class Conflict(LedgerError):
    """Someone else changed the same thing first, or a command id was reused for other content."""


class TamperingFound(LedgerError):
    """The hash chain does not verify; the message names the first failing position."""

    def __init__(self, position: int, problem: str) -> None:
        self.position = position
        self.problem = problem
        super().__init__(
            f"tampering found at position {position}: {problem}; "
            "restore the ledger from a backup and report it to the data protection lead"
        )


class StoreError(LedgerError):
    """The database could not be opened or used (missing file, wrong URL, newer schema...)."""


class ImportRefused(InvalidInput):
    """An import with one or more bad rows: nothing was written, every problem is listed."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"import of {source} refused: {len(problems)} {noun}, nothing was written; "
            "fix the rows above and import again"
        )

    def lines(self) -> list[str]:
        return [*self.problems, str(self)]
