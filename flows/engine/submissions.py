"""Files people submit for a stage: contributions for conduct, answers for the others."""

import csv
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlmodel import Session

from musharaka.flows.engine.records import Refused, campaign_state, plan_of
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.planfiles.reading import PlanError, load_model_file, locate
from musharaka.stages.checks import untranslated
from musharaka.stages.plans import LANGUAGE_NAMES, POINTS, STAGES, CampaignPlan, Stage
from musharaka.state.events import SubmissionRecorded, digest
from musharaka.state.log import append

if TYPE_CHECKING:
    from musharaka.stages.conduct import Minutes


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
    # loaded here, not with the commands: reading a file of contributions or a stage's answers needs pandas
    from musharaka.flows.ingest.ingestion import ingest
    from musharaka.stages.conduct import Minutes
    from musharaka.stages.registry import definition

    campaign = campaign_state(campaign_id, session=session)
    plan = plan_of(plans, campaign_id)
    if STAGES.index(stage) < STAGES.index(campaign.stage):
        raise Refused(f"campaign {campaign_id} is past {stage}; it is at {campaign.stage}")
    if campaign.status == "closed":
        raise Refused(f"campaign {campaign_id} is closed")
    minutes = stage == "conduct" and path.suffix.lower() in (".yaml", ".yml")
    if stage == "conduct" and not minutes:
        return str(ingest(campaign_id, path, plans=plans, actor=actor, now=now, session=session))
    defined = definition(stage)
    model = defined.submitted
    if model is None:
        raise Refused(f"the {stage} stage takes no submitted file: everything it needs is computed")
    instance, problems = load_model_file(path, model)
    if instance is None:
        raise PlanError(problems)
    check = defined.submission_problems
    found = check(instance, plan) if check else []
    if found:
        raise PlanError([locate(path, loc, message) for loc, message in found])
    content = instance.model_dump(mode="json")
    ingested = ""
    if isinstance(instance, Minutes):
        with tempfile.TemporaryDirectory(prefix="musharaka-minutes-") as folder:
            points = _points_file(instance, plan, Path(folder) / f"{path.stem}.csv")
            ingested = (
                f"; points raised: {ingest(campaign_id, points, plans=plans, actor=actor, now=now, session=session)}"
            )
    append(
        campaign_id,
        SubmissionRecorded(stage=stage, file_name=path.name, digest=digest(content), content=content),
        actor=actor,
        at=now,
        session=session,
    )
    later = STAGES.index(stage) > STAGES.index(campaign.stage)
    when = f"; it will be used when the campaign reaches {stage}" if later else ""
    # recorded all the same, as `validate` does with plans: the other language's document marks the text
    lacking = [locate(path, loc, f"not translated into {LANGUAGE_NAMES[lang]}") for loc, lang in untranslated(instance)]
    warned = "".join(f"\nwarning: {problem}" for problem in lacking)
    return f"{stage} submission recorded ({path.name}){when}{ingested}{warned}"


def _points_file(minutes: "Minutes", plan: CampaignPlan, target: Path) -> Path:
    """The points raised in a dialogue session as a contributions file: one row each, at the session's start,
    on the plan's in-person channel (its first channel if it names none), answering the `points` question."""
    assert plan.session is not None  # submission_problems: minutes are for a dialogue session, which has one
    held = datetime.combine(plan.session.on, plan.session.starts, tzinfo=ZoneInfo(plan.window.timezone))
    channel = next((c for c in plan.channels if c in IN_PERSON), plan.ingest.channel or plan.channels[0])
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["submitted_at", "channel", "audience", POINTS])
        for point in minutes.points:
            writer.writerow([held.isoformat(), channel, point.audience, point.text])
    return target


IN_PERSON = ("majlis", "in-person")
