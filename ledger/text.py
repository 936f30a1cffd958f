"""What counts as plain text: one rule for the events that store free text and for the command
line that shows it back (kept free of pydantic, so ``ledger --help`` stays light)."""

from __future__ import annotations

import unicodedata

_SEPARATORS = {"\u2028", "\u2029"}  # line and paragraph separators: line breaks that are not Cc
# Bidirectional embeddings, overrides and isolates reorder what follows them on screen, so a reason
# could display as something other than what is stored.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
# Letters and marks that draw nothing: Hangul fillers and the blank Braille pattern.
_BLANK = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in _SEPARATORS or ch in _BIDI


def visible_length(text: str | None) -> int:
    """Characters that show: not whitespace, format characters such as zero-width spaces (Cf),
    combining marks and variation selectors on their own (Mn, Me), or blank fillers."""
    return sum(1 for ch in text or ""
               if not ch.isspace() and ch not in _BLANK and unicodedata.category(ch) not in ("Cf", "Mn", "Me"))
