"""A campaign's risk register as people read it: the plan's risks, and the signals the engine raises from the
campaign's own figures (stages/risks.py), each said in Arabic and English with the figures that raised it.

The signals are recomputed from recorded facts whenever the register is read, never stored: contributions,
their withdrawals and the gates' approvals are all in the log already, so the register an auditor rebuilds
from a bundle is the one the approvers saw.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from musharaka.flows.engine import records
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.render import locale
from musharaka.stages import frame
from musharaka.stages.i18n import N_, words
from musharaka.stages.plans import LANGUAGES, Bilingual, CampaignPlan, Language, RiskKind
from musharaka.stages.risks import Check, Facts, Register, State, rating, register, repeats
from musharaka.state.events import ContributionsIngested, ContributionsWithdrawn, as_utc
from musharaka.state.settings import get_settings
from musharaka.state.tables import Event

_CHANGES = (ContributionsIngested.TYPE, ContributionsWithdrawn.TYPE)

KINDS: dict[RiskKind, str] = {
    "low-turnout": N_("Low turnout"),
    "unrepresentative": N_("An unrepresentative sample"),
    "organised-campaign": N_("An organised campaign"),
    "no-feedback": N_("No feedback to participants"),
    "data-protection": N_("Data protection"),
    "other": N_("Other"),
}

STATES = {
    "raised": N_("raised"),
    "clear": N_("clear"),
    "pending": N_("not yet judged"),
    "unmeasured": N_("not measured"),
}

RATINGS = {"low": N_("low"), "medium": N_("medium"), "high": N_("high")}

# the guide's four treatments of a risk (section 19)
TREATMENTS = {"reduce": N_("Reduce"), "avoid": N_("Avoid"), "transfer": N_("Transfer"), "accept": N_("Accept")}


class RiskRow(BaseModel):
    """A risk of the plan's register, with whether a signal of its kind is raised."""

    id: str
    kind: RiskKind
    kind_name: Bilingual
    title: Bilingual
    likelihood: int
    impact: int
    score: int
    rating: Bilingual
    owner: str
    owner_name: Bilingual
    treatment: Bilingual
    mitigation: Bilingual
    raised: bool


class CheckRow(BaseModel):
    """One of the engine's signal checks: its state and the figures, said in both languages."""

    check: Check
    kind_name: Bilingual
    state_name: Bilingual
    said: Bilingual
    planned: bool  # the register names a risk of its kind


class RegisterView(BaseModel):
    """What `musharaka risks` prints and the gate, campaign and stage documents show."""

    campaign: str
    as_of: datetime
    timezone: str
    risks: list[RiskRow]
    checks: list[CheckRow]
    raised: int
    unplanned: int


@dataclass(frozen=True)
class _Counted:
    submitted: list[datetime]
    audiences: list[str]
    answers: int
    repeats: int


# The contributions' figures of recent campaigns, by the hashes of their ingestion and withdrawal events: the
# only events that change them. Counting repeated texts takes seconds for 10,000s of answers, and every
# gate page, campaign page and stage document reads the register.
_COUNTED: OrderedDict[tuple[object, ...], _Counted] = OrderedDict()
_COUNTING = threading.Lock()
_KEPT = 8


def facts_of(campaign_id: str, plan: CampaignPlan, *, session: Session) -> Facts:
    """The recorded facts the checks read: counted contributions, their free-text answers, the approvals."""
    counted = _counted(campaign_id, plan, session=session)
    gates = {stage: records.approved_gates(session, campaign_id, stage) for stage in ("analyse", "announce")}
    approved = {stage: as_utc(g[0].decided_at) if g and g[0].decided_at else None for stage, g in gates.items()}
    return Facts(
        submitted=counted.submitted,
        audiences=counted.audiences,
        answers=counted.answers,
        repeats=counted.repeats,
        decided_at=approved["analyse"],
        announced_at=approved["announce"],
    )


def _counted(campaign_id: str, plan: CampaignPlan, *, session: Session) -> _Counted:
    texts = tuple(q.id for q in plan.instrument if q.type == "text")
    changes = session.exec(
        select(Event.hash)
        .where(Event.campaign_id == campaign_id, col(Event.type).in_(_CHANGES))
        .order_by(col(Event.seq))
    )
    key = (campaign_id, plan.analysis.near_duplicate, texts, tuple(changes))
    with _COUNTING:  # the web pages read it from several threads; one counts, the others wait for its count
        known = _COUNTED.get(key)
        if known is not None:
            _COUNTED.move_to_end(key)
            return known
        return _count(campaign_id, plan, texts, key, session=session)


def _count(
    campaign_id: str, plan: CampaignPlan, texts: tuple[str, ...], key: tuple[object, ...], *, session: Session
) -> _Counted:
    rows = records.contributions_of(campaign_id, session=session)
    answers = repeated = 0
    for question in texts:
        column = f"{frame.ANSWER}{question}"
        if column in rows:
            given, again = repeats(
                [t for t in rows[column].tolist() if isinstance(t, str)], plan.analysis.near_duplicate
            )
            answers, repeated = answers + given, repeated + again
    found = _Counted(list(rows["submitted_at"].dt.to_pydatetime()), rows["audience"].tolist(), answers, repeated)
    _COUNTED[key] = found
    while len(_COUNTED) > _KEPT:
        _COUNTED.popitem(last=False)
    return found


def register_of(campaign_id: str, plan: CampaignPlan, now: datetime, *, session: Session) -> Register:
    return register(plan, facts_of(campaign_id, plan, session=session), now)


def register_view(campaign_id: str, now: datetime, *, session: Session) -> RegisterView:
    """The register of a started campaign as of `now` (records.Refused for an unknown one)."""
    records.campaign_state(campaign_id, session=session)
    return risk_view(records.load_plan_set(), campaign_id, now, session=session)


def risk_view(plans: PlanSet, campaign_id: str, now: datetime, *, session: Session) -> RegisterView:
    """The register of a campaign of the plan set as of `now`, owners named as the registry names them."""
    plan = records.plan_of(plans, campaign_id)
    people = {a.id: a.name for a in plans.registry.approvers} if plans.registry else {}
    return view_of(plan, register_of(campaign_id, plan, now, session=session), people)


def view_of(plan: CampaignPlan, found: Register, people: dict[str, Bilingual]) -> RegisterView:
    raised = {c.kind for c in found.raised()}
    planned = {r.kind for r in found.risks}
    zone = plan.window.timezone
    risks = [
        RiskRow(
            id=r.id,
            kind=r.kind,
            kind_name=_both(KINDS[r.kind]),
            title=r.title,
            likelihood=r.likelihood,
            impact=r.impact,
            score=r.score,
            rating=_both(RATINGS[rating(r.score)]),
            owner=r.owner,
            owner_name=people.get(r.owner, Bilingual(ar=r.owner, en=r.owner)),
            treatment=_both(TREATMENTS[r.treatment]),
            mitigation=r.mitigation,
            raised=r.kind in raised,
        )
        for r in found.risks
    ]
    checks = [
        CheckRow(
            check=c,
            kind_name=_both(KINDS[c.kind]),
            state_name=_both(STATES[c.state]),
            said=Bilingual(**{lang: said(c, plan, zone, lang) for lang in LANGUAGES}),
            planned=c.kind in planned,
        )
        for c in found.checks
    ]
    return RegisterView(
        campaign=plan.id,
        as_of=found.as_of,
        timezone=zone,
        risks=risks,
        checks=checks,
        raised=len(found.raised()),
        unplanned=len(found.unplanned()),
    )


def _both(message: str) -> Bilingual:
    return Bilingual(**{lang: words(lang).gettext(message) for lang in LANGUAGES})


def said(check: Check, plan: CampaignPlan, zone: str, lang: Language) -> str:
    """The figures behind a check, in a sentence of the reader's language."""
    t = words(lang)
    digits = get_settings().digits
    values: dict[str, Any] = {
        "count": locale.number(check.count, lang, digits=digits),
        "base": locale.number(check.base, lang, digits=digits),
        "share": locale.percent(check.share or 0, lang, digits=digits),
        "threshold": locale.percent(check.threshold, lang, digits=digits),
        "at": locale.moment(check.at, zone, lang, digits=digits) if check.at else "",
        "days": locale.number(round(check.days or 0, 1), lang, digits=digits),
        "limit": locale.number(check.threshold, lang, digits=digits),
    }
    if check.audience is not None:
        audience = next((a.name for a in plan.audiences if a.id == check.audience), None)
        values["audience"] = getattr(audience, lang) if audience else check.audience
    return t.gettext(_sentence(check)) % values


_TURNOUT = N_(
    "%(count)s contributions by mid-window (%(at)s): %(share)s of the target of %(base)s; "
    "the signal is raised below %(threshold)s."
)
_DOMINANCE = N_(
    "%(audience)s gave %(count)s of the %(base)s contributions, %(share)s; the signal is raised above %(threshold)s."
)
_REPEATS = N_(
    "%(count)s of the %(base)s free-text answers repeat another word for word or nearly, %(share)s; "
    "the signal is raised above %(threshold)s."
)
# A check's sentence by its kind and state; its placeholders are filled by `said`.
SENTENCES: dict[tuple[RiskKind, State], str] = {
    ("low-turnout", "unmeasured"): N_("No target to measure turnout against: the plan names none."),
    ("low-turnout", "pending"): N_("Judged at mid-window, %(at)s, against the target of %(base)s contributions."),
    ("low-turnout", "clear"): _TURNOUT,
    ("low-turnout", "raised"): _TURNOUT,
    ("unrepresentative", "unmeasured"): N_("One audience only: no other audience to be outweighed by."),
    ("unrepresentative", "pending"): N_("%(base)s contributions so far: too few to judge who dominates."),
    ("unrepresentative", "clear"): _DOMINANCE,
    ("unrepresentative", "raised"): _DOMINANCE,
    ("organised-campaign", "unmeasured"): N_("No free-text question: nothing to compare."),
    ("organised-campaign", "pending"): N_("%(base)s free-text answers so far: too few to judge repetition."),
    ("organised-campaign", "clear"): _REPEATS,
    ("organised-campaign", "raised"): _REPEATS,
    ("no-feedback", "pending"): N_("The decision was approved %(days)s days ago; the announcement is due by %(at)s."),
    ("no-feedback", "clear"): N_("Announced %(days)s days after the decision, within %(limit)s days."),
    ("no-feedback", "raised"): N_(
        "Not announced within %(limit)s days of the decision (by %(at)s): %(days)s days after it."
    ),
}
_NO_DECISION = N_("No decision approved yet: the announcement is due %(limit)s days after it.")


def _sentence(check: Check) -> str:
    if check.kind == "no-feedback" and check.at is None:
        return _NO_DECISION
    return SENTENCES[(check.kind, check.state)]
