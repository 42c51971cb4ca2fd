"""The approver's commands: keys, review, approve, reject, extend, sign and decide offline, gates, remind."""

import json
import os
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import click
from pydantic import ValidationError

from musharaka.flows.cli.common import advance_and_report, emit, passphrase
from musharaka.flows.cli.language import current
from musharaka.flows.engine import decisions, records
from musharaka.flows.planfiles.reading import PlanError
from musharaka.flows.views import overview, tables
from musharaka.stages.i18n import words
from musharaka.stages.plans import STAGES
from musharaka.state.db import read_scope
from musharaka.state.events import as_utc
from musharaka.state.registry import in_force_if_any
from musharaka.state.settings import get_settings
from musharaka.state.signing import SignedDecision, fingerprint, new_key_pair

Decision = Literal["approve", "reject", "extend"]


def signing_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every signed decision takes."""
    options = [
        click.option("--as", "approver", required=True, help="Your approver id in approvers.yaml."),
        click.option(
            "--key",
            "key_path",
            required=True,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Your private key file (from `musharaka keys new`).",
        ),
        click.option(
            "--passphrase-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="A file whose first line is the key's passphrase, if it has one.",
        ),
        click.option("--digest", help="The outputs digest you reviewed (default: the gate's current one)."),
        click.option("--attempt", type=int, help="The gate attempt you reviewed (default: the open one)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _full_digest(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[0-9a-f]{64}", value):
        raise click.BadParameter(
            f"--digest: expected the full 64-character outputs digest that `musharaka review` prints, found {value!r}"
        )
    return value


def _signature(
    now: datetime,
    campaign_id: str,
    stage: str,
    decision: Decision,
    text: str,
    options: dict[str, Any],
    closes: date | None,
) -> SignedDecision:
    """Sign with the key and options the command was given."""
    return decisions.prepare_signature(
        campaign_id,
        stage,
        decision=decision,
        text=text,
        approver=options["approver"],
        key_path=options["key_path"],
        passphrase=passphrase(options["passphrase_file"]),
        now=now,
        attempt=options["attempt"],
        outputs_digest=_full_digest(options["digest"]),
        closes=closes,
    )


def _sign_and_submit(
    now: datetime,
    campaign_id: str,
    stage: str,
    decision: Decision,
    text: str,
    options: dict[str, Any],
    *,
    closes: date | None = None,
    run_next: bool = True,
) -> None:
    signed = _signature(now, campaign_id, stage, decision, text, options, closes)
    _submit(now, campaign_id, signed, run_next=run_next)


def _submit(now: datetime, campaign_id: str, signed: SignedDecision, *, run_next: bool) -> None:
    plans = records.load_plan_set()
    gate = decisions.submit(campaign_id, signed, plans=plans, now=now)
    verb = {"approve": "approved", "reject": "rejected", "extend": f"extended to {signed.closes}"}
    passed = gate is not None and gate.status == "approved"
    click.echo(
        f"{campaign_id}: {signed.stage} {verb[signed.decision]} by {signed.approver} "
        f"(signed with key {fingerprint(signed.public_key)})" + (" — gate passed" if passed else "")
    )
    if (passed or signed.decision == "extend") and run_next:
        try:
            advance_and_report([campaign_id], now)
        except Exception as error:
            # The decision stands: it is committed and signed; only the follow-up could not start (the next
            # stage refused, a plan file wrong, or the Prefect server not taking the run, e.g. a 503 after
            # its client's retries). Left to the CLI's last resort it would read "rolled back", exit 3.
            if isinstance(error, PlanError):
                details = "\n".join(str(p) for p in error.problems)
            elif isinstance(error, records.Refused):
                details = str(error)
            else:
                details = f"{error.__class__.__name__}: {error}"
            click.echo(
                f"{campaign_id}: the decision is recorded, but the next stage did not run:\n{details}\n"
                f"Put that right, then: musharaka advance {campaign_id}",
                err=True,
            )
    else:
        with read_scope() as session:
            click.echo(overview.where_it_stands(campaign_id, now=now, session=session))


@click.command()
@click.argument("campaign_id")
@click.argument("stage", type=click.Choice(STAGES))
@signing_options
@click.option("--comment", default="", help="Why, for the record.")
@click.option("--no-advance", is_flag=True, help="Record only; leave running the next stage to `advance`.")
@click.pass_obj
def approve(now: datetime, /, campaign_id: str, stage: str, comment: str, no_advance: bool, **options: Any) -> None:
    """Sign an approval of a stage's outputs; once the policy is met the next stage runs.

    Example: musharaka approve moheri-2025-q3-satisfaction prepare --as dg.planning --key KEY --comment go
    """
    _sign_and_submit(now, campaign_id, stage, "approve", comment, options, run_next=not no_advance)


@click.command()
@click.argument("campaign_id")
@click.argument("stage", type=click.Choice(STAGES))
@signing_options
@click.option("--reason", required=True, help="What must be reworked.")
@click.pass_obj
def reject(now: datetime, /, campaign_id: str, stage: str, reason: str, **options: Any) -> None:
    """Sign a rejection with its reason; the stage runs again as a new attempt.

    Example: musharaka reject moheri-2025-q3-satisfaction plan --as dg.planning --key KEY --reason "budget missing"
    """
    _sign_and_submit(now, campaign_id, stage, "reject", reason, options, run_next=False)


@click.command()
@click.argument("campaign_id")
@click.option("--closes", required=True, type=click.DateTime(["%Y-%m-%d"]), help="The new closing day.")
@click.option("--reason", required=True, help="Why the window is extended.")
@signing_options
@click.pass_obj
def extend(now: datetime, /, campaign_id: str, closes: datetime, reason: str, **options: Any) -> None:
    """Sign an extension of the participation window (at conduct, while it runs or at its gate).

    Example: musharaka extend moheri-2025-q2-gpa-poll --closes 2025-09-30 --reason "exams" --as dg.planning --key KEY
    """
    _sign_and_submit(now, campaign_id, "conduct", "extend", reason, options, closes=closes.date())


@click.command()
@click.argument("campaign_id")
@click.argument("stage", type=click.Choice(STAGES))
@click.option("--decision", type=click.Choice(["approve", "reject", "extend"]), required=True)
@click.option("--text", default="", help="The comment or reason.")
@click.option("--closes", type=click.DateTime(["%Y-%m-%d"]), help="The new closing day, to extend.")
@signing_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@click.pass_obj
def sign(
    now: datetime,
    /,
    campaign_id: str,
    stage: str,
    decision: Decision,
    text: str,
    closes: datetime | None,
    out: Path | None,
    **options: Any,
) -> None:
    """Sign a decision without recording it, for `musharaka decide` to submit later or elsewhere.

    Example: musharaka sign moheri-2025-q3-satisfaction analyse --decision approve --as dir.digital --key KEY
    """
    signed = _signature(now, campaign_id, stage, decision, text, options, closes.date() if closes else None)
    body = signed.model_dump_json(indent=2)
    if out:
        out.write_text(body + "\n", encoding="utf-8")
        click.echo(f"signed {decision} of {campaign_id} {stage} written to {out}")
    else:
        click.echo(body)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-advance", is_flag=True, help="Record only; leave running the next stage to `advance`.")
@click.pass_obj
def decide(now: datetime, file: Path, no_advance: bool) -> None:
    """Submit a decision signed with `musharaka sign`.

    Example: musharaka decide ok.json
    """
    try:
        signed = SignedDecision.model_validate_json(file.read_bytes())
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise click.BadParameter(f"{file}: {where}: {first['msg']}") from None
    _submit(now, signed.campaign, signed, run_next=not no_advance)


@click.command()
@click.argument("campaign_id")
@click.argument("stage", type=click.Choice(STAGES))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def review(now: datetime, campaign_id: str, stage: str, as_json: bool) -> None:
    """What an approver signs: the open gate, its outputs digest, and the documents to read first.

    Example: musharaka review moheri-2025-q3-satisfaction prepare
    """
    from musharaka.flows.render.documents import document_path  # Jinja2: not for `gates`, which lists

    plans = records.load_plan_set()
    with read_scope() as session:
        gate = decisions.gate_to_decide(campaign_id, stage, session=session)
        view = overview.gate_view(gate, now, session=session, registry=in_force_if_any(plans.registry, session=session))
        run = records.stage_run(campaign_id, stage, gate.attempt, session=session)
    documents = [
        {**document, "intact": overview.file_digest(document_path(document["path"])) == document["digest"]}
        for document in json.loads(run.documents or "[]")
    ]
    if as_json:
        emit({"campaign": campaign_id, **view.model_dump(mode="json"), "documents": documents})
        return
    click.echo(f"{campaign_id}: {stage} gate, attempt {gate.attempt}")
    click.echo(f"  outputs digest  {gate.outputs_digest}")
    click.echo(f"  needs           {overview.needs(view)}; approved by {', '.join(view.approvals) or 'nobody yet'}")
    click.echo(f"  submitted by    {gate.submitter} (who may not approve it)")
    click.echo(
        f"  due             {as_utc(gate.due_at).isoformat()}{'  OVERDUE ' + view.late_by if view.overdue else ''}"
    )
    click.echo(f"  may decide now  {', '.join(view.may_decide) or 'nobody in the registry'}")
    for document in documents:
        state = "ok" if document["intact"] else "CHANGED SINCE IT WAS RECORDED"
        click.echo(f"  read            {document_path(document['path'])} ({document['lang']}, {state})")
    click.echo(f"Sign: musharaka approve {campaign_id} {stage} --as YOU --key KEY --digest {gate.outputs_digest}")


@click.command()
@click.option("--pending", is_flag=True, help="Only gates still open.")
@click.option("--overdue", is_flag=True, help="Only open gates past their due date, with who may now decide.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def gates(now: datetime, pending: bool, overdue: bool, as_json: bool) -> None:
    """Gates with their policy, approvals so far, due date and who may decide.

    Example: musharaka gates --overdue
    """
    plans = records.load_plan_set()
    with read_scope() as session:
        rows = overview.gate_rows(
            pending=pending,
            overdue=overdue,
            now=now,
            registry=in_force_if_any(plans.registry, session=session),
            session=session,
        )
    if as_json:
        emit([row.model_dump(mode="json") for row in rows])
    elif not rows:
        t = words(current())
        click.echo(
            t.gettext("no gates overdue")
            if overdue
            else t.gettext("no gates pending")
            if pending
            else t.gettext("no gates")
        )
    else:
        click.echo(tables.gates_table(rows, now, current()))


@click.group()
def keys() -> None:
    """Approvers' Ed25519 signing keys."""


@keys.command("new")
@click.argument("approver_id")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: Path.home() / ".musharaka" / "keys",
    show_default="~/.musharaka/keys",
    help="Where to write the private key.",
)
@click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Protect the private key with the passphrase on this file's first line.",
)
@click.pass_obj
def keys_new(now: datetime, approver_id: str, folder: Path, passphrase_file: Path | None) -> None:
    """Create a key pair: the private key in a file only you can read, the public key for approvers.yaml.

    Example: musharaka keys new dg.planning --passphrase-file ~/.musharaka/passphrase
    """
    plans = records.load_plan_set()
    if plans.registry is None or plans.registry.get(approver_id) is None:
        known = ", ".join(a.id for a in plans.registry.approvers) if plans.registry else "none"
        raise records.Refused(f"{approver_id!r} is not in the approvers registry (approvers: {known})")
    pem, public = new_key_pair(passphrase(passphrase_file))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{approver_id}-{fingerprint(public)}.pem"
    # created with owner-only permissions from the first byte, never readable by others
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    click.echo(f"private key: {path} (mode 0600{', passphrase-protected' if passphrase_file else ''})")
    click.echo(f"add this under {approver_id}'s entry in {get_settings().plans_dir / 'approvers.yaml'}:")
    click.echo(
        f"    keys:\n      - id: {approver_id}-{now:%Y%m%d}\n        public: {public}\n"
        f"        valid_from: {now.isoformat(timespec='seconds')}"
    )


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the digests (default: <output>/reminders/<day>).",
)
@click.pass_obj
def remind(now: datetime, out: Path | None) -> None:
    """Write each approver a digest of the gates they may decide, overdue ones first.

    Example: musharaka remind
    """
    from musharaka.flows import runtime

    runtime.configure_prefect()
    from musharaka.flows.reminders import gate_reminders

    written = gate_reminders(now, str(out) if out else None)
    for path in written:
        click.echo(path)
    if not written:
        click.echo("no open gates: no reminders to write")


COMMANDS = {c.name: c for c in (approve, reject, extend, sign, decide, review, gates, keys, remind) if c.name}
