"""The auditor's commands: verify, checkpoint, export a bundle, replay to an instant, rebuild projections."""

import os
import sys
from datetime import datetime
from pathlib import Path

import click
from pydantic import ValidationError
from sqlalchemy import select as select_core
from sqlmodel import Session

from musharaka.flows.cli.common import emit, parse_instant
from musharaka.flows.engine import governance, records
from musharaka.flows.render import bundle
from musharaka.state.audit import (
    PUBLISHED,
    Checkpoint,
    checkpoint_problems,
    file_reader,
    published_checkpoints,
    published_entry,
    signed_checkpoint,
    verify_database,
)
from musharaka.state.db import read_scope, session_scope
from musharaka.state.events import ENGINE_CHAIN, events_of, stream_events
from musharaka.state.log import append
from musharaka.state.projection import rebuild
from musharaka.state.replay import campaign_at
from musharaka.state.seal import current_engine_key, engine_fingerprint, given_fingerprint, local_fingerprint, rotation
from musharaka.state.settings import get_settings
from musharaka.state.signing import (
    KeyFileError,
    engine_key,
    load_private,
    new_key_pair,
    public_text,
)
from musharaka.state.tables import Event


@click.group()
def audit() -> None:
    """Verify the log, file checkpoints, export bundles for auditors."""


def _fail(problems: list[str], what: str) -> None:
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"{what}: {len(problems)} problem(s)", err=True)
    sys.exit(1)


@audit.command("verify")
@click.option("--campaign", help="Only this campaign (and the registry chain).")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also detect truncation and rewriting since this checkpoint, or since each of a published checkpoint file.",
)
@click.option(
    "--engine",
    "--engine-key",
    "engine",
    metavar="FINGERPRINT",
    help="The engine key's fingerprint (or public key), given to you out of band: every event must be signed by "
    "it or a key it rotated to or from (default: the local engine key file's); needed with --checkpoint and "
    "--bundle, whose seal must be the engine's.",
)
@click.option(
    "--bundle",
    "bundle_dir",
    type=click.Path(exists=True, path_type=Path),
    help="Verify an exported bundle, offline, instead of the database: its folder, or the zip the service downloads.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=lambda: _cores(),
    show_default="the cores this command may use",
    help="Split a long log (20,000 events or more) among this many processes, each verifying its share of the "
    "campaigns in full.",
)
def verify_command(
    campaign: str | None, checkpoint_file: Path | None, engine: str | None, bundle_dir: Path | None, processes: int
) -> None:
    """Recompute every hash, link and signature; walk the registry from its pinned root; check contributions and
    documents against their digests.

    Example: musharaka audit verify --checkpoint /secure/checkpoints.jsonl --engine 3f2a...
    """
    if (bundle_dir or checkpoint_file) and not engine:
        given = "--bundle" if bundle_dir else "--checkpoint"
        raise click.UsageError(
            f"{given} needs --engine FINGERPRINT: the engine key's fingerprint the operator gave you out of band "
            "(`musharaka audit checkpoint` prints it); anyone could seal a bundle or checkpoint with a key of their own"
        )
    seal = engine or ""  # required above wherever a seal is checked
    if bundle_dir is not None:
        problems, sealer = bundle.verify_bundle_file(bundle_dir, seal)
        if problems:
            _fail(problems, f"bundle {bundle_dir}")
        click.echo(f"ok: bundle {bundle_dir} verifies; sealed by the engine key {engine_fingerprint(sealer)}")
        return
    trusted = _trusted_fingerprint(engine)
    root = governance.read_root()
    checkpoints: list[Checkpoint] = []
    problems = []
    if checkpoint_file is not None:
        checkpoints, problems = _read_checkpoints(checkpoint_file)
        pinned = sorted({c.registry_root for c in checkpoints if c.registry_root})
        if root and set(pinned) - {root}:
            problems.append(
                f"{checkpoint_file}: pins registry root {sorted(set(pinned) - {root})[0][:12]}, but the plans pin "
                f"{root[:12]} (plans/registry.root)"
            )
        elif len(pinned) > 1:
            problems.append(f"{checkpoint_file}: its checkpoints pin {len(pinned)} different registry roots")
        root = root or next(iter(pinned), None)
    with read_scope() as session:
        if campaign:
            records.campaign_state(campaign, session=session)
        findings, events, chains = verify_database(
            session,
            campaign,
            document=file_reader(get_settings().output_dir),
            root=root,
            engine=trusted,
            processes=processes,
        )
        problems = [str(f) for f in findings] + problems
        rotations = list(stream_events(session, only=ENGINE_CHAIN))  # a checkpoint sealed after a key rotation
        covered: Checkpoint | None = None
        stored = _hashes(session, checkpoints)
        for checkpoint in checkpoints:
            found = checkpoint_problems(checkpoint, stored, seal, rotations)
            problems += [f"checkpoint of {checkpoint.created_at.isoformat()}: {p}" for p in found]
            covered = checkpoint if not found else covered
    if root is None:
        click.echo(
            "note: no registry root is pinned (plans/registry.root): the registry's first version was taken as it is",
            err=True,
        )
    if problems:
        _fail(problems, "audit")
    click.echo(f"ok: {events} events in {chains} chains verify; contributions and documents match")
    if covered is not None:
        click.echo(f"the log covers the newest checkpoint, of {covered.created_at.isoformat()}")
    if trusted and not engine:
        click.echo(
            f"note: every event's engine signature was checked against the local engine key {trusted}; an auditor "
            "gives the fingerprint the operator filed: --engine FINGERPRINT",
            err=True,
        )


def _cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _trusted_fingerprint(engine: str | None) -> str | None:
    """The fingerprint every event's engine signature is checked from: the one given (or the fingerprint of the
    public key given), else the local engine key file's; None when there is neither (nothing is made)."""
    if engine:
        return given_fingerprint(engine)
    try:
        return local_fingerprint(get_settings().engine_key_file)
    except KeyFileError as error:
        raise click.BadParameter(f"{error}; or give --engine FINGERPRINT") from None


def _read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[str]]:
    """One checkpoint (`audit checkpoint --out`), or the hash-linked file of those published (`--publish`)."""
    text = path.read_text(encoding="utf-8")
    try:
        return [Checkpoint.model_validate_json(text)], []
    except ValidationError:
        pass
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].lstrip().startswith('{"checkpoint"'):
        raise click.BadParameter(
            f"{path}: expected a checkpoint written by `musharaka audit checkpoint`, or a file of them published "
            "with --publish"
        )
    return published_checkpoints(lines, str(path))


def _hashes(session: Session, checkpoints: list[Checkpoint]) -> dict[tuple[str, int], str]:
    """The stored hashes of the events the checkpoints name: one statement, however many chains they name."""
    wanted = {(chain, seq) for checkpoint in checkpoints for chain, (seq, _) in checkpoint.heads.items()}
    if not wanted:
        return {}
    table = Event.__table__  # type: ignore[attr-defined]
    query = select_core(table.c.campaign_id, table.c.seq, table.c.hash).execution_options(yield_per=5000)
    return {(chain, seq): own for chain, seq, own in session.execute(query) if (chain, seq) in wanted}


@audit.command("checkpoint")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@click.option(
    "--publish",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Append it to DIR/{PUBLISHED}, each entry linked to the one before by its hash; copy that file elsewhere.",
)
@click.pass_obj
def checkpoint_command(now: datetime, out: Path | None, publish: Path | None) -> None:
    """The heads of every chain and the pinned registry root, signed with the engine's key: file it outside the
    database, and give auditors the engine key's fingerprint it prints.

    Example: musharaka audit checkpoint --publish /mnt/checkpoints
    """
    key = engine_key(get_settings().engine_key_file)
    with read_scope() as session:
        signed = signed_checkpoint(key, events_of(session=session), governance.read_root() or "", now)
    found = signed.heads
    said = f"engine key fingerprint {engine_fingerprint(signed.public_key)}"
    if publish is not None:
        publish.mkdir(parents=True, exist_ok=True)
        target = publish / PUBLISHED
        lines = target.read_text(encoding="utf-8").splitlines() if target.exists() else []
        with target.open("a", encoding="utf-8") as handle:
            handle.write(published_entry(lines[-1] if lines else None, signed) + "\n")
        click.echo(f"checkpoint {len(lines) + 1} of {len(found)} chains appended to {target}; {said}")
    if out:
        out.write_text(signed.model_dump_json(indent=2) + "\n", encoding="utf-8")
        click.echo(f"checkpoint of {len(found)} chains written to {out}; {said}")
    if not out and publish is None:
        click.echo(signed.model_dump_json(indent=2))
        click.echo(said, err=True)


@audit.command("rotate-key")
@click.pass_obj
def rotate_key_command(now: datetime) -> None:
    """Replace the engine's signing key: the rotation is recorded in the log, signed by the old key and proven by
    the new one; the old key file is kept beside it, renamed.

    Example: musharaka audit rotate-key
    """
    path = get_settings().engine_key_file
    old = current_engine_key(path)
    pem, public = new_key_pair(None)
    fresh = path.with_name(path.name + ".new")
    fresh.unlink(missing_ok=True)
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    new = load_private(fresh, None)
    with session_scope() as session:
        append(ENGINE_CHAIN, rotation(old, new), actor="engine", at=now, session=session)
    retired = path.with_name(f"{path.name}.retired-{engine_fingerprint(public_text(old.public_key()))[:16]}")
    path.rename(retired)
    fresh.rename(path)
    click.echo(
        f"engine key {engine_fingerprint(public_text(old.public_key()))} replaced by {engine_fingerprint(public)}; "
        f"the old key is kept in {retired}"
    )


@audit.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--campaign", "campaigns", multiple=True, help="A campaign to include (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Every campaign.")
@click.pass_obj
def export_command(now: datetime, folder: Path, campaigns: tuple[str, ...], everything: bool) -> None:
    """A self-contained bundle an auditor can verify offline (`audit verify --bundle`).

    Example: musharaka audit export --campaign moheri-2025-q3-satisfaction bundle/
    """
    if not campaigns and not everything:
        raise click.UsageError("name campaigns with --campaign, or pass --all")
    if folder.exists() and any(folder.iterdir()):
        raise click.BadParameter(f"{folder} is not empty: choose a new folder for the bundle")
    with read_scope() as session:
        for campaign in campaigns:
            records.campaign_state(campaign, session=session)
        root = governance.read_root()
        count = bundle.export(folder, list(campaigns) or None, now=now, session=session, root=root)
    if root is None:
        click.echo(
            "note: no registry root is pinned (plans/registry.root): the bundle cannot show the registry's first "
            "version, and `audit verify --bundle` will say so (musharaka people pin-registry)",
            err=True,
        )
    public = public_text(engine_key(get_settings().engine_key_file).public_key())
    click.echo(
        f"{count} events exported to {folder}; verify with: musharaka audit verify --bundle {folder} "
        f"--engine {engine_fingerprint(public)}"
    )


@click.command()
@click.argument("campaign_id")
@click.option("--at", "at_text", required=True, metavar="ISO-TIME", help="The instant, with its offset.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def replay(campaign_id: str, at_text: str, as_json: bool) -> None:
    """The campaign as it stood at an instant, rebuilt from its events alone.

    Example: musharaka replay moheri-2025-q3-satisfaction --at 2025-08-01T12:00+04:00
    """
    at = parse_instant(at_text)
    with read_scope() as session:
        records.campaign_state(campaign_id, session=session)
        view = campaign_at(campaign_id, at, session=session)
    if view is None:
        raise records.Refused(f"campaign {campaign_id} had not started at {at.isoformat()}")
    if as_json:
        emit(view.model_dump(mode="json"))
        return
    closes = view.window_extended_to or view.window_closes
    click.echo(f"{campaign_id} at {at.isoformat()} ({view.events} events)")
    click.echo(
        f"  stage {view.stage}, attempt {view.attempt}, {view.status}{': ' + view.detail if view.detail else ''}"
    )
    extended = f" (extended from {view.window_closes})" if view.window_extended_to else ""
    click.echo(
        f"  window {view.window_opens} to {closes}{extended}, {view.window_state} then; "
        f"contributions {view.contributions}"
    )
    for gate in view.gates:
        click.echo(f"  gate {gate.stage} attempt {gate.attempt}: {gate.status}")
        for d in gate.decisions:
            behalf = f" for {d.principal}" if d.principal != d.approver else ""
            click.echo(f"    {d.at.isoformat()} {d.decision} by {d.approver}{behalf}{': ' + d.why if d.why else ''}")
    for u in view.decision_updates:
        note = f": {u['note']}" if u["note"] else ""
        click.echo(f"  decision {u['status']} {u['percent']}% on {u['at'].isoformat()}{note}")
    click.echo(f"  approvers registry {view.registry_digest and view.registry_digest[:12]} in force:")
    for a in view.approvers:
        click.echo(f"    {a.id:<20} roles {','.join(a.roles):<34} keys {','.join(a.keys_in_force) or '-'}")
    for lent in view.delegations:
        click.echo(f"    delegation {lent['delegator']} -> {lent['delegate']} until {lent['ends']}: {lent['reason']}")


@click.group()
def state() -> None:
    """The state database's projections."""


@state.command("rebuild")
def rebuild_command() -> None:
    """Drop every projection and replay the whole log into them.

    Example: musharaka state rebuild
    """
    with session_scope() as session:
        # a registry version no administrator signed would make the decisions it enables count: refuse first
        governance.recorded_version(session=session, root=governance.read_root())
        # the log only: the rows' withdrawal marks are a projection, which the rebuild puts right
        findings, _, _ = verify_database(
            session,
            root=governance.read_root(),
            engine=_trusted_fingerprint(None),
            contributions=False,
            processes=_cores(),
        )
        if findings:
            # a projection built from a forged or broken log would show what nobody decided
            _fail([str(f) for f in findings], "state rebuild refused: the log does not verify")
        count = rebuild(session=session, processes=_cores())
    click.echo(f"projections rebuilt from {count} events")


COMMANDS = {c.name: c for c in (audit, replay, state) if c.name}
