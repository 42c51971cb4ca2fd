"""`musharaka risks`: a campaign's risk register and the signals raised from its own figures."""

from datetime import datetime

import click

from musharaka.flows.cli.common import emit
from musharaka.flows.cli.language import current
from musharaka.flows.views import tables
from musharaka.flows.views.risks import RegisterView, register_view
from musharaka.stages.i18n import N_, words
from musharaka.state.db import read_scope


@click.command("risks")
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def risks_command(now: datetime, campaign_id: str, as_json: bool) -> None:
    """The campaign's risk register (likelihood, impact, owner, mitigation) and the risk signals raised from its
    own figures: turnout at mid-window, one audience dominating, repeated answers, a late announcement.

    Example: musharaka --lang ar risks moheri-2025-q2-gpa-poll
    """
    with read_scope() as session:
        view = register_view(campaign_id, now, session=session)
    if as_json:
        emit(view.model_dump(mode="json"))
        return
    click.echo(register_text(view, current()))


def register_text(view: RegisterView, lang: str) -> str:
    """The register as the terminal shows it: the planned risks, then the signal checks."""
    t = words(lang)
    lines = [t.gettext("Risk register of %(campaign)s") % {"campaign": view.campaign}, ""]
    if view.risks:
        headers = [t.gettext(h) for h in (N_("risk"), N_("kind"), N_("L×I"), N_("rating"), N_("owner"), N_("title"))]
        rows = [
            [
                ("! " if r.raised else "") + r.id,
                getattr(r.kind_name, lang),
                f"{r.likelihood}×{r.impact}={r.score}",
                getattr(r.rating, lang),
                getattr(r.owner_name, lang),
                getattr(r.title, lang),
            ]
            for r in view.risks
        ]
        lines.append(tables.table(headers, rows, lang))
        for r in view.risks:
            lines.append(f"  {r.id}: {getattr(r.treatment, lang)}: {getattr(r.mitigation, lang)}")
    else:
        lines.append(t.gettext("The plan names no risks."))
    lines += ["", t.gettext("Signals from the campaign's figures:")]
    rows = [
        [
            getattr(c.kind_name, lang),
            getattr(c.state_name, lang) + ("" if c.planned or c.check.state != "raised" else " *"),
            getattr(c.said, lang),
        ]
        for c in view.checks
    ]
    lines.append(tables.table([t.gettext(h) for h in (N_("signal"), N_("state"), N_("figures"))], rows, lang))
    if view.unplanned:
        lines.append(t.gettext("* raised, and the register names no risk of its kind"))
    return "\n".join(lines)


COMMANDS = {c.name: c for c in (risks_command,) if c.name}
