"""After the campaign, read from the log: decisions and their follow-up, the programme's KPIs and
its status table. The definitions of the indicators are in `stages/kpis.py`.
"""

import json
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select as select_core
from sqlmodel import Session, col, select

from musharaka.flows.engine.records import Refused, approved_stage_outputs, decision_updates
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.render import locale
from musharaka.flows.render.terms import names
from musharaka.stages import kpis as measures
from musharaka.stages.plans import Bilingual, CampaignPlan, local_midnight
from musharaka.stages.programme import Programme
from musharaka.state.events import Event, as_utc
from musharaka.state.settings import get_settings
from musharaka.state.tables import CampaignState, Gate


class UpdateView(BaseModel):
    at: datetime
    actor: str
    status: str
    percent: int
    note: str
    evidence: str | None


class DecisionView(BaseModel):
    """An approved decision and how far it has been carried out."""

    campaign: str
    title: Bilingual
    summary: Bilingual
    rationale: Bilingual
    based_on_contributions: bool
    participants: int
    approved_at: datetime
    status: str  # the latest update's status, or "awaiting-update"
    percent: int
    updates: list[UpdateView]


def _titles(session: Session, campaign_id: str | None) -> dict[str, Bilingual]:
    query = select_core(col(CampaignState.campaign_id), col(CampaignState.title_en), col(CampaignState.title_ar))
    if campaign_id is not None:
        query = query.where(col(CampaignState.campaign_id) == campaign_id)
    return {cid: Bilingual(en=en, ar=ar) for cid, en, ar in session.execute(query)}


def decisions(*, session: Session, campaign_id: str | None = None) -> list[DecisionView]:
    """Every approved decision (its analyse gate approved) with its follow-up, oldest decision first."""
    updates = decision_updates(session, campaign_id)
    titles = _titles(session, campaign_id)  # one query, not one a decision
    views = []
    for cid, (gate, outputs) in approved_stage_outputs(session, "analyse", campaign_id).items():
        rows = updates.get(cid, [])
        decision = outputs["decision"]
        views.append(
            DecisionView(
                campaign=cid,
                title=titles[cid],  # a gate is projected from the campaign's own chain: its state is there
                summary=Bilingual.model_validate(decision["summary"]),
                rationale=Bilingual.model_validate(decision["rationale"]),
                based_on_contributions=decision["based_on_contributions"],
                participants=outputs["total"],
                approved_at=as_utc(gate.decided_at or gate.opened_at),
                status=rows[-1].status if rows else "awaiting-update",
                percent=rows[-1].percent if rows else 0,
                updates=[
                    UpdateView(
                        at=as_utc(r.at),
                        actor=r.actor,
                        status=r.status,
                        percent=r.percent,
                        note=r.note,
                        evidence=r.evidence or None,
                    )
                    for r in rows
                ],
            )
        )
    return sorted(views, key=lambda v: (v.approved_at, v.campaign))


def facts(*, session: Session) -> dict[str, measures.Facts]:
    """Each started campaign's facts for the indicators: gate approvals, its decision, its follow-up."""
    approved: dict[str, dict[str, datetime]] = {}
    # four columns as plain tuples, not six Gate objects a campaign: over thousands of campaigns the garbage
    # collector, walking every object still alive, made the report grow faster than the programme
    columns = (col(Gate.campaign_id), col(Gate.stage), col(Gate.decided_at), col(Gate.opened_at))
    gates = select_core(*columns).where(col(Gate.status) == "approved").order_by(col(Gate.id))
    for campaign_id, stage, decided_at, opened_at in session.execute(gates):
        approved.setdefault(campaign_id, {})[stage] = as_utc(decided_at or opened_at)
    decided = approved_stage_outputs(session, "analyse")
    based = {cid: outputs["decision"]["based_on_contributions"] for cid, (_, outputs) in decided.items()}
    collected = {
        cid: int(outputs.get("total", 0)) for cid, (_, outputs) in approved_stage_outputs(session, "conduct").items()
    }
    updates = decision_updates(session)
    return {
        cid: measures.Facts(
            campaign_id=cid,
            approved=approved.get(cid, {}),
            based_on_contributions=based.get(cid),
            updates=tuple((as_utc(u.at), u.status) for u in updates.get(cid, [])),
            contributions=collected.get(cid, 0),
        )
        for cid in session.exec(select(CampaignState.campaign_id))
    }


class StatusLine(BaseModel):
    """A line of the programme status table."""

    campaign: str
    topic: Bilingual
    audience: Bilingual
    channels: Bilingual
    tools: Bilingual
    quarter: str
    status: Bilingual


class KpiReport(BaseModel):
    programme: str
    ministry: Bilingual
    title: Bilingual
    period: str
    starts: datetime
    ends: datetime
    status_as_of: datetime
    indicators: list[measures.KpiRow]
    status: list[StatusLine]


def _day(value: date, lang: str) -> str:
    """A day in the programme table, as the reader's language writes it ("30 سبتمبر 2025")."""
    return locale.day(value, lang, digits=get_settings().digits)


def _joined(items: list[Bilingual]) -> Bilingual:
    if not items:
        return Bilingual(en="—", ar="—")
    return Bilingual(en=", ".join(i.en for i in items), ar="، ".join(i.ar for i in items))


def _windows(session: Session, moment: datetime) -> dict[str, measures.Window]:
    """Each started campaign's participation window as it stood at `moment` (extensions up to then)."""
    extended: dict[str, str] = {}
    query = select(Event).where(Event.type == "window.extended").order_by(col(Event.campaign_id), col(Event.seq))
    for event in session.exec(query):
        if as_utc(event.at) < moment:
            extended[event.campaign_id] = json.loads(event.payload)["closes"]
    windows = {}
    for campaign in session.exec(select(CampaignState)):
        closes = datetime.fromisoformat(extended.get(campaign.campaign_id, campaign.window_closes)).date()
        opens = datetime.fromisoformat(campaign.window_opens).date()
        windows[campaign.campaign_id] = measures.Window(
            opens=local_midnight(opens, campaign.timezone),
            closes=local_midnight(closes + timedelta(days=1), campaign.timezone),
            opening_day=opens,
            closing_day=closes,
        )
    return windows


def _started(session: Session) -> dict[str, datetime]:
    query = select_core(col(CampaignState.campaign_id), col(CampaignState.started_at))
    return {campaign_id: as_utc(started_at) for campaign_id, started_at in session.execute(query)}


def status_lines(
    plans: PlanSet,
    programme: Programme,
    moment: datetime,
    *,
    session: Session,
    every: dict[str, measures.Facts] | None = None,
) -> list[StatusLine]:
    """The programme table: topic, audience, channels, tools, quarter and status at `moment`, in words."""
    every = facts(session=session) if every is None else every
    started = _started(session)
    windows = _windows(session, moment)
    lines = []
    for entry in programme.campaigns:
        plan: CampaignPlan | None = plans.campaigns.get(entry.campaign)
        if plan is None:
            continue
        window = windows.get(plan.id) or measures.Window(
            opens=plan.window.opens_at(),
            closes=plan.window.closes_at(),
            opening_day=plan.window.opens,
            closing_day=plan.window.closes,
        )

        lines.append(
            StatusLine(
                campaign=plan.id,
                topic=plan.title,
                audience=_joined([a.name for a in plan.audiences]),
                channels=_joined(names("channel_", plan.channels, plan.vocabulary)),
                tools=_joined(names("tool_", plan.tools, plan.vocabulary)),
                quarter=entry.quarter,
                status=measures.status_words(every.get(plan.id), started.get(plan.id), window, moment, day=_day),
            )
        )
    return lines


def kpi_report(plans: PlanSet, period_text: str, *, now: datetime, session: Session) -> KpiReport:
    """The ministry's half-year table and the programme's status, from the log as it stood then."""
    if not plans.programmes:
        raise Refused("no programme file in the plans folder: the indicators and their targets are there")
    programme = plans.programmes[0]
    period = measures.parse_period(period_text, get_settings().timezone)
    moment = min(now, period.ends)  # the status as the half-year ended, or now if it has not yet
    every = facts(session=session)
    return KpiReport(
        programme=programme.id,
        ministry=programme.ministry,
        title=programme.title,
        period=period.name,
        starts=period.starts,
        ends=period.ends,
        status_as_of=moment,
        indicators=measures.kpi_table(programme, list(every.values()), period),
        status=status_lines(plans, programme, moment, session=session, every=every),
    )
