"""The ``ledger`` command: thin click wrappers that parse, call one service and render.

Exit codes: 0 success; 1 the ledger refused (bad data, not allowed, conflict, not found, tampering);
2 the command line itself was wrong. Errors are one line each on stderr, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ledger.cli_support import TERM, CommandId, DbTarget, LedgerGroup, Settings, format_option, moment_options
from ledger.cli_support import open_from as _ledger
from ledger.cli_learning import register as register_learning
from ledger.cli_leadership import register as register_leadership
from ledger.cli_exchange import YEAR, check_report_options, emit_report, import_file_options, report_export_options
from ledger.cli_exchange import register as register_exchange
from ledger.domain.calendar import Term
from ledger.vocab import ROLES, STATUSES
from ledger.render import render


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", envvar="LEDGER_DB", default="events.db", show_default=True, type=DbTarget(),
              help="ledger file (SQLite) or SQLAlchemy URL; default $LEDGER_DB, else events.db here")
@click.option("--actor", envvar="LEDGER_ACTOR", help="staff id of the person making a write (default $LEDGER_ACTOR)")
@click.option("--command-id", type=CommandId(), help="idempotency key: retrying a write with the same id writes it once")
@click.option("--school", envvar="LEDGER_SCHOOL", default="", metavar="CODE",
              help="in a trust ledger, the school to work on (default $LEDGER_SCHOOL, else the ledger's own)")
@click.version_option(package_name="ehcp-ledger")
@click.pass_context
def cli(ctx: click.Context, db: str, actor: str | None, command_id: str | None, school: str) -> None:
    """EHCP progress ledger: termly judgements as an immutable, audited log.

    \b
    Example:
      ledger report --year 2023-24
      ledger --actor dm1 judgement record P-0001 --term 2023-24/T1 --status appropriate
    """
    ctx.obj = Settings(db, actor, command_id, school)


@cli.command()
@click.option("--school", default="School", show_default=True, help="the school's name")
@click.option("--timezone", default="Europe/London", show_default=True, help="the ledger's time zone (IANA)")
@click.pass_context
def init(ctx: click.Context, school: str, timezone: str) -> None:
    """Create an empty ledger; the --actor becomes its first member of staff (data-manager).

    \b
    Example:
      ledger --db school.db --actor dm1 init --school "Oak Tree School"
    """
    from ledger.services import commands

    ledger = _ledger(ctx, create=True)
    commands.init(ledger, school=school, timezone=timezone)
    click.echo(f"created ledger at {ledger.store.url}; {ledger.actor} registered as data-manager")


@cli.group()
def staff() -> None:
    """Members of staff and their roles."""


@staff.command("add")
@click.argument("staff_id")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.pass_context
def staff_add(ctx: click.Context, staff_id: str, role: str) -> None:
    """Register a member of staff (data-manager or head only).

    \b
    Example:
      ledger --actor dm1 staff add T.AJ --role teacher
    """
    from ledger.services import commands

    stored = commands.add_staff(_ledger(ctx), staff_id, role)
    click.echo(f"registered {staff_id} as {role} (position {stored[-1].position})")


@cli.group(name="class")
def class_() -> None:
    """Classes and the terms in which they exist."""


@class_.command("open")
@click.argument("class_id", metavar="CLASS")
@click.option("--phase", required=True, help="phase group, e.g. EYFS/KS1/KS2, KS3/KS4 or KS5")
@click.option("--mark", help="a mark shown after the name, e.g. PMLD gives '2MD (PMLD)'")
@click.option("--from", "from_term", type=TERM, help="first term the class exists (default: the current term)")
@click.pass_context
def class_open(ctx: click.Context, class_id: str, phase: str, mark: str | None, from_term: Term | None) -> None:
    """Open a class in a phase group.

    \b
    Example:
      ledger --actor dm1 class open 2MD --phase EYFS/KS1/KS2 --mark PMLD --from 2023-24/T1
    """
    from ledger.services import commands

    stored = commands.open_class(_ledger(ctx), class_id, phase, mark, from_term)
    click.echo(f"opened class {class_id} (position {stored[-1].position})")


@class_.command("close")
@click.argument("class_id", metavar="CLASS")
@click.option("--after", "after", type=TERM, required=True, help="the last term the class exists")
@click.pass_context
def class_close(ctx: click.Context, class_id: str, after: Term) -> None:
    """Close a class: it exists no longer after the given term.

    \b
    Example:
      ledger --actor dm1 class close 3CW --after 2023-24/T3
    """
    from ledger.services import commands

    stored = commands.close_class(_ledger(ctx), class_id, after)
    click.echo(f"closed class {class_id} after {after} (position {stored[-1].position})")


@cli.group()
def term() -> None:
    """Term dates (defaults: T1 to 31 Dec, T2 to 31 Mar, T3 to 31 Aug)."""


@term.command("set")
@click.argument("term_", metavar="TERM", type=TERM)
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="first day, YYYY-MM-DD")
@click.option("--end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="last day, YYYY-MM-DD")
@click.pass_context
def term_set(ctx: click.Context, term_: Term, start: Any, end: Any) -> None:
    """Set a term's dates.

    \b
    Example:
      ledger --actor dm1 term set 2023-24/T1 --start 2023-09-04 --end 2023-12-20
    """
    from ledger.services import commands

    stored = commands.set_term_dates(_ledger(ctx), term_, start.date(), end.date())
    click.echo(f"{term_}: {start.date()} to {end.date()}" + ("" if stored else " (unchanged)"))


@cli.group(name="import")
def import_() -> None:
    """Imports from CSV or XLSX: all or nothing, every bad row reported as FILE:LINE (FILE!SHEET:ROW)."""


@import_.command("pupils")
@click.argument("file", type=click.Path(path_type=Path))
@import_file_options
@click.option("--dry-run", is_flag=True, help="check the file and say what would be written; write nothing")
@click.pass_context
def import_pupils(ctx: click.Context, file: Path, dry_run: bool, sheet: str | None) -> None:
    """Enrolments, class moves and leavings: columns pupil_id,class,enrolled_on[,left_on].

    One row per placement. Several rows for a pupil in date order are class moves (a row whose
    left_on is the day before the next row's enrolled_on is a move, not leaving).

    \b
    Example:
      ledger --actor dm1 import pupils roll.csv
    """
    from ledger.services import imports

    click.echo(imports.import_pupils(_ledger(ctx), file, dry_run=dry_run, sheet=sheet).summary)


@import_.command("judgements")
@click.argument("file", type=click.Path(path_type=Path))
@import_file_options
@click.option("--revise", is_flag=True, help="record rows that change an existing judgement as revisions")
@click.option("--reason", help="with --revise: why the judgements changed")
@click.option("--dry-run", is_flag=True, help="check the file and say what would be written; write nothing")
@click.pass_context
def import_judgements(ctx: click.Context, file: Path, revise: bool, reason: str | None, dry_run: bool,
                      sheet: str | None) -> None:
    """Termly judgements: columns pupil_id,class,term,status,reason.

    \b
    Example:
      ledger --actor T.AJ import judgements t1.csv
      ledger --actor KS.LEAD import judgements t1.csv --revise --reason "moderation 2024-01-10"
    """
    from ledger.services import imports

    if reason is not None and not revise:
        raise click.UsageError("--reason goes with --revise")
    if revise and reason is None:
        raise click.UsageError("--revise needs --reason TEXT")
    result = imports.import_judgements(_ledger(ctx), file, revise_reason=reason if revise else None, dry_run=dry_run,
                                       sheet=sheet)
    click.echo(result.summary)


@cli.group()
def judgement() -> None:
    """Record or revise one pupil's termly judgement."""


@judgement.command("record")
@click.argument("pupil")
@click.option("--term", "term_", type=TERM, required=True)
@click.option("--status", type=click.Choice(STATUSES), required=True)
@click.option("--reason", help="required for smaller-steps")
@click.option("--class", "class_id", help="the class judged (default: the pupil's class at the end of the term)")
@click.pass_context
def judgement_record(ctx: click.Context, pupil: str, term_: Term, status: str, reason: str | None,
                     class_id: str | None) -> None:
    """Record a pupil's judgement for a term.

    \b
    Example:
      ledger --actor T.AJ judgement record P-0001 --term 2023-24/T1 --status smaller-steps --reason "long absence"
    """
    from ledger.services import commands

    stored = commands.record_judgement(_ledger(ctx), pupil, term_, status, reason, class_id)
    click.echo(f"recorded {pupil} {term_}: {status} (position {stored[-1].position})")


@judgement.command("revise")
@click.argument("pupil")
@click.option("--term", "term_", type=TERM, required=True)
@click.option("--status", type=click.Choice(STATUSES), required=True)
@click.option("--reason", required=True, help="why the judgement changed")
@click.pass_context
def judgement_revise(ctx: click.Context, pupil: str, term_: Term, status: str, reason: str) -> None:
    """Change an existing judgement; the reason for the change is required.

    \b
    Example:
      ledger --actor KS.LEAD judgement revise P-0001 --term 2023-24/T1 --status appropriate --reason "moderated"
    """
    from ledger.services import commands

    stored = commands.revise_judgement(_ledger(ctx), pupil, term_, status, reason)
    click.echo(f"revised {pupil} {term_}: now {status} (position {stored[-1].position})")


@cli.command()
@click.option("--year", required=True, type=YEAR, help="academic year, e.g. 2023-24")
@moment_options
@click.option("--targets", "with_targets", is_flag=True,
              help="also show, per class and term, the share of approved targets that moved up a stage")
@click.option("--school", metavar="CODE", help="in a trust ledger, this school's report (overrides the global --school)")
@click.option("--trust", is_flag=True, help="in a trust ledger, every school's report and the trust's totals")
@report_export_options
@click.pass_context
def report(ctx: click.Context, year: str, as_at: str | None, position: int | None, with_targets: bool,
           school: str | None, trust: bool, fmt: str, output: Path | None, suppress_below: int | None) -> None:
    """The school's termly table: per class and term, appropriate and smaller-steps counts.

    \b
    Example:
      ledger report --year 2023-24
      ledger report --year 2023-24 --as-at 2024-03-28 --format json
      ledger report --year 2023-24 --format xlsx --output governors.xlsx --suppress-below 5
    """
    from ledger.services import queries

    check_report_options(fmt, output, suppress_below, with_targets, trust)
    if trust:
        if school is not None or with_targets:
            raise click.UsageError("--trust reports every school; it does not combine with --school or --targets")
        from ledger.services.trust import trust_report

        ledger = _ledger(ctx)
        click.echo(render("trust", trust_report(ledger, lambda code: _ledger(ctx, school=code), year, as_at, position), fmt))
        return
    ledger = _ledger(ctx, school=school)
    result = queries.report(ledger, year, as_at, position)
    if with_targets:
        from ledger.services.learning_queries import with_target_moves

        result = with_target_moves(ledger, result)
    emit_report(result, fmt, output, suppress_below)


@cli.command()
@click.argument("pupil")
@click.option("--term", "term_", type=TERM, help="only this term")
@moment_options
@format_option
@click.pass_context
def history(ctx: click.Context, pupil: str, term_: Term | None, as_at: str | None, position: int | None,
            fmt: str) -> None:
    """Every judgement event for a pupil, oldest first: who, when, what and why.

    \b
    Example:
      ledger history P-0107 --term 2023-24/T2
    """
    from ledger.services import queries

    rows = queries.history(_ledger(ctx), pupil, term_, as_at, position)
    click.echo(render("history", rows, fmt, pupil_id=pupil))


@cli.command()
@format_option
@click.pass_context
def verify(ctx: click.Context, fmt: str) -> None:
    """Check the whole log's hash chain; exit 1 naming the first position that fails.

    \b
    Example:
      ledger verify
    """
    from ledger.services import queries

    click.echo(render("verify", queries.verify(_ledger(ctx)), fmt))


@cli.command()
@click.option("--to", "to", required=True, metavar="TARGET", help="an empty ledger: file path or SQLAlchemy URL")
@click.pass_context
def copy(ctx: click.Context, to: str) -> None:
    """Copy the whole ledger (positions, times and hashes unchanged) into an empty database.

    \b
    Example:
      ledger --actor dm1 copy --to postgresql+psycopg://ledger@db.example/ehcp
    """
    from ledger.services.maintenance import copy_ledger

    count = copy_ledger(_ledger(ctx), to)
    click.echo(f"copied {count} events to {to}; the copy's hash chain verifies")


register_learning(cli)
register_leadership(cli)
register_exchange(cli)


def main() -> None:
    cli.main(prog_name="ledger")


if __name__ == "__main__":
    main()
