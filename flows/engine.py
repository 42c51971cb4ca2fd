"""The engine's rules over the database: start a campaign, run a stage's bookkeeping, decide a gate.

These functions take a session and `now`, and never commit: the flow task or CLI command that calls
them owns the transaction. Prefect is not imported here.
"""

import difflib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel
from sqlmodel import Session, col, select

from flows.planfiles import PlanError, PlanSet, load_model_file, load_plans, locate
from stages.common import MissingInputs, NotYet, StageModel
from stages.evaluate import StageTiming
from stages.gates import NoAuthority, authority, due_at
from stages.plan import unknown_lessons
from stages.plans import STAGES, ApproversRegistry, Bilingual, CampaignPlan, GatePolicy, Stage
from stages.registry import MODULES
from state.events import (
    REGISTRY_CHAIN,
    CampaignStarted,
    Document,
    GateDecided,
    GateOpened,
    PlanRecorded,
    RegistryRecorded,
    StageCompleted,
    StageFailed,
    StageStarted,
    StageWaiting,
    SubmissionRecorded,
    WindowExtended,
    append,
    as_utc,
    digest,
    head,
    payload_of,
)
from state.frames import contributions_frame
from state.projection import SessionStore, approvals, gate_policy, open_gate
from state.settings import get_settings
from state.signing import SignedDecision, fingerprint
from state.tables import CampaignState, Event, Gate, StageRun, Submission

# "running" is runnable too: a run that died between its start and its outcome is picked up again
RUNNABLE = ("pending", "running", "failed", "waiting")


class Refused(Exception):
    """The request is not allowed or does not fit the campaign's state; nothing was changed.

    `code` names the kind of refusal in the event log (e.g. `self-approval`, `stale-digest`).
    """

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


def load_plan_set(plans_dir: Path | None = None) -> PlanSet:
    """Every plan under the plans folder, or PlanError with every problem."""
    plans, problems = load_plans([plans_dir or get_settings().plans_dir])
    if problems:
        raise PlanError(problems)
    return plans


def plan_of(plans: PlanSet, campaign_id: str) -> CampaignPlan:
    plan = plans.campaigns.get(campaign_id)
    if plan is None:
        known = ", ".join(sorted(plans.campaigns)) or "none"
        raise Refused(f"no campaign plan has the id {campaign_id!r} (plans found: {known})")
    return plan


def campaign_state(campaign_id: str, *, session: Session) -> CampaignState:
    campaign = session.get(CampaignState, campaign_id)
    if campaign is None:
        started = list(session.exec(select(CampaignState.campaign_id)))
        close = difflib.get_close_matches(campaign_id, started, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (musharaka status lists the campaigns)"
        raise Refused(f"no started campaign has the id {campaign_id!r}{hint}")
    return campaign


def plan_json(plan: CampaignPlan) -> dict[str, Any]:
    dumped: dict[str, Any] = plan.model_dump(mode="json")
    return dumped


def start(
    plan: CampaignPlan,
    *,
    actor: str,
    registry: ApproversRegistry | None = None,
    now: datetime,
    session: Session,
) -> None:
    """Record the campaign's start with the exact plan it starts from."""
    if session.get(CampaignState, plan.id) is not None:
        raise Refused(f"campaign {plan.id!r} has already been started")
    unknown = unknown_lessons(plan, lessons_by_id(session=session))
    if unknown:
        raise Refused(f"campaign {plan.id}: " + "; ".join(unknown), "unknown-lesson")
    if registry is not None:
        record_registry(registry, now=now, session=session)
    body = plan_json(plan)
    append(plan.id, CampaignStarted(plan=body, plan_digest=digest(body)), actor=actor, at=now, session=session)


def record_plan_if_changed(
    plan: CampaignPlan, campaign: CampaignState, *, actor: str, now: datetime, session: Session
) -> None:
    """A plan edited since it was last recorded (say, reworked after a rejection) is logged again.

    Once conduct has begun the window is fixed: only a signed extension moves it.
    """
    body = plan_json(plan)
    if digest(body) == campaign.plan_digest:
        return
    recorded = (campaign.window_opens, campaign.window_closes, campaign.timezone)
    edited = (plan.window.opens.isoformat(), plan.window.closes.isoformat(), plan.window.timezone)
    if STAGES.index(campaign.stage) >= STAGES.index("conduct") and edited != recorded:
        raise Refused(
            f"campaign {plan.id}: the plan file's window {edited[0]}..{edited[1]} ({edited[2]}) differs from the "
            f"recorded {recorded[0]}..{recorded[1]} ({recorded[2]}); once conduct has begun the window moves only "
            "by a signed extension (musharaka extend): restore the window in the plan file",
            "window-fixed",
        )
    append(plan.id, PlanRecorded(plan=body, plan_digest=digest(body)), actor=actor, at=now, session=session)


@dataclass(frozen=True)
class StageJob:
    """Everything one stage run needs, read from the database before the pure stage runs."""

    campaign_id: str
    stage: Stage
    attempt: int
    plan: CampaignPlan
    inputs: StageModel


def begin_stage(campaign_id: str, plans: PlanSet, *, now: datetime, session: Session) -> StageJob | None:
    """Mark the campaign's current stage as started and gather its inputs; None if nothing to run."""
    campaign = campaign_state(campaign_id, session=session)
    if campaign.status not in RUNNABLE:
        return None
    plan = plan_of(plans, campaign_id)
    stage: Stage = campaign.stage  # type: ignore[assignment]
    record_plan_if_changed(plan, campaign, actor=plan.owner, now=now, session=session)
    if campaign.status == "pending":
        append(
            campaign_id,
            StageStarted(
                stage=stage,
                attempt=campaign.attempt,
                submitter=_submitter(campaign_id, stage, plan, session=session),
                plan_digest=campaign.plan_digest,
            ),
            actor=plan.owner,
            at=now,
            session=session,
        )
    inputs = _inputs(campaign, stage, plan, plans, session=session)
    return StageJob(campaign_id, stage, campaign.attempt, plan, inputs)


def run_stage_function(job: StageJob, now: datetime) -> StageModel | MissingInputs | NotYet:
    """Call the stage's pure function; a missing input or an open window is a result, not a crash."""
    try:
        outputs: StageModel = MODULES[job.stage].run(job.inputs, job.plan, now)
    except (MissingInputs, NotYet) as outcome:
        return outcome
    return outputs


def finish_stage(
    job: StageJob,
    outcome: StageModel | MissingInputs | NotYet,
    documents: list[Document],
    *,
    now: datetime,
    session: Session,
) -> str:
    """Record what the stage run came to: a gate opened, a list of what is missing, or a wait."""
    campaign = campaign_state(job.campaign_id, session=session)
    if (campaign.stage, campaign.attempt) != (job.stage, job.attempt) or campaign.status not in (
        "running",
        *RUNNABLE,
    ):
        raise Refused(f"campaign {job.campaign_id}: {job.stage} was finished by another run")
    actor = job.plan.owner
    if isinstance(outcome, MissingInputs):
        if campaign.status != "failed" or campaign.detail != "missing: " + "; ".join(outcome.missing):
            append(
                job.campaign_id,
                StageFailed(stage=job.stage, attempt=job.attempt, missing=outcome.missing),
                actor=actor,
                at=now,
                session=session,
            )
        return "failed"
    if isinstance(outcome, NotYet):
        event = StageWaiting(stage=job.stage, attempt=job.attempt, reason=outcome.reason, until=outcome.until)
        if campaign.status != "waiting" or not campaign.detail.startswith(outcome.reason):
            append(job.campaign_id, event, actor=actor, at=now, session=session)
        return "waiting"
    outputs = outcome.model_dump(mode="json")
    outputs_digest = digest(outputs)
    append(
        job.campaign_id,
        StageCompleted(
            stage=job.stage,
            attempt=job.attempt,
            outputs=outputs,
            outputs_digest=outputs_digest,
            documents=documents,
        ),
        actor=actor,
        at=now,
        session=session,
    )
    policy = job.plan.gates.for_stage(job.stage)
    append(
        job.campaign_id,
        GateOpened(
            stage=job.stage,
            attempt=job.attempt,
            policy=policy.model_dump(mode="json"),
            due_at=due_at(now, policy, job.plan.window.timezone),
            submitter=_submitter(job.campaign_id, job.stage, job.plan, session=session),
            outputs_digest=outputs_digest,
        ),
        actor="engine",
        at=now,
        session=session,
    )
    return "awaiting-gate"


SKEW = timedelta(minutes=5)  # clocks of signing machines may run this far ahead of the engine's


def record_registry(registry: ApproversRegistry, *, now: datetime, session: Session) -> str:
    """Log the registry when it differs from the version last recorded; returns its digest.

    Every decision cites this digest, so an auditor can tell which keys and roles were in force.
    """
    body = registry.model_dump(mode="json")
    registry_digest = digest(body)
    last = head(REGISTRY_CHAIN, session=session)
    recorded = payload_of(last) if last else None
    if not isinstance(recorded, RegistryRecorded) or recorded.registry_digest != registry_digest:
        append(
            REGISTRY_CHAIN,
            RegistryRecorded(registry=body, registry_digest=registry_digest),
            actor="engine",
            at=now,
            session=session,
        )
    return registry_digest


@dataclass(frozen=True)
class Decidable:
    """What a signed decision is about: an open gate, or the conduct stage while its window runs."""

    stage: str
    attempt: int
    policy: GatePolicy
    due: datetime
    submitter: str | None
    outputs_digest: str
    gate: Gate | None


def _decidable(campaign_id: str, signed: SignedDecision, plan: CampaignPlan, *, session: Session) -> Decidable:
    """The gate the signed decision is for, or a refusal naming how it does not fit."""
    if signed.campaign != campaign_id:
        raise Refused(
            f"the signature is for campaign {signed.campaign}, not {campaign_id} (a replayed signature)",
            "replayed",
        )
    campaign = campaign_state(campaign_id, session=session)
    gate = open_gate(campaign_id, session=session)
    if gate is None and signed.decision == "extend" and campaign.stage == "conduct" and signed.stage == "conduct":
        # the window may be extended while it runs, before conduct has outputs or a gate
        if signed.attempt != campaign.attempt or signed.outputs_digest:
            raise Refused(
                f"the extension is signed for attempt {signed.attempt} with outputs; conduct is at attempt "
                f"{campaign.attempt} and has no outputs yet (a replayed signature)",
                "replayed",
            )
        never = datetime.max.replace(tzinfo=UTC)
        policy = plan.gates.for_stage("conduct")
        return Decidable("conduct", campaign.attempt, policy, never, None, "", None)
    if gate is None or gate.stage != signed.stage:
        earlier = session.exec(
            select(Gate).where(
                Gate.campaign_id == campaign_id, Gate.stage == signed.stage, Gate.attempt == signed.attempt
            )
        ).first()
        if earlier is not None and earlier.status != "open":
            raise Refused(
                f"the {signed.stage} gate (attempt {signed.attempt}) was already decided: {earlier.status}",
                "already-decided",
            )
        where = f"its open gate is {gate.stage}" if gate else "it has no open gate"
        raise Refused(f"campaign {campaign_id} has no open gate for {signed.stage}; {where}", "no-open-gate")
    if signed.attempt != gate.attempt:
        raise Refused(
            f"the signature is for attempt {signed.attempt} of the {gate.stage} gate; the open gate is "
            f"attempt {gate.attempt} (a replayed signature)",
            "replayed",
        )
    if signed.outputs_digest != gate.outputs_digest:
        raise Refused(
            f"the signature covers outputs {signed.outputs_digest}, but the {gate.stage} outputs are "
            f"now {gate.outputs_digest}: review them again (musharaka review) and sign anew",
            "stale-digest",
        )
    return Decidable(
        gate.stage,
        gate.attempt,
        gate_policy(gate),
        as_utc(gate.due_at),
        gate.submitter,
        gate.outputs_digest,
        gate,
    )


def _verify(signed: SignedDecision, registry: ApproversRegistry, now: datetime) -> None:
    """The signature is by a key of the named approver that is in force, over exactly this message."""
    approver = registry.get(signed.approver)
    if approver is None:
        raise Refused(f"{signed.approver!r} is not in the approvers registry", "unknown-approver")
    key = next((k for k in approver.keys if k.public == signed.public_key), None)
    if key is None:
        raise Refused(
            f"the signing key {fingerprint(signed.public_key)} is not one of {signed.approver}'s keys "
            "in the approvers registry",
            "unknown-key",
        )
    for moment, what in ((signed.signed_at, "signing"), (now, "recording")):
        if not key.in_force(moment):
            raise Refused(
                f"key {key.id} of {signed.approver} is not in force at the {what} time "
                f"{moment.isoformat()} (valid from {key.valid_from.isoformat()}"
                + (f", until {key.valid_until.isoformat()}" if key.valid_until else "")
                + (f", revoked at {key.revoked_at.isoformat()}" if key.revoked_at else "")
                + ")",
                "key-not-in-force",
            )
    if signed.signed_at > now + SKEW:
        raise Refused(f"the signature is dated in the future ({signed.signed_at.isoformat()})", "bad-time")
    if not signed.verifies():
        raise Refused(
            f"the signature does not verify with {signed.approver}'s key {key.id}: the message was altered "
            "or signed with another key",
            "bad-signature",
        )


def decide(
    campaign_id: str,
    signed: SignedDecision,
    *,
    registry: ApproversRegistry,
    plan: CampaignPlan,
    now: datetime,
    session: Session,
) -> Gate | None:
    """Verify a signed approval, rejection or extension and record it; Refused says why it cannot be."""
    campaign_state(campaign_id, session=session)
    registry_digest = record_registry(registry, now=now, session=session)
    _verify(signed, registry, now)
    target = _decidable(campaign_id, signed, plan, session=session)
    try:
        power = authority(registry, signed.approver, target.policy, now=now, due=target.due)
    except NoAuthority as error:
        raise Refused(str(error), "role-not-allowed") from None
    if target.submitter in (signed.approver, power.principal):
        raise Refused(
            f"{target.submitter} submitted the {target.stage} stage and may not sign off its own gate "
            "(separation of duties)",
            "self-approval",
        )
    if signed.decision in ("reject", "extend") and not signed.text.strip():
        raise Refused(f"to {signed.decision}, give a reason (--reason) for the record", "no-reason")
    if (
        signed.decision == "approve"
        and target.gate is not None
        and any(a.principal == power.principal for a in approvals(target.gate, session=session))
    ):
        raise Refused(f"{power.principal} has already approved this {target.stage} gate", "already-approved")
    common: dict[str, Any] = {
        "stage": target.stage,
        "attempt": target.attempt,
        "approver": signed.approver,
        "principal": power.principal,
        "capacity": power.capacity,
        "signed": signed.model_dump(mode="json"),
        "registry_digest": registry_digest,
    }
    payload: GateDecided | WindowExtended
    if signed.decision == "extend":
        payload = _extension(campaign_id, target, signed, common, session=session)
    else:
        payload = GateDecided(decision=signed.decision, text=signed.text.strip(), roles=list(power.roles), **common)
    append(campaign_id, payload, actor=signed.approver, at=now, session=session)
    return target.gate


def _extension(
    campaign_id: str, target: Decidable, signed: SignedDecision, common: dict[str, Any], *, session: Session
) -> WindowExtended:
    """guide 8.1.3: conduct may extend the participation window to a later closing date."""
    campaign = campaign_state(campaign_id, session=session)
    if target.stage != "conduct":
        raise Refused(f"only conduct can extend the window, not {target.stage}", "bad-extension")
    current = date.fromisoformat(campaign.window_extended or campaign.window_closes)
    if signed.closes is None or signed.closes <= current:
        raise Refused(
            f"expected a new closing date after the current {current}, found {signed.closes}", "bad-extension"
        )
    return WindowExtended(closes=signed.closes, reason=signed.text.strip(), **common)


def submit_file(
    campaign_id: str,
    stage: Stage,
    path: Path,
    *,
    plans: PlanSet,
    actor: str,
    now: datetime,
    session: Session,
) -> str:
    """Record a file a person submits for a stage: contributions for conduct, answers for the others."""
    campaign = campaign_state(campaign_id, session=session)
    plan = plan_of(plans, campaign_id)
    if STAGES.index(stage) < STAGES.index(campaign.stage):
        raise Refused(f"campaign {campaign_id} is past {stage}; it is at {campaign.stage}")
    if campaign.status == "closed":
        raise Refused(f"campaign {campaign_id} is closed")
    if stage == "conduct":
        from flows.ingestion import ingest  # ingestion builds on this module's rules

        return str(ingest(campaign_id, path, plans=plans, actor=actor, now=now, session=session))
    model: type[BaseModel] | None = getattr(MODULES[stage], "Submitted", None)
    if model is None:
        raise Refused(f"the {stage} stage takes no submitted file: everything it needs is computed")
    instance, problems = load_model_file(path, model)
    if instance is None:
        raise PlanError(problems)
    check = getattr(MODULES[stage], "submission_problems", None)
    found = check(instance, plan) if check else []
    if found:
        raise PlanError([locate(path, loc, message) for loc, message in found])
    content = instance.model_dump(mode="json")
    append(
        campaign_id,
        SubmissionRecorded(stage=stage, file_name=path.name, digest=digest(content), content=content),
        actor=actor,
        at=now,
        session=session,
    )
    later = STAGES.index(stage) > STAGES.index(campaign.stage)
    when = f"; it will be used when the campaign reaches {stage}" if later else ""
    return f"{stage} submission recorded ({path.name}){when}"


def _submitter(campaign_id: str, stage: str, plan: CampaignPlan, *, session: Session) -> str:
    """Who answers for a stage: the last person to submit anything for it (a file, or contributions at
    conduct), else the plan's owner. Asked when the gate opens, so a late submission counts too."""
    kinds = ["submission.recorded", "contributions.ingested"] if stage == "conduct" else ["submission.recorded"]
    query = (
        select(Event)
        .where(Event.campaign_id == campaign_id, col(Event.type).in_(kinds))
        .order_by(col(Event.seq).desc())
    )
    for event in session.exec(query):
        if event.type == "contributions.ingested" or json.loads(event.payload)["stage"] == stage:
            return event.actor
    return plan.owner


def _latest_submission(campaign_id: str, stage: str, *, session: Session) -> Submission | None:
    query = (
        select(Submission)
        .where(Submission.campaign_id == campaign_id, Submission.stage == stage)
        .order_by(col(Submission.seq).desc())
    )
    return session.exec(query).first()


def _submitted(campaign_id: str, stage: Stage, *, session: Session) -> Any:
    last = _latest_submission(campaign_id, stage, session=session)
    if last is None:
        return None
    return MODULES[stage].Submitted.model_validate_json(last.content)


def stage_run(campaign_id: str, stage: str, attempt: int, *, session: Session) -> StageRun:
    """One attempt's run; a run the log never started is a bug, not a user's mistake."""
    run = SessionStore(session).run(campaign_id, stage, attempt)
    if run is None:
        raise LookupError(f"{campaign_id}: {stage} attempt {attempt} has no run")
    return run


def approved_outputs(campaign_id: str, stage: Stage, *, session: Session) -> StageModel:
    """The outputs of the stage's attempt whose gate was approved."""
    gate = session.exec(
        select(Gate).where(Gate.campaign_id == campaign_id, Gate.stage == stage, Gate.status == "approved")
    ).first()
    if gate is None:
        raise LookupError(f"{campaign_id}: {stage} has no approved gate")
    run = stage_run(campaign_id, stage, gate.attempt, session=session)
    outputs: StageModel = MODULES[stage].Outputs.model_validate_json(run.outputs or "{}")
    return outputs


def contributions_of(campaign_id: str, *, session: Session) -> pd.DataFrame:
    """The campaign's contributions as the stages' DataFrame (columns: `stages.frame`)."""
    return contributions_frame(campaign_id, session=session)


def _inputs(
    campaign: CampaignState, stage: Stage, plan: CampaignPlan, plans: PlanSet, *, session: Session
) -> StageModel:
    module = MODULES[stage]
    cid = campaign.campaign_id
    if stage == "prepare":
        return module.Inputs(submitted=_submitted(cid, "prepare", session=session))
    if stage == "plan":
        return module.Inputs(
            prepare=approved_outputs(cid, "prepare", session=session), lessons=lessons_by_id(session=session)
        )
    if stage == "conduct":
        return module.Inputs(
            plan=approved_outputs(cid, "plan", session=session),
            contributions=contributions_of(cid, session=session),
            extended_to=date.fromisoformat(campaign.window_extended) if campaign.window_extended else None,
        )
    if stage == "analyse":
        return module.Inputs(
            conduct=approved_outputs(cid, "conduct", session=session),
            contributions=contributions_of(cid, session=session),
            decision=_submitted(cid, "analyse", session=session),
        )
    if stage == "announce":
        return module.Inputs(
            analyse=approved_outputs(cid, "analyse", session=session),
            conduct=approved_outputs(cid, "conduct", session=session),
            next_topics=_next_topics(plan, plans, session=session),
        )
    return module.Inputs(
        conduct=approved_outputs(cid, "conduct", session=session),
        analyse=approved_outputs(cid, "analyse", session=session),
        announce=approved_outputs(cid, "announce", session=session),
        timings=timings(cid, session=session),
        lessons=_submitted(cid, "evaluate", session=session),
    )


def _next_topics(plan: CampaignPlan, plans: PlanSet, *, session: Session) -> tuple[Bilingual, ...]:
    """The programme's campaigns after this one that are not closed: the topics to invite people to."""
    topics = []
    for programme in plans.programmes:
        for entry in programme.campaigns:
            other = plans.campaigns.get(entry.campaign)
            state = session.get(CampaignState, entry.campaign)
            if (
                other
                and entry.quarter >= plan.quarter
                and other.id != plan.id
                and (state is None or state.status != "closed")
            ):
                topics.append(other.title)
    return tuple(topics)


def lessons_by_id(*, session: Session) -> dict[str, str]:
    """The lessons register as id -> text: what plans may cite (see flows/outcomes.py)."""
    from flows.outcomes import lessons_register  # outcomes builds on this module

    return {entry.id: entry.text for entry in lessons_register(session=session)}


def timings(campaign_id: str, *, session: Session) -> tuple[StageTiming, ...]:
    """Per stage so far: how many attempts it took and the days from first start to approval."""
    runs = session.exec(select(StageRun).where(StageRun.campaign_id == campaign_id)).all()
    gates = session.exec(select(Gate).where(Gate.campaign_id == campaign_id, Gate.status == "approved")).all()
    approved = {g.stage: g.decided_at for g in gates}
    result = []
    for stage in STAGES:
        stage_runs = [r for r in runs if r.stage == stage]
        if not stage_runs or approved.get(stage) is None:
            continue
        first = min(r.started_at for r in stage_runs)
        end = approved[stage]
        assert end is not None
        days = (as_utc(end) - as_utc(first)).total_seconds() / 86400
        result.append(StageTiming(stage=stage, attempts=max(r.attempt for r in stage_runs), days=round(days, 2)))
    return tuple(result)
