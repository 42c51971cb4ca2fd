"""The administrator's commands: invite a person of the registry to enrol a passkey, list who has one."""

from datetime import datetime

import click

from musharaka.flows.engine import people, records
from musharaka.state.db import session_scope, transaction
from musharaka.state.settings import get_settings


@click.group("people")
def people_group() -> None:
    """People of the registry (approvers.yaml) and their passkeys."""


@people_group.command()
@click.argument("person_id")
@click.pass_obj
def invite(now: datetime, person_id: str) -> None:
    """Print a one-time link, valid for a day, with which the person creates their passkey in the service.

    Example: musharaka people invite dg.planning
    """
    plans = records.load_plan_set()
    if plans.registry is None:
        raise records.Refused("no people registry (plans/approvers.yaml) to invite from")
    registry = plans.registry
    secret = transaction(
        lambda session: people.invite(registry, person_id, actor="administrator", now=now, session=session)
    )
    url = get_settings().public_url.rstrip("/")
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
        registry = people.in_force(plans.registry, session=session)
    for person in registry.approvers:
        click.echo(
            f"{person.id:<20} {','.join(person.duties):<28} roles: {','.join(person.roles) or '-':<32} "
            f"keys: {len(person.keys)}  passkeys: {len(person.passkeys)}"
        )


COMMANDS = {"people": people_group}
