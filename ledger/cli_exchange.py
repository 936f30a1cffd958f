"""Command-line pieces for getting data in and out: XLSX sheets and progress for imports, the school's
historic figures (``ledger import figures``), and the report's export formats, ``--output`` and
``--suppress-below``.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ledger.cli_support import OUTPUT, open_from
from ledger.domain.calendar import AcademicYear
from ledger.errors import InvalidInput
from ledger.vocab import REPORT_FORMATS  # the writers themselves load when a report is written


class YearType(click.ParamType):
    name = "YEAR"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        try:
            return str(AcademicYear.parse(str(value)))
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)


YEAR = YearType()


# -- imports -------------------------------------------------------------------------------------
@contextmanager
def terminal_progress() -> Iterator[None]:
    """While an import runs with stdout on a terminal, long imports show a progress bar there."""
    from ledger.services.tabular import PROGRESS

    if not sys.stdout.isatty():
        yield
        return

    def show(items: Sequence[Any], label: str) -> Iterable[Any]:
        with click.progressbar(items, label=label, file=sys.stdout, show_pos=True) as bar:
            yield from bar

    token = PROGRESS.set(show)
    try:
        yield
    finally:
        PROGRESS.reset(token)


def import_file_options(f: Any) -> Any:
    """``--sheet NAME`` for a command taking FILE, a usage error if FILE is no workbook, and the progress bar."""

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        file, sheet = kwargs.get("file"), kwargs.get("sheet")
        from ledger.exchange.grids import is_xlsx

        if sheet is not None and file is not None and not is_xlsx(Path(file)):
            raise click.UsageError(f"--sheet chooses a sheet of an Excel workbook (.xlsx); {file} is not one")
        with terminal_progress():
            return f(*args, **kwargs)

    return click.option("--sheet", metavar="NAME", help="for an Excel workbook: the sheet to read (default: the first)")(command)


@click.command("figures")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--year", type=YEAR, help="the academic year of the figures, e.g. 2022-23 (a Word document's title can say it)")
@import_file_options
@click.option("--revise", is_flag=True, help="replace figures already recorded for the year (needs --reason)")
@click.option("--reason", help="with --revise: why the figures changed")
@click.option("--dry-run", is_flag=True, help="check the file and say what would be written; write nothing")
@click.pass_context
def import_figures(ctx: click.Context, file: Path, year: str | None, sheet: str | None, revise: bool,
                   reason: str | None, dry_run: bool) -> None:
    """The school's past figures, per class and term, for a year before pupil-level records.

    FILE is the school's Word report (.docx: its tables, with a heading per phase such as
    'EFYS / KS1 / KS2'), or a table in CSV or XLSX: either the columns of
    'ledger report --format csv' (phase,class,t1_appropriate,t1_smaller_steps,...) or the layout
    of the Word tables. N/A means the class did not exist that term; blank means no figures. The
    figures are recorded as aggregate figures: the year cannot then take pupil-level judgements,
    and a year that has them is refused.

    \b
    Example:
      ledger --actor dm1 import figures "EHCP Data 2022-23.docx"
      ledger --actor dm1 import figures figures.csv --year 2021-22
      ledger --actor HT1 import figures fixed.xlsx --year 2022-23 --revise --reason "T2 count for 3LP corrected"
    """
    from ledger.services.figures import import_figures as service

    if reason is not None and not revise:
        raise click.UsageError("--reason goes with --revise")
    if revise and reason is None:
        raise click.UsageError("--revise needs --reason TEXT")
    result = service(open_from(ctx), file, year=year, sheet=sheet, revise_reason=reason if revise else None,
                     dry_run=dry_run)
    click.echo(result.summary)


# -- report exports ------------------------------------------------------------------------------
def report_export_options(f: Any) -> Any:
    """--format (text, json, csv, xlsx, markdown), --output FILE and --suppress-below N for ``report``."""
    f = click.option("--suppress-below", "suppress_below", type=click.IntRange(min=2), metavar="N",
                     help="for governors and the public: counts under N shown as <N, and enough others withheld "
                          "(shown c) that none can be worked out from the totals")(f)
    f = click.option("--output", "-o", type=OUTPUT, metavar="FILE",
                     help="write the report to FILE instead of the screen (needed for xlsx; - is the screen)")(f)
    return click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True,
                        help="text for people; json or csv for scripts; xlsx (like the school's table) or markdown")(f)


def check_report_options(fmt: str, output: Path | None, suppress_below: int | None, with_targets: bool = False,
                         trust: bool = False) -> None:
    """Refuse combinations of report options that cannot work (exit 2) before any work is done."""
    if trust and (fmt in ("xlsx", "markdown") or output is not None or suppress_below is not None):
        raise click.UsageError("--trust prints text, json or csv; --output, --suppress-below, xlsx and markdown "
                               "are for one school's report")
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx writes a workbook: give --output FILE.xlsx")
    if with_targets and suppress_below is not None:
        raise click.UsageError("--targets shows counts that are not suppressed; leave it out of a suppressed report")
    if with_targets and fmt in ("xlsx", "markdown"):
        raise click.UsageError("--targets is shown in text, json and csv")


def emit_report(report: Any, fmt: str, output: Path | None, suppress_below: int | None) -> None:
    """Print the report, or write it to ``output`` (replacing the file whole, never half-written)."""
    from ledger.exchange.report_writers import export_report

    content = export_report(report, fmt, suppress_below)
    if output is None:
        assert isinstance(content, str)
        click.echo(content)
        return
    data = content if isinstance(content, bytes) else (content + "\n").encode("utf-8")
    write_file(output, data)
    suppressed = f", counts under {suppress_below} suppressed" if suppress_below is not None else ""
    click.echo(f"wrote the {report.year} report ({fmt}{suppressed}) to {output}")


def write_file(path: Path, data: bytes) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's owner-only mode
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None


def register(cli: click.Group) -> None:
    imports = cli.commands["import"]
    assert isinstance(imports, click.Group)
    imports.add_command(import_figures)
