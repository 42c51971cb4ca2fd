"""After the campaign: decision follow-up, the lessons register, the programme's KPIs, read from the log.

Everything here reads the projections of the event log (which `musharaka state rebuild` reproduces from
the events alone) or appends events; the definitions of the indicators are in `stages/kpis.py`.
"""

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from flows import engine
from flows.documents import environment, labels
from flows.planfiles import PlanSet
from stages import followup
from stages import kpis as measures
from stages.plans import Bilingual, CampaignPlan, Programme, local_midnight
from state.events import DecisionUpdated, Event, append, as_utc
from state.settings import get_settings
from state.tables import CampaignState, DecisionUpdate, Gate, StageRun

LANGS = ("ar", "en")


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


def _approved_gates(session: Session, campaign_id: str | None = None) -> list[Gate]:
    query = select(Gate).where(Gate.status == "approved")
    if campaign_id is not None:
        query = query.where(Gate.campaign_id == campaign_id)
    return list(session.exec(query))


def _approved_outputs(session: Session, stage: str, campaign_id: str | None = None) -> dict[str, tuple[Gate, Any]]:
    """campaign -> (approved gate, its outputs) for every campaign whose `stage` gate was approved."""
    gates = {g.campaign_id: g for g in _approved_gates(session, campaign_id) if g.stage == stage}
    if not gates:
        return {}
    query = select(StageRun).where(StageRun.stage == stage, col(StageRun.campaign_id).in_(list(gates)))
    result = {}
    for run in session.exec(query):
        gate = gates[run.campaign_id]
        if run.attempt == gate.attempt:
            result[run.campaign_id] = (gate, json.loads(run.outputs or "{}"))
    return result


def _updates(session: Session, campaign_id: str | None = None) -> dict[str, list[DecisionUpdate]]:
    query = select(DecisionUpdate)
    if campaign_id is not None:
        query = query.where(DecisionUpdate.campaign_id == campaign_id)
    found: dict[str, list[DecisionUpdate]] = {}
    for row in session.exec(query.order_by(col(DecisionUpdate.campaign_id), col(DecisionUpdate.seq))):
        found.setdefault(row.campaign_id, []).append(row)
    return found


def decisions(*, session: Session, campaign_id: str | None = None) -> list[DecisionView]:
    """Every approved decision (its analyse gate approved) with its follow-up, oldest decision first."""
    updates = _updates(session, campaign_id)
    views = []
    for cid, (gate, outputs) in _approved_outputs(session, "analyse", campaign_id).items():
        campaign = session.get(CampaignState, cid)
        assert campaign is not None  # a gate is projected from the campaign's own chain
        rows = updates.get(cid, [])
        decision = outputs["decision"]
        views.append(
            DecisionView(
                campaign=cid,
                title=Bilingual(en=campaign.title_en, ar=campaign.title_ar),
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


def record_update(
    campaign_id: str, update: followup.Update, *, actor: str, now: datetime, session: Session
) -> list[str]:
    """Record an implementation update of the campaign's approved decision.

    Refused (nothing written) before the decision is approved or after it was implemented or dropped;
    returns the update's problems (bad arguments, also nothing written) otherwise empty after recording.
    """
    engine.campaign_state(campaign_id, session=session)
    approved = [g for g in _approved_gates(session, campaign_id) if g.stage == "analyse"]
    if not approved:
        raise engine.Refused(
            f"campaign {campaign_id} has no approved decision yet: follow-up starts once its analyse gate is approved",
            "no-decision",
        )
    rows = _updates(session, campaign_id).get(campaign_id, [])
    previous = followup.Previous(rows[-1].status, rows[-1].percent) if rows else None
    if previous is not None and previous.status in followup.FINAL:
        raise engine.Refused(
            f"the decision of {campaign_id} is already {previous.status} ({as_utc(rows[-1].at).date()}): "
            "no update can follow",
            "decision-final",
        )
    problems = followup.problems(update, previous)
    if problems:
        return problems
    append(
        campaign_id,
        DecisionUpdated(
            status=update.status,
            percent=followup.percent_of(update),
            note=update.note.strip(),
            evidence=update.evidence,
        ),
        actor=actor,
        at=now,
        session=session,
    )
    return []


class Lesson(BaseModel):
    """A lesson or improvement proposal from an approved evaluation, citable by its id in later plans."""

    id: str
    campaign: str
    kind: str  # lesson or improvement
    text: str
    approved_at: datetime


def lessons_register(*, session: Session) -> list[Lesson]:
    """The lessons and improvement proposals of every approved evaluation, oldest first."""
    entries = []
    for cid, (gate, outputs) in _approved_outputs(session, "evaluate").items():
        if isinstance(outputs.get("lessons"), dict):  # evaluations recorded before the answers were split out
            outputs = {**outputs, **outputs["lessons"]}
        for kind, key in (("lesson", "lessons"), ("improvement", "improvements")):
            for n, text in enumerate(outputs.get(key) or (), 1):
                entries.append(
                    Lesson(
                        id=f"{cid}.{kind}-{n}",
                        campaign=cid,
                        kind=kind,
                        text=text,
                        approved_at=as_utc(gate.decided_at or gate.opened_at),
                    )
                )
    return sorted(entries, key=lambda e: (e.approved_at, e.campaign, e.kind, e.id))


def facts(*, session: Session) -> dict[str, measures.Facts]:
    """Each started campaign's facts for the indicators: gate approvals, its decision, its follow-up."""
    approved: dict[str, dict[str, datetime]] = {}
    for gate in _approved_gates(session):
        approved.setdefault(gate.campaign_id, {})[gate.stage] = as_utc(gate.decided_at or gate.opened_at)
    decided = _approved_outputs(session, "analyse")
    based = {cid: outputs["decision"]["based_on_contributions"] for cid, (_, outputs) in decided.items()}
    updates = _updates(session)
    return {
        cid: measures.Facts(
            campaign_id=cid,
            approved=approved.get(cid, {}),
            based_on_contributions=based.get(cid),
            updates=tuple((as_utc(u.at), u.status) for u in updates.get(cid, [])),
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
    return {c.campaign_id: as_utc(c.started_at) for c in session.exec(select(CampaignState))}


def status_lines(
    plans: PlanSet,
    programme: Programme,
    moment: datetime,
    *,
    session: Session,
    every: dict[str, measures.Facts] | None = None,
) -> list[StatusLine]:
    """The programme table: topic, audience, channels, tools, quarter and status at `moment`, in words."""
    words = labels(get_settings().templates_dir)
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

        def named(prefix: str, ids: tuple[str, ...]) -> Bilingual:
            return _joined([Bilingual.model_validate(words.get(f"{prefix}{i}", {"en": i, "ar": i})) for i in ids])

        lines.append(
            StatusLine(
                campaign=plan.id,
                topic=plan.title,
                audience=_joined([a.name for a in plan.audiences]),
                channels=named("channel_", plan.channels),
                tools=named("tool_", plan.tools),
                quarter=entry.quarter,
                status=measures.status_words(every.get(plan.id), started.get(plan.id), window, moment),
            )
        )
    return lines


def kpi_report(plans: PlanSet, period_text: str, *, now: datetime, session: Session) -> KpiReport:
    """The ministry's half-year table and the programme's status, from the log as it stood then."""
    if not plans.programmes:
        raise engine.Refused("no programme file in the plans folder: the indicators and their targets are there")
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


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


def _context(lang: str) -> dict[str, Any]:
    words = labels(get_settings().templates_dir)
    return {
        "lang": lang,
        "dir": "rtl" if lang == "ar" else "ltr",
        "t": {key: text[lang] for key, text in words.items()},
        "words": {k: v[lang] for k, v in followup.WORDS.items()},
    }


def write_kpi_report(report: KpiReport, *, now: datetime) -> list[Path]:
    """out/kpis/<period>.<lang>.html, Arabic and English."""
    settings = get_settings()
    template = environment(settings.templates_dir).get_template("kpi_report.html.j2")
    folder = settings.output_dir / "kpis"
    return [
        _write(
            folder / f"{report.period}.{lang}.html",
            template.render({**_context(lang), "r": report, "generated": now.isoformat(timespec="minutes")}),
        )
        for lang in LANGS
    ]


def write_you_said_we_did(view: DecisionView, *, now: datetime) -> list[Path]:
    """out/<campaign>/you-said-we-did.<lang>.html: what participants said, what was decided, what was done."""
    settings = get_settings()
    template = environment(settings.templates_dir).get_template("you_said_we_did.html.j2")
    return [
        _write(
            settings.output_dir / view.campaign / f"you-said-we-did.{lang}.html",
            template.render({**_context(lang), "d": view, "generated": now.isoformat(timespec="minutes")}),
        )
        for lang in LANGS
    ]
