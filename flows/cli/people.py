"""The administrator's commands: invite a person of the registry to enrol a passkey, list who has one, pin the
registry's first version and sign a new one."""

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import click

from musharaka.flows.cli.common import passphrase
from musharaka.flows.engine import governance, people, records
from musharaka.flows.engine.identity import acting_person, prove
from musharaka.stages.approvers import ApproversRegistry
from musharaka.state.db import read_scope, transaction
from musharaka.state.governance import RegistrySignature, file_digest, signers
from musharaka.state.registry import in_force
from musharaka.state.settings import DEFAULT_PUBLIC_URL, Settings, get_settings
from musharaka.state.signing import load_private, sign


@click.group("people")
def people_group() -> None:
    """People of the registry (approvers.yaml) and their passkeys."""


@people_group.command()
@click.argument("person_id")
@click.option(
    "--as",
    "admin",
    metavar="ID",
    help="The registry administrator inviting, proven with --key (default: the operator).",
)
@click.option(
    "--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Their private key."
)
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def invite(
    now: datetime, person_id: str, admin: str | None, key_path: Path | None, passphrase_file: Path | None
) -> None:
    """Print a one-time link, valid for a day, with which the person creates their passkey in the service.

    Run by the service machine's operator, or by a registry administrator named with --as and --key.

    Example: musharaka people invite dg.planning
    """
    plans = records.load_plan_set()
    if plans.registry is None:
        raise records.Refused("no people registry (plans/approvers.yaml) to invite from")
    registry = plans.registry
    actor = acting_person(admin, key_path, passphrase(passphrase_file), owner="operator", registry=registry, now=now)
    if admin is not None and "administrator" not in people.person_of(registry, admin).duties:
        raise records.Refused(f"{admin} is not an administrator in the people registry", "not-an-administrator")
    secret = transaction(lambda session: people.invite(registry, person_id, actor=actor, now=now, session=session))
    url = enrolment_site(get_settings())
    click.echo(f"{person_id}: send this link to them alone; it works once, within a day:")
    click.echo(f"{url}/enrol/{secret}")


@people_group.command("list")
def list_people() -> None:
    """Everyone in the registry: duties, gate roles, and their keys and passkeys in force.

    Example: musharaka people list
    """
    plans = records.load_plan_set()
    if plans.registry is None:
        raise records.Refused("no people registry (plans/approvers.yaml)")
    with read_scope() as session:
        registry = in_force(plans.registry, session=session)
    for person in registry.approvers:
        click.echo(
            f"{person.id:<20} {','.join(person.duties):<28} roles: {','.join(person.roles) or '-':<32} "
            f"keys: {len(person.keys)}  passkeys: {len(person.passkeys)}"
        )


@people_group.command("pin-registry")
@click.option("--force", is_flag=True, help="Replace a root already pinned (only before the registry is recorded).")
def pin_registry(force: bool) -> None:
    """Pin approvers.yaml as it is now as the registry's first version (plans/registry.root).

    Give the digest printed to the auditors, out of band: `audit verify` walks the registry from it.

    Example: musharaka people pin-registry
    """
    plans = records.load_plan_set()
    if plans.registry is None:
        raise records.Refused("no people registry (plans/approvers.yaml) to pin")
    pinned = governance.read_root()
    with read_scope() as session:
        first = governance.first_recorded(session=session)
    if first is not None and pinned is None:
        # a log kept from before versions were signed: its first version becomes the root, as the operator checks
        path, digest = governance.write_root(first)
        click.echo(f"registry root {digest} pinned in {path}: the first version the log holds")
        click.echo("check it is the registry you meant, then give this digest to the auditors")
        return
    if first is not None:
        raise records.Refused(
            f"the registry is recorded in the log already (root {pinned and pinned[:12]}): a new version takes "
            "effect with its administrators' signatures (musharaka people sign-registry), not a new root",
            "registry-pinned",
        )
    if pinned is not None and pinned != file_digest(plans.registry) and not force:
        raise records.Refused(
            f"a root is pinned already ({pinned[:12]}) and approvers.yaml differs from it: pass --force to replace it",
            "registry-pinned",
        )
    path, digest = governance.write_root(plans.registry)
    click.echo(f"registry root {digest} pinned in {path}")
    click.echo("give this digest to the auditors (they check bundles and checkpoints against it)")


@people_group.command("sign-registry")
@click.option("--as", "admin", required=True, metavar="ID", help="Your id: an administrator of the version in force.")
@click.option(
    "--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Your key."
)
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def sign_registry(now: datetime, admin: str, key_path: Path, passphrase_file: Path | None) -> None:
    """Sign approvers.yaml as it is now, so the new version takes effect once enough administrators have signed.

    The signature goes into plans/approvers.signatures.json, next to approvers.yaml.

    Example: musharaka people sign-registry --as it.administrator --key ~/.musharaka/it.administrator.pem
    """
    plans = records.load_plan_set()
    if plans.registry is None:
        raise records.Refused("no people registry (plans/approvers.yaml) to sign")
    with read_scope() as session:
        current = governance.recorded_version(session=session, root=governance.read_root())
    if current is None:
        raise records.Refused(
            "the registry has not been recorded yet: its first version is pinned, not signed "
            "(musharaka people pin-registry)",
            "registry-not-recorded",
        )
    digest = file_digest(plans.registry)
    if digest == current.source_digest:
        raise records.Refused(f"approvers.yaml is the version in force already ({digest[:12]}): nothing to sign")
    previous = current.source
    if admin not in previous.administrator_ids():
        named = ", ".join(previous.administrator_ids()) or "nobody"
        raise records.Refused(
            f"{admin} is not an administrator in the registry in force (administrators: {named})",
            "not-an-administrator",
        )
    key = load_private(key_path, passphrase(passphrase_file))
    prove(previous, admin, key, now)
    signature = sign(RegistrySignature(registry_digest=digest, person=admin, public_key=""), key)
    path, kept = governance.add_signature(signature)
    for line in changes(previous, plans.registry):
        click.echo(f"  {line}")
    counted = signers(digest, kept, previous, now)
    needed = previous.administrators.threshold
    click.echo(f"{admin} signed registry version {digest} in {path}: {len(counted)} of {needed} signature(s)")
    if len(counted) >= needed:
        click.echo("enough administrators have signed: the new version takes effect when next used")


def changes(before: ApproversRegistry, after: ApproversRegistry) -> list[str]:
    """What a new version changes, person by person, for the administrator to see what they sign."""
    old = {a.id: a for a in before.approvers}
    new = {a.id: a for a in after.approvers}
    lines = [f"+ {i} ({', '.join(new[i].duties)}; roles {', '.join(new[i].roles) or '-'})" for i in new if i not in old]
    lines += [f"- {i}" for i in old if i not in new]
    for i in sorted(set(old) & set(new)):
        if old[i] != new[i]:
            added = {k.id for k in new[i].keys} - {k.id for k in old[i].keys}
            keys = f"; new keys {', '.join(sorted(added))}" if added else ""
            lines.append(
                f"~ {i} changed (duties {', '.join(new[i].duties)}; roles {', '.join(new[i].roles) or '-'}{keys})"
            )
    if before.delegations != after.delegations:
        lines.append(f"~ delegations: {len(before.delegations)} before, {len(after.delegations)} now")
    if before.administrators != after.administrators:
        lines.append(
            f"~ administrators' threshold: {before.administrators.threshold} -> {after.administrators.threshold}"
        )
    return lines


def enrolment_site(settings: Settings) -> str:
    """Where the person will open the link: the public address set, else the running service's own
    (by host name: a passkey cannot be made for an IP address), else the service's default address."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    from musharaka.flows.service.discovery import find_service

    service = find_service(settings)
    if service is None:
        return DEFAULT_PUBLIC_URL
    address = urlsplit(service.url)
    return f"{address.scheme}://localhost:{address.port}"


COMMANDS = {"people": people_group}
