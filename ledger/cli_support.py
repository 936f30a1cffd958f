"""Shared pieces of the command line: error handling, parameter types, options, opening the ledger."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from ledger.domain.calendar import Term, parse_instant
from ledger.errors import InvalidInput, LedgerError
from ledger.text import is_control
from ledger.render import FORMATS


class LedgerGroup(click.Group):
    """Turns every expected failure into one line on stderr and the contract's exit code."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name or "ledger", complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            # One line per problem: click spreads some messages (a missing Choice option lists its
            # choices) over several tab-indented lines.
            click.echo(f"Error: {one_line(' '.join(exc.format_message().split()))}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Error: aborted", err=True)
            sys.exit(1)
        except LedgerError as exc:
            for line in exc.lines():
                click.echo(f"Error: {one_line(line)}", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def one_line(text: str) -> str:
    """A message as exactly one line: a newline, carriage return or other control character quoted
    from the input (a cell, a file name) is shown escaped, never acted on by the terminal."""
    return "".join(repr(c)[1:-1] if is_control(c) else c for c in text)


class TermType(click.ParamType):
    name = "TERM"

    def convert(self, value: Any, param: Any, ctx: Any) -> Term:
        if isinstance(value, Term):
            return value
        try:
            return Term.parse(str(value))
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)


TERM = TermType()


class OutputType(click.ParamType):
    """``--output FILE``: ``-`` is standard output (None); refused before any work is done: an empty
    name, a folder, a device or other non-file, and the ledger's own files (writing a report over
    the ledger would destroy it)."""

    name = "FILE"

    def convert(self, value: Any, param: Any, ctx: Any) -> Path | None:
        if value is None or isinstance(value, Path):
            return value
        text = str(value)
        if text == "-":
            return None
        if not text.strip():
            self.fail("give a file name (or - for the screen)", param, ctx)
        path = Path(text).expanduser()
        if path.exists() and not path.is_file():
            self.fail(f"{one_line(text)} is not a regular file; give the path of a file to write", param, ctx)
        # A link is written through, never replaced (/dev/stdout is a link): the file is swapped
        # in beside its real target.
        target = os.path.realpath(path)
        if path.is_symlink() and not Path(target).parent.is_dir():
            self.fail(f"{one_line(text)} is a link to nowhere; give the path of a file to write", param, ctx)
        settings = ctx.find_object(Settings) if ctx is not None else None
        protected = [f for f in (settings.sqlite_path() if settings is not None else None,
                                 os.environ.get("LEDGER_PROJECTION")) if f and f != ":memory:"]
        for own in (os.path.realpath(f) for f in protected):
            if target == own or target.startswith((own + "-", own + ".projection", own + ".wal")):
                self.fail(f"{one_line(text)} is the ledger's own file; write the output somewhere else", param, ctx)
        return Path(target) if path.is_symlink() else path


OUTPUT = OutputType()


class DbTarget(click.ParamType):
    name = "TARGET"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        if not str(value).strip():
            self.fail("give a ledger file or a database URL (or leave --db out for events.db here)", param, ctx)
        return str(value)


class CommandId(click.ParamType):
    name = "ID"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        text = str(value)
        # The events table keeps 200 characters; ids a system makes itself (imports) take up to 120.
        if not 1 <= len(text) <= 64 or not text.isprintable() or text != text.strip():
            self.fail("a command id is 1 to 64 printable characters, without spaces at either end", param, ctx)
        return text


@dataclass
class Settings:
    db: str
    actor: str | None
    command_id: str | None
    school: str = ""

    def sqlite_path(self) -> str | None:
        """The ledger's file, resolved, when it is a SQLite ledger (None for a server ledger)."""
        from ledger.store import to_url  # light: no driver is imported

        url = to_url(self.db)
        found = re.match(r"sqlite(\+\w+)?:///(.*)$", url)  # sqlite:///F and sqlite+pysqlite:///F alike
        path = found.group(2).split("?", 1)[0] if found else ""
        return os.path.realpath(path) if path and path != ":memory:" else None

    def open(self, ctx: click.Context, create: bool = False, school: str | None = None):  # noqa: ANN201
        from ledger.bootstrap import open_ledger

        ledger = open_ledger(self.db, actor=self.actor, command_id=self.command_id, create=create,
                             school=self.school if school is None else school)
        ctx.call_on_close(ledger.close)
        return ledger


def open_from(ctx: click.Context, create: bool = False, school: str | None = None):  # noqa: ANN201 - Ledger
    """The ledger named by --db, for the school named by --school (or the one given here)."""
    return ctx.find_object(Settings).open(ctx, create, school)


def format_option(f: Any) -> Any:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                        help="text for people; json or csv for scripts")(f)


class MomentType(click.ParamType):
    """``--as-at``: checked here (a bad spelling is a command-line error, exit 2), kept as text for
    the service, which reads it in the ledger's own time zone."""

    name = "WHEN"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        try:
            parse_instant(str(value), ZoneInfo("UTC"))
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


def _one_moment(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    other = "position" if param.name == "as_at" else "as_at"
    if value is not None and ctx.params.get(other) is not None:
        raise click.UsageError("give --as-at or --position, not both", ctx)
    return value


def moment_options(f: Any) -> Any:
    f = click.option("--position", type=click.IntRange(min=0), callback=_one_moment,
                     help="as the ledger stood at this log position")(f)
    return click.option("--as-at", "as_at", metavar="WHEN", type=MomentType(), callback=_one_moment,
                        help="as the ledger stood then: ISO date-time or date (end of that day, local time)")(f)
