"""The `quarterly-kickoff` flow: start the campaigns the programme plans for the quarter `now` falls in.

Our database is the calendar of record: the quarter comes from `now` (in the ministry's zone) and the
programme files, never from Prefect's schedule, so a late or repeated run starts each campaign once.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from prefect import flow

from musharaka.flows.engine import campaigns, records
from musharaka.flows.lifecycle import lifecycle
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.retries import side_effect
from musharaka.state.db import read_scope, transaction
from musharaka.state.settings import get_settings
from musharaka.state.tables import CampaignState


def quarter_of(moment: datetime, zone: str) -> str:
    """The quarter, written `2025-Q3`, that `moment` falls in on the calendar of `zone`."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def planned_for(plans: PlanSet, quarter: str) -> list[str]:
    """The campaigns every programme plans for `quarter`, in the programmes' order."""
    entries = [entry for programme in plans.programmes for entry in programme.campaigns]
    return [entry.campaign for entry in entries if entry.quarter == quarter]


@side_effect("campaigns-to-start")
def campaigns_to_start(quarter: str) -> tuple[list[str], list[str]]:
    """The quarter's planned campaigns not started yet, and those already started."""
    planned = planned_for(records.load_plan_set(), quarter)
    with read_scope() as session:
        started = {c for c in planned if session.get(CampaignState, c) is not None}
    return [c for c in planned if c not in started], [c for c in planned if c in started]


@side_effect("start-campaign")
def start_campaign(campaign_id: str, now: datetime) -> bool:
    """Record the start; False when another run started it first."""
    plans = records.load_plan_set()
    plan = records.plan_of(plans, campaign_id)

    def work(session):  # type: ignore[no-untyped-def]
        if session.get(CampaignState, campaign_id) is not None:
            return False
        campaigns.start(plan, actor=plan.owner, registry=plans.registry, now=now, session=session)
        return True

    return bool(transaction(work))


@flow(name="quarterly-kickoff", flow_run_name="quarterly-kickoff")
def quarterly_kickoff(now: datetime | None = None) -> dict[str, str]:
    """Start the quarter's planned campaigns that are not started and run each to its first gate.

    Returns, per planned campaign, where it stands: a lifecycle status, or `already started`.
    """
    moment = now or datetime.now(UTC)  # a scheduled run reads the clock here, at the edge
    quarter = quarter_of(moment, get_settings().timezone)
    to_start, started = campaigns_to_start(quarter)
    report = {campaign_id: "already started" for campaign_id in started}
    for campaign_id in to_start:
        if start_campaign(campaign_id, moment):
            report[campaign_id] = lifecycle(campaign_id, moment)
        else:
            report[campaign_id] = "already started"
    return report
