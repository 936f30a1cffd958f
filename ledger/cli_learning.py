"""Commands for the personal learning record: frameworks, outcomes, targets, stages and reviews.

Descriptions and evidence notes must not identify anyone: write about the target, never a name or
a date of birth; the pupil is known only by the pseudonymous id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ledger.cli_support import TERM, format_option, moment_options, open_from
from ledger.cli_exchange import import_file_options
from ledger.domain.calendar import Term
from ledger.vocab import AREAS
from ledger.render import render

NO_NAMES = "No names or dates of birth: pupils are known only by their pseudonymous id."


@click.group()
def framework() -> None:
    """Progress frameworks: ordered scales of at least 3 stages."""


@framework.command("add")
@click.argument("framework_id", metavar="ID")
@click.option("--name", required=True, help="what the scale is called")
@click.option("--stages", required=True, help="the stages lowest first, separated by commas")
@click.pass_context
def framework_add(ctx: click.Context, framework_id: str, name: str, stages: str) -> None:
    """Add a school's own framework (at least 3 distinct stages).

    \b
    Example:
      ledger --actor KSL-EY framework add sensory --name "Sensory responses" --stages "Notices,Tolerates,Explores,Initiates"
    """
    from ledger.services import learning

    stored = learning.add_framework(open_from(ctx), framework_id, name, stages.split(","))
    click.echo(f"added framework {framework_id} (position {stored[-1].position})")


@framework.command("list")
@format_option
@click.pass_context
def framework_list(ctx: click.Context, fmt: str) -> None:
    """The shipped frameworks and the school's own.

    \b
    Example:
      ledger framework list
    """
    from ledger.domain.learning import BUILTIN_FRAMEWORKS

    ledger = open_from(ctx)
    own = ledger.read_model.frameworks(ledger.store.head().position)
    items = [(f.framework_id, f.name, list(f.stages), True) for f in BUILTIN_FRAMEWORKS.values()]
    items += [(f, n, s, False) for f, n, s in own]
    click.echo(render("frameworks", items, fmt))


@click.group()
def outcome() -> None:
    """EHCP outcomes: the long-term aims targets break down."""


@outcome.command("set")
@click.argument("outcome_id", metavar="ID")
@click.option("--pupil", required=True, help="pseudonymous pupil id")
@click.option("--area", required=True, help=f"area of need: {', '.join(AREAS)}")
@click.option("--description", required=True, help=NO_NAMES)
@click.pass_context
def outcome_set(ctx: click.Context, outcome_id: str, pupil: str, area: str, description: str) -> None:
    """Record an EHCP outcome for a pupil.

    \b
    Example:
      ledger --actor T-1AJ outcome set P-0001-O1 --pupil P-0001 --area communication-interaction --description "Requests help using a communication aid"
    """
    from ledger.domain.learning import parse_area
    from ledger.services import learning

    stored = learning.set_outcome(open_from(ctx), outcome_id, pupil, parse_area(area), description)
    click.echo(f"set outcome {outcome_id} for {pupil} (position {stored[-1].position})")


@outcome.command("revise")
@click.argument("outcome_id", metavar="ID")
@click.option("--area", help="new area of need")
@click.option("--description", help="new description")
@click.option("--reason", required=True, help="why it changed")
@click.pass_context
def outcome_revise(ctx: click.Context, outcome_id: str, area: str | None, description: str | None, reason: str) -> None:
    """Change an outcome's wording or area, with the reason.

    \b
    Example:
      ledger --actor KSL-EY outcome revise P-0001-O1 --description "..." --reason "annual review 2024-02"
    """
    from ledger.domain.learning import parse_area
    from ledger.services import learning

    stored = learning.revise_outcome(open_from(ctx), outcome_id, parse_area(area) if area else None, description, reason)
    click.echo(f"revised outcome {outcome_id} (position {stored[-1].position})")


@outcome.command("close")
@click.argument("outcome_id", metavar="ID")
@click.option("--reason", required=True, help="why it is closed (achieved, plan changed, ...)")
@click.pass_context
def outcome_close(ctx: click.Context, outcome_id: str, reason: str) -> None:
    """Close an outcome, with the reason.

    \b
    Example:
      ledger --actor KSL-EY outcome close P-0001-O1 --reason "achieved at annual review"
    """
    from ledger.services import learning

    stored = learning.close_outcome(open_from(ctx), outcome_id, reason)
    click.echo(f"closed outcome {outcome_id} (position {stored[-1].position})")


@click.group()
def target() -> None:
    """Targets: smaller steps towards an outcome, on a framework, approved by a Key Stage lead."""


@target.command("set")
@click.argument("target_id", metavar="ID")
@click.option("--pupil", required=True)
@click.option("--outcome", "outcome_id", required=True, help="the outcome this target breaks down")
@click.option("--framework", "framework_id", required=True, help="framework id (see 'ledger framework list')")
@click.option("--terms", required=True, help="term(s) it is for, e.g. 2023-24/T1,2023-24/T2")
@click.option("--description", required=True, help=NO_NAMES)
@click.pass_context
def target_set(ctx: click.Context, target_id: str, pupil: str, outcome_id: str, framework_id: str, terms: str,
               description: str) -> None:
    """Set a target (teacher or ks-lead); it needs approving before stages are recorded.

    \b
    Example:
      ledger --actor T-1AJ target set P-0001-T1 --pupil P-0001 --outcome P-0001-O1 --framework engagement --terms 2023-24/T1,2023-24/T2 --description "Uses a symbol to request a break"
    """
    from ledger.services import learning

    stored = learning.set_target(open_from(ctx), target_id, pupil, outcome_id, framework_id, description, terms)
    click.echo(f"set target {target_id}, awaiting approval (position {stored[-1].position})")


@target.command("approve")
@click.argument("target_ids", metavar="ID...", nargs=-1, required=True)
@click.pass_context
def target_approve(ctx: click.Context, target_ids: tuple[str, ...]) -> None:
    """Approve targets (ks-lead, deputy-head or head; never the person who set them).

    \b
    Example:
      ledger --actor KSL-EY target approve P-0001-T1 P-0001-T2
    """
    from ledger.services import learning

    stored = learning.approve_targets(open_from(ctx), list(target_ids))
    click.echo(f"approved {len(stored)} target(s) (position {stored[-1].position})")


@target.command("revise")
@click.argument("target_id", metavar="ID")
@click.option("--description", help="new wording")
@click.option("--terms", help="new term(s)")
@click.option("--reason", required=True, help="why it changed")
@click.pass_context
def target_revise(ctx: click.Context, target_id: str, description: str | None, terms: str | None, reason: str) -> None:
    """Change a target; it must be approved again.

    \b
    Example:
      ledger --actor T-1AJ target revise P-0001-T1 --terms 2023-24/T2,2023-24/T3 --reason "absence in T1"
    """
    from ledger.services import learning

    stored = learning.revise_target(open_from(ctx), target_id, description, terms, reason)
    click.echo(f"revised target {target_id}, awaiting approval (position {stored[-1].position})")


@target.command("withdraw")
@click.argument("target_id", metavar="ID")
@click.option("--reason", required=True)
@click.pass_context
def target_withdraw(ctx: click.Context, target_id: str, reason: str) -> None:
    """Withdraw a target, with the reason.

    \b
    Example:
      ledger --actor KSL-EY target withdraw P-0001-T1 --reason "replaced after annual review"
    """
    from ledger.services import learning

    stored = learning.withdraw_target(open_from(ctx), target_id, reason)
    click.echo(f"withdrew target {target_id} (position {stored[-1].position})")


@click.group()
def stage() -> None:
    """Stages on a pupil's personal learning record."""


@stage.command("record")
@click.argument("target_id", metavar="TARGET")
@click.option("--stage", "stage_name", required=True, help="stage name, or its number on the framework")
@click.option("--on", "achieved_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="date achieved")
@click.option("--note", default="", help=f"short evidence note. {NO_NAMES}")
@click.option("--reason", help="required when the stage is lower than the last one (regression)")
@click.pass_context
def stage_record(ctx: click.Context, target_id: str, stage_name: str, achieved_on: Any, note: str,
                 reason: str | None) -> None:
    """Record a stage reached on an approved target.

    \b
    Example:
      ledger --actor T-1AJ stage record P-0001-T1 --stage Developing --on 2023-11-20 --note "3 of 5 sessions"
    """
    from ledger.services import learning

    stored = learning.record_stage(open_from(ctx), target_id, stage_name, achieved_on.date(), note, reason)
    click.echo(f"recorded stage for {target_id} (position {stored[-1].position})")


def _import_command(kind: str, columns: str, service: str) -> click.Command:
    @click.command(kind, help=f"{kind.capitalize()} from CSV or XLSX: columns {columns}.\n\n\b\nExample:\n  ledger --actor ID import {kind} {kind}.csv")
    @click.argument("file", type=click.Path(path_type=Path))
    @import_file_options
    @click.option("--dry-run", is_flag=True, help="check the file and say what would be written; write nothing")
    @click.pass_context
    def command(ctx: click.Context, file: Path, dry_run: bool, sheet: str | None) -> None:
        from ledger.services import learning_imports

        click.echo(getattr(learning_imports, service)(open_from(ctx), file, dry_run=dry_run, sheet=sheet).summary)

    return command


@click.command()
@click.option("--term", "term_", type=TERM, required=True)
@click.option("--class", "class_id", help="only this class")
@moment_options
@format_option
@click.pass_context
def review(ctx: click.Context, term_: Term, class_id: str | None, as_at: str | None, position: int | None,
           fmt: str) -> None:
    """The deputy head's termly review: smaller steps with reasons, and flags to look at first.

    \b
    Example:
      ledger review --term 2023-24/T2 --class 1RF
    """
    from ledger.services import learning_queries

    click.echo(render("review", learning_queries.review(open_from(ctx), term_, class_id, as_at, position), fmt))


@click.group()
def pupil() -> None:
    """One pupil's record."""


@pupil.command("show")
@click.argument("pupil_id", metavar="PUPIL")
@moment_options
@format_option
@click.pass_context
def pupil_show(ctx: click.Context, pupil_id: str, as_at: str | None, position: int | None, fmt: str) -> None:
    """Outcomes, targets with stages, and judgements: the page a leader opens in a data meeting.

    \b
    Example:
      ledger pupil show P-0001 --as-at 2024-03-28
    """
    from ledger.services import learning_queries

    click.echo(render("pupil", learning_queries.pupil_page(open_from(ctx), pupil_id, as_at, position), fmt))


def register(cli: click.Group) -> None:
    for command in (framework, outcome, target, stage, review, pupil):
        cli.add_command(command)
    imports = cli.commands["import"]
    assert isinstance(imports, click.Group)
    imports.add_command(_import_command("outcomes", "outcome_id,pupil_id,area,description", "import_outcomes"))
    imports.add_command(_import_command(
        "targets", "target_id,pupil_id,outcome_id,framework,description,terms (terms separated by ;)", "import_targets"))
    imports.add_command(_import_command("stages", "target_id,stage,achieved_on,note[,reason]", "import_stages"))
