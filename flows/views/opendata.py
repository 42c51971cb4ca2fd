"""What a closed campaign's open data is made of, read from the log: the approved outputs of its stages,
its decision's follow-up, and the plan's `open_data` policy (`stages/opendata.py` makes the tables)."""

import json
from datetime import date
from typing import Any

from sqlmodel import Session

from musharaka.flows.engine import records
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.render.terms import names
from musharaka.stages import analyse, conduct, frame, opendata
from musharaka.stages.plans import Bilingual, CampaignPlan, OpenDataSection
from musharaka.state.events import as_utc


def _publisher(plans: PlanSet, campaign_id: str) -> Bilingual | None:
    """The ministry of the programme that lists the campaign."""
    for programme in plans.programmes:
        if any(entry.campaign == campaign_id for entry in programme.campaigns):
            return programme.ministry
    return None


def _texts(plan: CampaignPlan, *, session: Session) -> tuple[tuple[str, str], ...]:
    """Every text answer, by question: read only when the plan allows participants' words to be published."""
    questions = [q.id for q in plan.instrument if q.type == "text"]
    if not questions:
        return ()
    contributions = records.contributions_of(plan.id, session=session)
    found = []
    for question in questions:
        values = frame.answers(contributions, question)
        found += [(question, str(value)) for value in values[frame.given(values)]]
    return tuple(found)


def facts(plans: PlanSet, campaign_id: str, *, session: Session) -> opendata.Facts:
    """The closed campaign's facts for its open data; refused for a campaign unknown, not started or not closed."""
    plan = records.plan_of(plans, campaign_id)
    campaign = records.campaign_state(campaign_id, session=session)
    if campaign.status != "closed":
        raise records.Refused(
            f"campaign {campaign_id} is not closed (it is at {campaign.stage}, {campaign.status}): its open data is "
            "published once its evaluation is approved",
            "not-closed",
        )
    gates = {g.stage: g for g in records.approved_gates(session, campaign_id)}
    decided, closed = gates["analyse"], gates["evaluate"]
    analysed = records.approved_outputs(campaign_id, analyse.STAGE, session=session)
    conducted = records.approved_outputs(campaign_id, conduct.STAGE, session=session)
    policy = plan.open_data or OpenDataSection()
    updates = records.decision_updates(session, campaign_id).get(campaign_id, [])
    return opendata.Facts(
        campaign=campaign_id,
        title=Bilingual(en=campaign.title_en, ar=campaign.title_ar),
        kind=plan.kind,
        level=plan.level,
        sector=plan.sector,
        publisher=_publisher(plans, campaign_id),
        opens=date.fromisoformat(campaign.window_opens),
        closes=date.fromisoformat(campaign.window_extended or campaign.window_closes),
        timezone=campaign.timezone,
        closed_at=as_utc(closed.decided_at or closed.opened_at),
        decided_at=as_utc(decided.decided_at or decided.opened_at),
        analysis=analysed,
        participation=conducted,
        updates=tuple(
            opendata.Update(
                at=as_utc(u.at), status=u.status, percent=u.percent, note=u.note, evidence=u.evidence or None
            )
            for u in updates
        ),
        audiences={a.id: a.name for a in plan.audiences},
        channels=dict(zip(plan.channels, names("channel_", plan.channels, plan.vocabulary), strict=True)),
        # every role the analyse gate's policy names: those of the quorum, those each needed, escalation
        approver_roles=_gate_roles(json.loads(decided.policy)),
        policy=policy,
        texts=_texts(plan, session=session) if policy.free_text else (),
        log_events=campaign.last_seq,
        log_head=campaign.last_hash,
        analysis_digest=decided.outputs_digest,
    )


def _gate_roles(policy: dict[str, Any]) -> tuple[str, ...]:
    """Every role a gate's recorded policy names, once: its quorum's, those each needed, its escalation."""
    return tuple(dict.fromkeys(str(r) for key in ("roles", "all_of", "escalation") for r in policy.get(key, ())))
