"""The UN e-participation evidence the records hold, per level and sector, and what is missing.

The survey (guide section 9) asks for consultations held, decisions taken on the basis of online
consultations per sector, and published outcomes. Each is read from approved gates:

- a consultation is **held** when its conduct gate was approved;
- a **decision is taken on it** when its analyse gate was approved and the decision it approved
  says `based_on_contributions: true`;
- its **outcome is published** when its announce gate was approved.
"""

import json
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from musharaka.flows.planfiles.loading import PlanSet
from musharaka.stages.plans import LEVELS
from musharaka.state.events import CampaignStarted, PlanRecorded, as_utc, events_of, payload_of
from musharaka.state.tables import CampaignState, Gate, StageRun

UNSPECIFIED = "unspecified"  # a plan recorded before plans named their sector


class Proof(BaseModel):
    """One campaign that gives a piece of evidence, and when its gate was approved."""

    campaign: str
    at: datetime


class CampaignFacts(BaseModel):
    campaign: str
    title: str
    quarter: str
    level: str
    sector: str
    started: bool
    held: datetime | None = None
    decided: datetime | None = None  # approved analyse decision based on contributions
    decided_otherwise: bool = False  # approved analyse decision not based on contributions
    published: datetime | None = None


class SectorEvidence(BaseModel):
    sector: str
    campaigns: list[str]
    held: list[Proof]
    decided: list[Proof]
    published: list[Proof]
    missing: list[str]


class LevelEvidence(BaseModel):
    level: str
    campaigns: list[str]
    sectors: list[SectorEvidence]
    missing: list[str]


def _recorded_plans(campaign_id: str, now: datetime, *, session: Session) -> dict[str, object] | None:
    """The plan in force at `now`: the last one the log recorded for the campaign."""
    plan = None
    for event in events_of(campaign_id, session=session):
        if as_utc(event.at) > now:
            break
        payload = payload_of(event)
        if isinstance(payload, CampaignStarted | PlanRecorded):
            plan = payload.plan
    return plan


def _approved(campaign_id: str, stage: str, now: datetime, *, session: Session) -> list[Gate]:
    query = (
        select(Gate)
        .where(Gate.campaign_id == campaign_id, Gate.stage == stage, Gate.status == "approved")
        .order_by(col(Gate.attempt))
    )
    return [g for g in session.exec(query) if g.decided_at is not None and as_utc(g.decided_at) <= now]


def _based_on_contributions(gate: Gate, *, session: Session) -> bool:
    """Whether the analyse outputs the gate approved carry a decision based on contributions."""
    run = session.exec(
        select(StageRun).where(
            StageRun.campaign_id == gate.campaign_id, StageRun.stage == "analyse", StageRun.attempt == gate.attempt
        )
    ).first()
    if run is None or run.outputs is None:
        return False
    decision = json.loads(run.outputs).get("decision") or {}
    return decision.get("based_on_contributions") is True


def campaign_facts(plans: PlanSet, *, now: datetime, session: Session) -> list[CampaignFacts]:
    """Every campaign, started (its recorded plan) or only planned (its plan file), with its evidence."""
    facts: list[CampaignFacts] = []
    started = {c.campaign_id: c for c in session.exec(select(CampaignState)) if as_utc(c.started_at) <= now}
    for campaign_id, state in started.items():
        recorded = _recorded_plans(campaign_id, now, session=session) or {}
        row = CampaignFacts(
            campaign=campaign_id,
            title=state.title_en,
            quarter=state.quarter,
            level=str(recorded.get("level", UNSPECIFIED)),
            sector=str(recorded.get("sector", UNSPECIFIED)),
            started=True,
        )
        held = _approved(campaign_id, "conduct", now, session=session)
        row.held = held[0].decided_at if held else None
        for gate in _approved(campaign_id, "analyse", now, session=session):
            if _based_on_contributions(gate, session=session):
                row.decided = row.decided or gate.decided_at
            else:
                row.decided_otherwise = True
        published = _approved(campaign_id, "announce", now, session=session)
        row.published = published[0].decided_at if published else None
        facts.append(row)
    for plan in plans.campaigns.values():
        if plan.id not in started:
            facts.append(
                CampaignFacts(
                    campaign=plan.id,
                    title=plan.title.en,
                    quarter=plan.quarter,
                    level=plan.level,
                    sector=plan.sector,
                    started=False,
                )
            )
    return sorted(facts, key=lambda f: (f.quarter, f.campaign))


def evidence(facts: list[CampaignFacts], year: int | None = None) -> list[LevelEvidence]:
    """Per UN level (all three, always) and per sector the campaigns name: the evidence and its gaps."""
    if year is not None:
        facts = [f for f in facts if f.quarter.startswith(f"{year}-")]
    sectors = sorted({f.sector for f in facts})
    levels = []
    for level in (*LEVELS, *sorted({f.level for f in facts} - set(LEVELS))):
        at_level = [f for f in facts if f.level == level]
        rows = [_sector(level, sector, [f for f in at_level if f.sector == sector]) for sector in sectors]
        missing = [] if at_level else [f"no e-{level} campaign at all"]
        levels.append(
            LevelEvidence(level=level, campaigns=[f.campaign for f in at_level], sectors=rows, missing=missing)
        )
    return levels


def _sector(level: str, sector: str, facts: list[CampaignFacts]) -> SectorEvidence:
    held = [Proof(campaign=f.campaign, at=f.held) for f in facts if f.held]
    decided = [Proof(campaign=f.campaign, at=f.decided) for f in facts if f.decided]
    published = [Proof(campaign=f.campaign, at=f.published) for f in facts if f.published]
    missing: list[str] = []
    if not facts:
        missing.append(f"no e-{level} campaign in {sector}")
    elif not held:
        missing.append(f"no consultation held in {sector} yet ({_names(facts)} not past conduct)")
    no_decision = [f for f in facts if f.held and not f.decided]
    if no_decision:
        otherwise = [f for f in no_decision if f.decided_otherwise]
        missing.append(f"consultations held in {sector} but no decision taken on them: {_names(no_decision)}")
        if otherwise:
            missing.append(f"decided without basing the decision on contributions: {_names(otherwise)}")
    unpublished = [f for f in facts if f.held and not f.published]
    if unpublished:
        missing.append(f"consultations held in {sector} but no outcome published: {_names(unpublished)}")
    return SectorEvidence(
        sector=sector,
        campaigns=[f.campaign for f in facts],
        held=held,
        decided=decided,
        published=published,
        missing=missing,
    )


def _names(facts: list[CampaignFacts]) -> str:
    return ", ".join(f.campaign for f in facts)


def evidence_table(levels: list[LevelEvidence]) -> str:
    """The evidence as text: per level, per sector, what the records hold and what is missing."""
    lines: list[str] = []
    for level in levels:
        lines.append(f"e-{level.level}: {len(level.campaigns)} campaign(s)")
        lines += [f"  missing: {gap}" for gap in level.missing]
        for row in level.sectors:
            if not row.campaigns and level.missing:
                continue  # already said: nothing at this level
            lines.append(f"  {row.sector}: {len(row.campaigns)} campaign(s)")
            for name, proofs in (
                ("consultations held", row.held),
                ("decisions taken on them", row.decided),
                ("outcomes published", row.published),
            ):
                given = ", ".join(f"{p.campaign} ({p.at:%Y-%m-%d})" for p in proofs) or "none"
                lines.append(f"    {name}: {len(proofs)}: {given}")
            lines += [f"    missing: {gap}" for gap in row.missing]
    return "\n".join(lines)
