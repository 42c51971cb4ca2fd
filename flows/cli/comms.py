"""The communication plan (guide 8.1.7): what is due, what was sent, and recording a message as sent."""

from collections import Counter
from datetime import datetime
from pathlib import Path

import click

from musharaka.flows.cli.campaigns import actor_of, identity_options
from musharaka.flows.cli.common import emit
from musharaka.flows.cli.language import current
from musharaka.flows.engine import communication, records
from musharaka.flows.render import locale
from musharaka.flows.render.terms import term
from musharaka.flows.views.tables import table
from musharaka.stages.communication import STATUSES, Entry
from musharaka.stages.i18n import words
from musharaka.stages.plans import CampaignPlan
from musharaka.state.db import read_scope, session_scope
from musharaka.state.settings import get_settings


@click.group("comms")
def comms() -> None:
    """A campaign's communication plan: who is told what, on which channels, when; what is due and what was sent.

    Example: musharaka comms list moheri-2025-q1-chatbot-name
    """


@comms.command("list")
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def list_command(now: datetime, campaign_id: str, as_json: bool) -> None:
    """Every message of the plan, stage by stage: its due day, and scheduled, due, overdue, sent on time or late.

    Example: musharaka comms list moheri-2025-q1-chatbot-name --json
    """
    plan = records.plan_of(records.load_plan_set(), campaign_id)
    with read_scope() as session:
        entries = communication.schedule(plan, now=now, session=session)
    if as_json:
        emit([_json(e) for e in entries])
        return
    lang = current()
    if not entries:
        click.echo(words(lang).gettext("the plan has no communication plan (`communication:`)"))
        return
    click.echo(_table(entries, plan, lang))
    counts = Counter(e.status for e in entries)
    comma = "، " if lang == "ar" else ", "
    digits = get_settings().digits
    click.echo(
        comma.join(
            f"{locale.number(counts[s], lang, digits=digits)} {term(f'message_{s}', lang)}"
            for s in STATUSES
            if counts[s]
        )
    )


@comms.command("sent")
@click.argument("campaign_id")
@click.argument("message_id", metavar="MESSAGE")
@click.option("--evidence", help="A link to what went out (the post, the published page).")
@identity_options("sent it")
@click.pass_obj
def sent_command(
    now: datetime,
    campaign_id: str,
    message_id: str,
    evidence: str | None,
    person: str | None,
    key_path: Path | None,
    passphrase_file: Path | None,
) -> None:
    """Record that a message of the communication plan went out, as the person who sent it.

    Example: musharaka comms sent moheri-2025-q1-chatbot-name launch --evidence https://moheri.gov.om/vote
    """
    plans = records.load_plan_set()
    plan = records.plan_of(plans, campaign_id)
    actor = actor_of(person, key_path, passphrase_file, plan, plans, now)
    with session_scope() as session:
        problems = communication.record_sent(plan, message_id, evidence, actor=actor, now=now, session=session)
        if problems:
            raise click.UsageError("; ".join(problems) + "; nothing was recorded")
        session.flush()
        entry = next(e for e in communication.schedule(plan, now=now, session=session) if e.message.id == message_id)
    lang = current()
    click.echo(f"{campaign_id}: {message_id} {term(f'message_{entry.status}', lang)}")


def _json(e: Entry) -> dict[str, object]:
    return {
        **e.model_dump(mode="json", exclude={"message"}),
        "message": e.message.model_dump(mode="json"),
        "outcome": e.outcome if e.message.promise else None,
    }


def _table(entries: tuple[Entry, ...], plan: CampaignPlan, lang: str) -> str:
    _ = words(lang).gettext
    digits, zone = get_settings().digits, plan.window.timezone
    names = {a.id: getattr(a.name, lang) for a in plan.audiences}
    marker = _("promise")
    comma = "، " if lang == "ar" else ", "
    headers = [_("Stage"), _("Message"), _("To"), _("Channels"), _("Due"), _("Status"), _("Sent")]
    rows = []
    for e in entries:
        m = e.message
        due = locale.day(e.due_on, lang, digits=digits) if e.due_on else _("when its moment comes")
        sent = ""
        if e.sent is not None:
            sent = locale.moment(e.sent.at, zone, lang, digits=digits).strip("\u2067\u2069") + f" {e.sent.by}"
        promise = f" ({marker})" if m.promise else ""
        rows.append(
            [
                term(f"stage_{m.stage}", lang),
                m.id + promise,
                comma.join(names.get(r) or term(f"to_{r}", lang) for r in m.to),
                comma.join(term(f"channel_{c}", lang, plan.vocabulary) for c in m.channels),
                due,
                term(f"message_{e.status}", lang),
                sent,
            ]
        )
    return table(headers, rows, lang)


COMMANDS = {"comms": comms}
