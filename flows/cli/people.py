"""The administrator's commands: invite a person of the registry to enrol a passkey, list who has one."""

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import click

from musharaka.flows.cli.common import passphrase
from musharaka.flows.engine import people, records
from musharaka.flows.engine.identity import acting_person
from musharaka.state.db import session_scope, transaction
from musharaka.state.registry import in_force
from musharaka.state.settings import DEFAULT_PUBLIC_URL, Settings, get_settings


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
    with session_scope() as session:
        registry = in_force(plans.registry, session=session)
    for person in registry.approvers:
        click.echo(
            f"{person.id:<20} {','.join(person.duties):<28} roles: {','.join(person.roles) or '-':<32} "
            f"keys: {len(person.keys)}  passkeys: {len(person.passkeys)}"
        )


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
