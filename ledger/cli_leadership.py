"""Commands for leaders: changes, compare, trend, smaller-steps, audit and export judgements.

Thin wrappers: parse, call one service in :mod:`ledger.services.leadership`, render through the one
``--format`` renderer. A malformed value (a date, year, term or event type that cannot be read) is a
wrong command line (exit 2); a question the ledger cannot answer as asked (a moment outside the log,
--from after --to, an unknown class) is refused (exit 1).
"""

from __future__ import annotations

from datetime import timezone
from pathlib import Path
from typing import Any

import click

from ledger.cli_exchange import write_file
from ledger.cli_support import OUTPUT, TERM, format_option, open_from
from ledger.domain.calendar import AcademicYear, Term, parse_instant
from ledger.errors import InvalidInput
from ledger.render import FORMATS, iso, render
from ledger.vocab import CHANGE_KINDS


class WhenType(click.ParamType):
    """An ISO date or date-time, checked here and read in the ledger's time zone by the service."""

    name = "WHEN"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        try:
            parse_instant(str(value), timezone.utc)
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)
        return str(value).strip()


class YearType(click.ParamType):
    name = "YEAR"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        try:
            return str(AcademicYear.parse(str(value)))
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)


class EventTypeName(click.ParamType):
    """An event type name, matched ignoring case (JudgementRevised, judgementrevised)."""

    name = "EVENT_TYPE"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from ledger.event_types import ALL_EVENT_TYPES

        names = {n.casefold(): n for n in ALL_EVENT_TYPES}
        found = names.get(str(value).strip().casefold())
        if found is None:
            self.fail(f"'{value}' is not an event type; use one of {', '.join(sorted(ALL_EVENT_TYPES))}", param, ctx)
        return found


WHEN = WhenType()
YEAR = YearType()


def moments(f: Any) -> Any:
    f = click.option("--position", type=click.IntRange(min=0), help="as the ledger stood at this log position")(f)
    return click.option("--as-at", "as_at", type=WHEN, metavar="WHEN",
                        help="as the ledger stood then: ISO date-time or date (end of that day, local time)")(f)


def _one_moment(as_at: str | None, position: int | None) -> None:
    if as_at is not None and position is not None:
        raise click.UsageError("give --as-at or --position, not both")


@click.command()
@click.option("--from", "from_", type=WHEN, metavar="WHEN",
              help="first moment included: ISO date-time, or a date (from the START of that day, local time)")
@click.option("--to", "to", type=WHEN, metavar="WHEN",
              help="last moment included: ISO date-time, or a date (to the END of that day); default now")
@click.option("--from-position", type=click.IntRange(min=0), metavar="N", help="instead of --from: from log position N")
@click.option("--to-position", type=click.IntRange(min=0), metavar="N", help="instead of --to: up to log position N")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(CHANGE_KINDS),
              help="only these kinds of change (repeat for several); default all")
@format_option
@click.pass_context
def changes(ctx: click.Context, from_: str | None, to: str | None, from_position: int | None,
            to_position: int | None, kinds: tuple[str, ...], fmt: str) -> None:
    """What changed between two moments: every judgement recorded or revised, every stage recorded and
    every target and outcome event, with who, when, what it was before and after, and why.

    Both ends are inclusive. A date alone means the whole day: --from 2024-01-10 starts at midnight
    that day, --to 2024-01-10 ends at midnight after it (the ledger's time zone).

    \b
    Example:
      ledger changes --from 2024-01-10 --to 2024-01-10
      ledger changes --from 2024-04-17 --kind judgement --format csv
    """
    from ledger.services import leadership

    if from_ is None and from_position is None:
        raise click.UsageError("give --from WHEN (or --from-position N): the first moment to list changes from")
    if from_ is not None and from_position is not None:
        raise click.UsageError("give --from or --from-position, not both")
    if to is not None and to_position is not None:
        raise click.UsageError("give --to or --to-position, not both")
    result = leadership.changes(open_from(ctx), from_, to, from_position, to_position, kinds)
    click.echo(render("changes", result, fmt))


@click.command()
@click.option("--year", required=True, type=YEAR, help="academic year, e.g. 2023-24")
@click.option("--as-at", "as_ats", multiple=True, type=WHEN, metavar="WHEN",
              help="a moment (give two, or one with one --position): ISO date-time or date (end of that day)")
@click.option("--position", "positions", multiple=True, type=click.IntRange(min=0), metavar="N",
              help="a log position (give two, or one with one --as-at)")
@format_option
@click.pass_context
def compare(ctx: click.Context, year: str, as_ats: tuple[str, ...], positions: tuple[int, ...], fmt: str) -> None:
    """The report at two moments side by side: cells that differ are marked and explained by the
    judgements recorded or revised between them (who, when, why). The earlier moment is A.

    \b
    Example:
      ledger compare --year 2023-24 --as-at 2024-01-09 --as-at 2024-01-10
      ledger compare --year 2023-24 --position 461 --position 464 --format json
    """
    from ledger.services import leadership

    if len(as_ats) + len(positions) != 2:
        raise click.UsageError("compare needs exactly two moments: --as-at twice, --position twice, or one of each")
    click.echo(render("compare", leadership.compare(open_from(ctx), year, as_ats, positions), fmt))


@click.command()
@click.option("--class", "class_id", help="only this class")
@click.option("--phase", help="only this phase and its classes, e.g. KS3/KS4")
@moments
@format_option
@click.pass_context
def trend(ctx: click.Context, class_id: str | None, phase: str | None, as_at: str | None, position: int | None,
          fmt: str) -> None:
    """Appropriate progress (% of pupils judged) per term across every year in the ledger: the whole
    school, each phase and each class.

    \b
    Example:
      ledger trend
      ledger trend --phase KS3/KS4 --format csv
    """
    from ledger.services import leadership

    if class_id is not None and phase is not None:
        raise click.UsageError("give --class or --phase, not both")
    _one_moment(as_at, position)
    click.echo(render("trend", leadership.trend(open_from(ctx), class_id, phase, as_at, position), fmt))


@click.command("smaller-steps")
@click.option("--term", "term_", type=TERM, required=True, help="e.g. 2023-24/T2")
@click.option("--class", "class_id", help="only this class")
@moments
@format_option
@click.pass_context
def smaller_steps(ctx: click.Context, term_: Term, class_id: str | None, as_at: str | None, position: int | None,
                  fmt: str) -> None:
    """Pupils making smaller steps of progress in a term, grouped by reason, with counts.

    \b
    Example:
      ledger smaller-steps --term 2023-24/T2
      ledger smaller-steps --term 2023-24/T1 --class 1RF --as-at 2024-01-09
    """
    from ledger.services import leadership

    _one_moment(as_at, position)
    result = leadership.smaller_steps(open_from(ctx), term_, class_id, as_at, position)
    click.echo(render("smaller_steps", result, fmt))


@click.command()
@click.option("--actor", "actor", metavar="ID", help="only events written by this member of staff")
@click.option("--since", type=WHEN, metavar="WHEN", help="recorded at or after: date-time, or a date (from its start)")
@click.option("--until", type=WHEN, metavar="WHEN", help="recorded at or before: date-time, or a date (to its end)")
@click.option("--type", "event_types", multiple=True, type=EventTypeName(),
              help="only this event type, e.g. JudgementRevised (repeat for several)")
@format_option
@click.pass_context
def audit(ctx: click.Context, actor: str | None, since: str | None, until: str | None,
          event_types: tuple[str, ...], fmt: str) -> None:
    """The full audit log, oldest first: position, recorded time (UTC), actor, event type, stream and
    a one-line summary of what was recorded. JSON also carries each event's full payload.

    Note: this --actor (after 'audit') filters the log; the one before the command names who is
    acting, and reading needs nobody.

    \b
    Example:
      ledger audit --actor LM1
      ledger audit --since 2024-07-17 --type JudgementRevised --format csv
    """
    from ledger.services import leadership

    result = leadership.audit(open_from(ctx), actor, since, until, tuple(dict.fromkeys(event_types)))
    click.echo(render("audit", result, fmt))


@click.group()
def export() -> None:
    """Exports for other systems (the MIS)."""


@click.command("judgements")
@click.option("--year", required=True, type=YEAR, help="academic year, e.g. 2023-24")
@moments
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="csv (the columns 'import judgements' reads), json, or text")
@click.option("--output", type=OUTPUT, metavar="FILE", help="write to FILE instead of standard output (- is standard output)")
@click.pass_context
def export_judgements(ctx: click.Context, year: str, as_at: str | None, position: int | None, fmt: str,
                      output: Path | None) -> None:
    """Every pupil's judgement in force for each term of a year, for the MIS: pupil_id, class, term,
    status, reason, as the ledger stood at a moment (default now).

    \b
    Example:
      ledger export judgements --year 2023-24 --output judgements-2023-24.csv
      ledger export judgements --year 2023-24 --as-at 2024-04-16 --format json
    """
    from ledger.services import leadership

    _one_moment(as_at, position)
    result = leadership.export_judgements(open_from(ctx), year, as_at, position)
    text = render("judgements_export", result, fmt)
    if output is None:
        click.echo(text)
        return
    write_file(output, (text + "\n").encode("utf-8"))
    click.echo(f"wrote {len(result.rows)} judgements for {result.year} as at {iso(result.as_at)} "
               f"(ledger position {result.position}) to {output}", err=True)


def register(cli: click.Group) -> None:
    for command in (changes, compare, trend, smaller_steps, audit):
        cli.add_command(command)
    group = cli.commands.get("export")
    if group is None:
        cli.add_command(export)
        group = export
    assert isinstance(group, click.Group)
    group.add_command(export_judgements)
