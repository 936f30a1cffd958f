"""Importing the school's historic aggregate figures (``ledger import figures``).

All or nothing like every import: the whole table is checked and every problem reported with where
it is; the same table again writes nothing; a different table for a year already recorded needs
``--revise --reason``. A year with pupil-level judgements is refused, and so is a year not yet ended.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ledger.domain.calendar import AcademicYear
from ledger.domain.figures import decide_figures, fold_figures, refuse_if_pupil_level
from ledger.domain.staff import Action
from ledger.errors import InvalidInput
from ledger.events import visible_length
from ledger.exchange.figures_layout import ParsedFigures, parse_figures
from ledger.exchange.grids import load_grid
from ledger.figures_events import figures_stream
from ledger.services.context import Ledger


@dataclass
class FiguresResult:
    source: str
    year: str
    parsed: ParsedFigures
    event_type: str | None = None
    dry_run: bool = False

    @property
    def summary(self) -> str:
        what = (f"{self.source}: {self.year} figures for {len(self.parsed.classes)} classes in "
                f"{len(self.parsed.phases)} phases ({', '.join(self.parsed.phases)})")
        if self.event_type is None:
            return f"{what}; nothing new to write (the same figures are already recorded)"
        verb = "would write" if self.dry_run else "wrote"
        return f"{what}; {verb} 1 event ({self.event_type})"


def import_figures(ledger: Ledger, path: Path, *, year: str | None = None, sheet: str | None = None,
                   revise_reason: str | None = None, dry_run: bool = False) -> FiguresResult:
    ledger.authorise(Action.RECORD_FIGURES)
    if revise_reason is not None and visible_length(revise_reason) < 3:
        raise InvalidInput("--revise needs --reason TEXT (at least 3 characters): why the figures changed")
    given = AcademicYear.parse(year) if year is not None else None
    grid = load_grid(path, sheet, word=True)
    parsed = parse_figures(grid)
    academic_year = _year(path, given, parsed)
    # A year's table is complete once its summer term is over (the school's own dates where set).
    last_day = ledger.calendar(academic_year)[1].dates(academic_year.terms()[-1])[1]
    if last_day >= ledger.today():
        raise InvalidInput(f"{academic_year} has not ended yet (its summer term ends {last_day}); "
                           "historic figures are for past years")
    model = ledger.read_model
    judged = model.judgements_in_force(ledger.store.head().position, year_start=academic_year.start_year)
    refuse_if_pupil_level(academic_year, len(judged))
    version, pairs = ledger.stream(figures_stream(str(academic_year)))
    event = decide_figures(fold_figures(pairs), str(academic_year), path.name, parsed.classes,
                           revise_reason.strip() if revise_reason else None)
    result = FiguresResult(str(path), str(academic_year), parsed, dry_run=dry_run)
    if event is None:
        if not dry_run:  # a retry under the same --command-id finds its table already recorded
            ledger.check_retry_within([figures_stream(str(academic_year))])
        return result
    result.event_type = event.type_name
    if not dry_run:
        write = ledger.write(figures_stream(str(academic_year)), version, [event])
        key = f"{ledger.school}:{academic_year}:v{version}:{grid.digest}:{revise_reason or ''}"
        # The user's --command-id, when given, is the key (the store refuses it for other content).
        ledger.append([write], command_id=ledger.command_id or "import-figures:" + hashlib.sha256(key.encode()).hexdigest())
    return result


def _year(path: Path, given: AcademicYear | None, parsed: ParsedFigures) -> AcademicYear:
    titled = parsed.year
    if given is not None and titled is not None and given != titled:
        raise InvalidInput(f"{path}: the document's title is for {titled} but --year says {given}; "
                           "check which year these figures are for")
    chosen = given or titled
    if chosen is None:
        raise InvalidInput(f"{path}: which year are these figures for? The file does not say; "
                           "give --year (e.g. --year 2022-23)")
    return chosen
