"""The campaign page of the workspace, and the planner's actions on it.

`GET /campaigns/{id}` shows a campaign to anyone signed in: its plan (read-only, with what is still missing for
the next stage), the six stages with their attempts, gates, decisions and documents, what participants
contributed (counts only, and the quarantine's reasons without the cells), and the decision's follow-up. The
stages and the contributions are live parts: `/campaigns/{id}/stages` and `/campaigns/{id}/contributions` serve
them alone, so they change as runs finish, gates are decided and exports are ingested.

A planner acts from the same page: a plan file uploaded and validated, a campaign started, a stage's inputs
submitted, an export ingested (in the background, with its progress), a follow-up update recorded. Each action
calls the engine function the CLI command calls, as the signed-in person at the service's clock, so the same
refusals apply; a refused action records nothing.
"""

import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from musharaka.flows.engine import campaigns, communication, records, submissions, updates
from musharaka.flows.ingest.ingestion import Ingested, ingest
from musharaka.flows.ingest.sources import TOOLS, UnreadableFile
from musharaka.flows.planfiles.loading import load_plans
from musharaka.flows.planfiles.reading import PlanError, Problem
from musharaka.flows.render import locale, reports
from musharaka.flows.render.reasons import (
    Said,
    need_place,
    plain,
    plan_problem,
    quarantine_reason,
    refused,
    value,
)
from musharaka.flows.render.terms import term
from musharaka.flows.views import outcomes
from musharaka.flows.views.overview import OpenGate, gate_view
from musharaka.flows.views.risks import risk_view
from musharaka.flows.web.auth import WebSession
from musharaka.flows.web.kit import Kit, Refusal
from musharaka.flows.web.words import REFUSALS, Lang, number, refusal
from musharaka.stages import followup, readiness
from musharaka.stages.approvers import ApproversRegistry
from musharaka.stages.communication import Record, schedule
from musharaka.stages.i18n import N_, words
from musharaka.stages.plans import STAGES, CampaignPlan
from musharaka.state.db import session_scope, transaction
from musharaka.state.events import ContributionsIngested, as_utc, payload_of
from musharaka.state.registry import in_force_if_any
from musharaka.state.settings import get_settings
from musharaka.state.tables import (
    CampaignState,
    Contribution,
    Event,
    Gate,
    GateDecision,
    QuarantinedRow,
    StageRun,
)

LOG = logging.getLogger("musharaka.service")
KEEP_JOBS = 50  # finished ingestions whose answer a page may still ask for
MAX_PLAN = 1024 * 1024  # a plan file is a few kilobytes; anything this large is not one
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

# What the stages ask for (stages.prepare.QUESTIONS, stages.plan.REQUIRED), worded for the page's reader.
NEEDS = {
    "What is the campaign's objective?": N_("What is the campaign's objective?"),
    "How far does senior management support it?": N_("How far does senior management support it?"),
    "Is the agency ready: people, budget, procedures, law?": N_(
        "Is the agency ready: people, budget, procedures, law?"
    ),
    "Does the target audience understand the topic and can it take part?": N_(
        "Does the target audience understand the topic and can it take part?"
    ),
    "the detailed objective": N_("the detailed objective"),
    "a timeline with at least one milestone": N_("a timeline with at least one milestone"),
    "the people who will run it": N_("the people who will run it"),
    "a budget with its items": N_("a budget with its items"),
    "a slogan in Arabic and English": N_("a slogan in Arabic and English"),
    "at least one key message": N_("at least one key message"),
    "how participants are attracted and reach is made broad": N_(
        "how participants are attracted and reach is made broad"
    ),
    "how ideas are collected and analysed": N_("how ideas are collected and analysed"),
    "how the results will be communicated": N_("how the results will be communicated"),
    "an export of the answers from the tool that collected them": N_(
        "an export of the answers from the tool that collected them"
    ),
    "the decision taken on the analysis": N_("the decision taken on the analysis"),
}
HOW = {
    "write": N_("write it in the plan file"),
    "write or submit": N_("write it in the plan file, or submit it below"),
    "submit": N_("submit it below"),
}
STATUS_WORDS = {
    "pending": N_("pending"),
    "running": N_("running"),
    "started": N_("running"),
    "waiting": N_("waiting for inputs"),
    "failed": N_("failed"),
    "awaiting-gate": N_("awaiting its gate"),
    "closed": N_("closed"),
    "completed": N_("completed"),
    "approve": N_("approved"),
    "reject": N_("rejected"),
    "extend": N_("extended"),
    "planned": N_("planned"),
    "in-progress": N_("in progress"),
    "implemented": N_("implemented"),
    "dropped": N_("dropped"),
    "awaiting-update": N_("awaiting its first update"),
}
# The follow-up's problems (stages.followup.problems), recognised by what each one says, in people's words.
FOLLOW_UP_PROBLEMS = {
    "from 0 to 100": N_("The percentage must be a whole number from 0 to 100."),
    "for in-progress, found nothing": N_("Give how far the work is (0 to 100) for a decision in progress."),
    "an implemented decision is at 100": N_("An implemented decision is at 100%."),
    "a planned decision is at 0": N_("A planned decision is at 0%."),
    "reason the decision was dropped": N_("Give the reason the decision was dropped."),
    "expected at least the": N_("The percentage cannot fall below what was already reported."),
    "http(s) link": N_("The evidence must be an http or https link."),
    "no update can follow": N_("This decision is already implemented or dropped: no update can follow it."),
}
GATE_WORDS = {
    "open": N_("open, awaiting a decision"),
    "approved": N_("passed"),
    "rejected": N_("returned for rework"),
    "extended": N_("window extended"),
}


# --- what the page shows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    stage: str
    field: str
    what: str
    how: str


@dataclass
class StageView:
    stage: str
    runs: list[StageRun] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    decisions: list[GateDecision] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)  # the latest attempt's: lang, path
    open: OpenGate | None = None  # its open gate: who may decide it, when it is due


@dataclass(frozen=True)
class Held:
    """A quarantined row as the page shows it: where it is and why, never what the participant wrote."""

    file: str
    row: int
    reasons: list[tuple[Markup, Said]]  # (field, what was expected), in the reader's language


def needs_of(plan: CampaignPlan) -> list[Need]:
    """What `musharaka validate --readiness` lists for the plan: still to write, or to submit on the way."""
    return [Need(n.stage, n.field, NEEDS.get(n.what, n.what), HOW[n.how]) for n in readiness.needs(plan)]


def stages_of(
    campaign_id: str, registry: ApproversRegistry | None, *, now: datetime, session: Session
) -> list[StageView]:
    views = {stage: StageView(stage) for stage in STAGES}
    for run in session.exec(select(StageRun).where(StageRun.campaign_id == campaign_id).order_by(col(StageRun.id))):
        if run.stage in views:
            views[run.stage].runs.append(run)
            if run.documents:
                views[run.stage].documents = json.loads(run.documents)
    for gate in session.exec(select(Gate).where(Gate.campaign_id == campaign_id).order_by(col(Gate.id))):
        if gate.stage in views:
            views[gate.stage].gates.append(gate)
            if gate.status == "open":
                views[gate.stage].open = gate_view(gate, now, session=session, registry=registry)
    decided = select(GateDecision).where(GateDecision.campaign_id == campaign_id).order_by(col(GateDecision.seq))
    for decision in session.exec(decided):
        if decision.stage in views:
            views[decision.stage].decisions.append(decision)
    return list(views.values())


def contributions_of(campaign_id: str, zone: str, lang: Lang, *, session: Session) -> dict[str, Any]:
    """Counts by channel and by day (in the campaign's zone), each ingestion's sums, and the quarantine."""
    counting = (Contribution.campaign_id == campaign_id, col(Contribution.withdrawn) == 0)
    rows = session.exec(select(Contribution.channel, Contribution.submitted_at).where(*counting)).all()
    local = ZoneInfo(zone)
    channels = Counter(channel for channel, _ in rows)
    days = Counter(as_utc(at).astimezone(local).date() for _, at in rows)
    batches = []
    names = {}
    ingested = select(Event).where(Event.campaign_id == campaign_id, Event.type == ContributionsIngested.TYPE)
    for event in session.exec(ingested.order_by(col(Event.seq))):
        payload = payload_of(event)
        if isinstance(payload, ContributionsIngested):
            names[str(event.seq)] = payload.file_name
            batches.append((event, payload))
    aside = select(QuarantinedRow).where(QuarantinedRow.campaign_id == campaign_id, col(QuarantinedRow.withdrawn) == 0)
    held = [
        Held(names.get(r.batch, ""), r.row, [quarantine_reason(reason, lang) for reason in r.reasons.splitlines()])
        for r in session.exec(aside.order_by(col(QuarantinedRow.id)))
    ]
    return {
        "total": len(rows),
        "channels": sorted(channels.items(), key=lambda item: (-item[1], item[0])),
        "days": sorted(days.items()),
        "batches": batches,
        "held": held,
    }


# --- background ingestions ------------------------------------------------------------------------


@dataclass
class Job:
    """An ingestion running in a thread of the service, read by the page's progress bar."""

    campaign: str
    person: str
    total: int | None  # an estimate, from the file's lines
    read: int = 0
    state: str = "running"  # running, done, refused, failed
    done: Ingested | None = None
    code: str = ""
    detail: str = ""
    problems: list[Problem] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # why the file as a whole could not be read


def estimated_rows(path: Path) -> int | None:
    """Rows in a text export, from its line breaks less the header; unknown for a spreadsheet."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        return None
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - (0 if path.suffix.lower() == ".jsonl" else 1), 1)


@contextmanager
def private_copy(upload: UploadFile, default: str) -> Iterator[Path]:
    """The uploaded file in a folder only the service's user may read, under its own name made safe; removed
    afterwards. The name is what the log records as the file's (`file_name`)."""
    folder = Path(tempfile.mkdtemp(prefix="musharaka-upload-"))  # mode 0700
    try:
        name = SAFE_NAME.sub("-", Path(upload.filename or "").name).strip(".-")[:100] or default
        target = folder / name
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            shutil.copyfileobj(upload.file, handle)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- the routes ------------------------------------------------------------------------------------


def routes(app: FastAPI, kit: Kit) -> None:
    """Add the campaign page, its live parts, the plan upload and the planner's actions to `app`."""
    jobs: dict[str, Job] = {}

    def gettext(request: Request) -> Any:
        return words(kit.language(request)).gettext

    def campaign_context(campaign_id: str, lang: Lang) -> dict[str, Any]:
        """Everything the page shows; a refusal when the campaign has neither a plan nor a start."""
        plans, problems = load_plans([get_settings().plans_dir])
        plan = plans.campaigns.get(campaign_id)
        with session_scope() as db:
            state = db.get(CampaignState, campaign_id)
            if plan is None and state is None:
                raise Refusal("no-campaign", 404)
            zone = state.timezone if state else cast(CampaignPlan, plan).window.timezone
            registry = in_force_if_any(plans.registry, session=db)
            stages = stages_of(campaign_id, registry, now=kit.ws.now(), session=db) if state else []
            given = contributions_of(campaign_id, zone, lang, session=db) if state else None
            decided = outcomes.decisions(session=db, campaign_id=campaign_id) if state else []
            risks = risk_view(plans, campaign_id, kit.ws.now(), session=db) if state and plan else None
            # the communication plan as it stands: from the log once started, from the plan alone before
            messages = (
                communication.schedule(plan, now=kit.ws.now(), session=db)
                if plan and state
                else schedule(plan, Record(), kit.ws.now())
                if plan
                else ()
            )
        source = plans.sources.get(campaign_id)
        text = source.read_text(encoding="utf-8") if source and source.is_file() else ""
        warned = [w for w in plans.warnings if source and w.file == source]
        return {
            "campaign_id": campaign_id,
            "plan": plan,
            "plan_text": text,
            "plan_file": source.name if source else "",
            "plan_problems": [p for p in problems if source and p.file == source] if plan is None else [],
            "plans_valid": not problems,
            "warnings": warned,
            "needs": needs_of(plan) if plan else [],
            "state": state,
            "zone": zone,
            "stages": stages,
            "contributions": given,
            "decision": decided[0] if decided else None,
            "risks": risks,
            "messages": messages,
            "message_status": lambda status: term(f"message_{status}", lang),
            "day": lambda value: locale.day(value, lang, digits=get_settings().digits),
            "recipient": lambda key: (
                next((getattr(a.name, lang) for a in plan.audiences if a.id == key), term(f"to_{key}", lang))
                if plan
                else key
            ),
            "statuses": STATUS_WORDS,
            "gate_words": GATE_WORDS,
            "followup_statuses": followup.STATUSES,
            "tools": sorted(TOOLS),
            "tool_label": lambda key: TOOLS[key].label,
            "stage_list": STAGES,
            "need_place": lambda where: need_place(where, lang),
            "ltr": value,  # a format's name in a sentence, isolated as a value is
            "problem_words": lambda problem: plan_problem(problem, lang),
            "channel": lambda key: term(f"channel_{key}", lang, plan.vocabulary if plan else None),
            "title_of": (lambda: state.title_ar if lang == "ar" else state.title_en)
            if state
            else (lambda: getattr(cast(CampaignPlan, plan).title, lang)),
        }

    def campaign_page(
        request: Request,
        session: WebSession,
        campaign_id: str,
        *,
        notice: str = "",
        good: bool = True,
        status: int = 200,
        **extra: Any,
    ) -> Response:
        lang = kit.language(request)
        context = campaign_context(campaign_id, lang)
        is_planner = "planner" in kit.duties(session)
        title = context.pop("title_of")()
        return kit.page(
            request,
            session,
            "campaign.html.j2",
            title,
            status=status,
            notice=notice,
            notice_good=good,
            is_planner=is_planner,
            **context,
            **extra,
        )

    def refused_words(error: records.Refused, lang: Lang) -> tuple[str, str]:
        """The refusal in the person's words: by its code where the service has words for it, else by what the
        engine said (`reasons.refused`); else the general sentence and the engine's own detail, in English."""
        if error.code in REFUSALS and error.code != "refused":
            return refusal(error.code, lang), ""
        said = refused(str(error), lang)
        if said.ours:
            return said.html, ""
        return words(lang).gettext("The engine refused this, so nothing was recorded."), str(error)

    def hand_to_runner(campaign_id: str, request: Request) -> str:
        _ = gettext(request)
        run = None
        try:
            if kit.ws.runs is not None:
                run = kit.ws.runs.submit([campaign_id], None).get(campaign_id)
        except Exception:  # what was recorded stands; the sweep will run the campaign
            LOG.exception("%s: the run could not be handed to the runner", campaign_id)
        return str(
            _("The campaign is running now; this page shows where it stops.")
            if run is not None
            else _("The campaign runs at the service's next sweep.")
        )

    async def form_of(request: Request) -> Any:
        try:
            return await request.form()
        except Exception:  # not a form, or one too large for the parser
            raise Refusal("error") from None

    def acting(request: Request, form: Any) -> WebSession:
        csrf = form.get("csrf") or request.headers.get("x-csrf-token")
        session = kit.checked(request, str(csrf) if csrf else None)
        return kit.requires(session, "planner")

    # --- reading --------------------------------------------------------------------------------

    @app.get("/campaigns/{campaign_id}")
    def campaign(request: Request, campaign_id: str) -> Response:
        return campaign_page(request, kit.signed_in(request), campaign_id)

    @app.get("/campaigns/{campaign_id}/stages")
    def stages_part(request: Request, campaign_id: str) -> Response:
        return live_part(request, campaign_id, "stages")

    @app.get("/campaigns/{campaign_id}/contributions")
    def contributions_part(request: Request, campaign_id: str) -> Response:
        return live_part(request, campaign_id, "contributions")

    def live_part(request: Request, campaign_id: str, part: str) -> Response:
        """One part alone (the stages, the contributions): the page's live parts re-read it as the log moves on."""
        session = kit.signed_in(request)
        context = campaign_context(campaign_id, kit.language(request))
        context.pop("title_of")
        return kit.page(request, session, f"campaign-{part}.html.j2", "", **context)

    # --- a plan file ----------------------------------------------------------------------------

    @app.get("/plans/new")
    def new_plan(request: Request) -> Response:
        session = kit.requires(kit.signed_in(request), "planner")
        return kit.page(request, session, "plans-new.html.j2", gettext(request)("Upload a campaign plan"))

    @app.post("/plans/upload")
    async def upload_plan(request: Request) -> Response:
        form = await form_of(request)
        session = acting(request, form)
        _ = gettext(request)
        title = _("Upload a campaign plan")
        upload = form.get("plan")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return kit.page(request, session, "plans-new.html.j2", title, status=400, notice=_("Choose a plan file."))
        shown = Path(upload.filename).name
        with tempfile.TemporaryDirectory(prefix="musharaka-plan-") as folder:
            checked = Path(folder) / "campaign-plan.yaml"  # a campaign's, whatever the upload was called
            data = await upload.read(MAX_PLAN + 1)
            if len(data) > MAX_PLAN:
                raise Refusal("too-large", 413)
            checked.write_bytes(data)
            checked.chmod(0o600)
            settings = get_settings()
            plans, problems = load_plans([checked], registry_fallback=settings.plans_dir / "approvers.yaml")
            if not problems and len(plans.campaigns) != 1:
                problems = [Problem(checked, 1, 1, "id", "expected one campaign plan, found none")]
            if problems:
                return kit.page(
                    request,
                    session,
                    "plans-new.html.j2",
                    title,
                    status=422,
                    notice=_("The plan file has problems; nothing was saved. Each is listed below at its line."),
                    notice_good=False,
                    problems=problems,
                    problem_words=lambda problem: plan_problem(problem, kit.language(request)),
                    file_name=shown,
                )
            [plan_id] = plans.campaigns
            with session_scope() as db:
                if db.get(CampaignState, plan_id) is not None:
                    raise Refusal("plan-started", 409)
            added = _add_plan(plan_id, data, settings.plans_dir)
            if isinstance(added, list):
                return kit.page(
                    request,
                    session,
                    "plans-new.html.j2",
                    title,
                    status=422,
                    notice=_("With the other plans, this plan has problems; nothing was saved."),
                    notice_good=False,
                    problems=added,
                    problem_words=lambda problem: plan_problem(problem, kit.language(request)),
                    file_name=shown,
                )
        notice = _("The plan is valid and saved as %(file)s.") % {"file": added.name}
        return campaign_page(request, session, plan_id, notice=notice)

    # --- the planner's actions on a campaign ----------------------------------------------------

    @app.post("/campaigns/{campaign_id}/start")
    async def start(request: Request, campaign_id: str) -> Response:
        session = acting(request, await form_of(request))
        _ = gettext(request)
        lang = kit.language(request)
        plans = records.load_plan_set()
        if campaign_id not in plans.campaigns:
            raise Refusal("no-campaign", 404)
        plan = plans.campaigns[campaign_id]
        try:
            with session_scope() as db:
                if db.get(CampaignState, campaign_id) is not None:
                    raise Refusal("already-started", 409)
                campaigns.start(plan, actor=session.person or "", registry=plans.registry, now=kit.ws.now(), session=db)
        except records.Refused as error:
            text, detail = refused_words(error, lang)
            return campaign_page(request, session, campaign_id, notice=text, good=False, status=409, detail=detail)
        notice = _("The campaign is started.") + " " + hand_to_runner(campaign_id, request)
        return campaign_page(request, session, campaign_id, notice=notice)

    @app.post("/campaigns/{campaign_id}/stages/{stage}/upload")
    async def submit_stage(request: Request, campaign_id: str, stage: str) -> Response:
        form = await form_of(request)
        session = acting(request, form)
        stage = str(form.get("stage") or stage)  # the stage the form chose; the address's when it names none
        if stage not in STAGES:
            raise Refusal("not_found", 404)
        _ = gettext(request)
        lang = kit.language(request)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return campaign_page(request, session, campaign_id, notice=_("Choose a file."), good=False, status=400)
        plans = records.load_plan_set()
        problems: list[Problem] = []
        try:
            with private_copy(upload, f"{stage}.yaml") as path:
                transaction(
                    lambda db: submissions.submit_file(
                        campaign_id,
                        stage,
                        path,
                        plans=plans,
                        actor=session.person or "",
                        now=kit.ws.now(),
                        session=db,
                    )
                )
                name = path.name
        except records.Refused as error:
            text, detail = refused_words(error, lang)
            return campaign_page(request, session, campaign_id, notice=text, good=False, status=409, detail=detail)
        except PlanError as error:
            problems = error.problems
            notice = _("The file has problems; nothing was recorded. Each is listed below at its line.")
            return campaign_page(
                request, session, campaign_id, notice=notice, good=False, status=422, problems=problems
            )
        notice = _("The %(stage)s submission is recorded (%(file)s).") % {
            "stage": kit_stage(stage, lang),
            "file": name,
        }
        return campaign_page(request, session, campaign_id, notice=notice + " " + hand_to_runner(campaign_id, request))

    @app.post("/campaigns/{campaign_id}/contributions/upload")
    async def ingest_export(request: Request, campaign_id: str) -> Response:
        form = await form_of(request)
        session = acting(request, form)
        upload = form.get("file")
        wants_json = request.headers.get("accept", "").startswith("application/json")
        _ = gettext(request)
        if not isinstance(upload, UploadFile) or not upload.filename:
            if wants_json:
                return JSONResponse({"message": _("Choose a file.")}, status_code=400)
            return campaign_page(request, session, campaign_id, notice=_("Choose a file."), good=False, status=400)
        source = str(form.get("source") or "") or None
        channel = str(form.get("channel") or "").strip() or None
        if source is not None and source not in TOOLS:
            raise Refusal("error")
        plans = records.load_plan_set()
        try:
            with session_scope() as db:  # refused before the file is kept anywhere
                records.campaign_state(campaign_id, session=db)
                records.plan_of(plans, campaign_id)
        except records.Refused as error:
            text, detail = refused_words(error, kit.language(request))
            if wants_json:
                return JSONResponse({"message": plain(text), "detail": detail}, status_code=409)
            return campaign_page(request, session, campaign_id, notice=text, good=False, status=409, detail=detail)
        copy = private_copy(upload, "export.csv")
        path = copy.__enter__()
        job = Job(campaign_id, session.person or "", estimated_rows(path))
        name = secrets.token_urlsafe(12)
        for old in [key for key, kept in jobs.items() if kept.state != "running"][:-KEEP_JOBS]:
            del jobs[old]  # the oldest finished ones: their summaries are in the log and on the page
        jobs[name] = job
        now = kit.ws.now()

        def counted(rows: int) -> None:
            job.read += rows

        def work() -> None:
            try:
                with session_scope() as db:
                    job.done = ingest(
                        campaign_id,
                        path,
                        plans=plans,
                        actor=job.person,
                        now=now,
                        session=db,
                        source=source,
                        channel=channel,
                        progress=counted,
                    )
                job.read = job.done.rows_read
                job.state = "done"
            except records.Refused as error:
                job.state, job.code, job.detail = "refused", error.code, str(error)
            except PlanError as error:
                job.state, job.problems = "refused", error.problems
            except UnreadableFile as error:  # no known tool's header, a column missing, not UTF-8...
                # each problem names the file by its private copy's path: the planner knows it by its name
                job.state, job.unreadable = "refused", [line.replace(f"{path.parent}/", "") for line in error.problems]
            except Exception:
                LOG.exception("%s: the ingestion failed", campaign_id)
                job.state = "failed"
            finally:
                copy.__exit__(None, None, None)

        worker = threading.Thread(target=work, name=f"ingest-{campaign_id}", daemon=True)
        worker.start()
        if wants_json:
            return JSONResponse({"job": name, "url": f"/campaigns/{campaign_id}/ingestions/{name}"})
        worker.join()  # without the page's script: the answer waits for the ingestion
        answer = job_answer(job, kit.language(request))
        return campaign_page(
            request,
            session,
            campaign_id,
            notice=answer["message"],
            good=job.state == "done",
            status=200 if job.state == "done" else 409,
            detail=answer.get("detail", ""),
        )

    def job_answer(job: Job, lang: Lang) -> dict[str, Any]:
        _ = words(lang).gettext
        answer: dict[str, Any] = {"state": job.state, "read": job.read, "total": job.total}
        if job.state == "running":
            answer["message"] = _("%(read)s rows read so far…") % {"read": number(job.read, lang)}
        elif job.state == "done" and job.done is not None:
            done = job.done
            answer["summary"] = {
                "read": done.rows_read,
                "stored": done.rows_stored,
                "quarantined": done.rows_quarantined,
                "duplicates": done.duplicates,
            }
            answer["message"] = _(
                "The export is ingested: %(read)s rows read = %(stored)s stored + %(quarantined)s quarantined + "
                "%(duplicates)s duplicates."
            ) % {
                "read": number(done.rows_read, lang),
                "stored": number(done.rows_stored, lang),
                "quarantined": number(done.rows_quarantined, lang),
                "duplicates": number(done.duplicates, lang),
            }
        elif job.state == "refused":
            text, detail = refused_words(records.Refused(job.detail, job.code), lang)
            if job.problems:
                text = _("The export could not be read; nothing was recorded.")
                detail = "\n".join(f"{p.line}: {p.field}: {p.message}" for p in job.problems)
            elif job.unreadable:
                text, detail = _("The export could not be read; nothing was recorded."), "\n".join(job.unreadable)
            answer["message"], answer["detail"] = plain(text), detail
        else:
            answer["message"] = _("The ingestion did not complete; nothing was recorded.")
        return answer

    @app.get("/campaigns/{campaign_id}/ingestions/{name}")
    def ingestion(request: Request, campaign_id: str, name: str) -> Response:
        session = kit.requires(kit.signed_in(request), "planner")
        job = jobs.get(name)
        if job is None or job.campaign != campaign_id or job.person != session.person:
            raise Refusal("not_found", 404)
        return JSONResponse(job_answer(job, kit.language(request)))

    @app.post("/campaigns/{campaign_id}/follow-up")
    async def follow_up(request: Request, campaign_id: str) -> Response:
        form = await form_of(request)
        session = acting(request, form)
        _ = gettext(request)
        lang = kit.language(request)
        status = str(form.get("status") or "")
        if status not in followup.STATUSES:
            raise Refusal("error")
        percent_text = str(form.get("percent") or "").strip()
        if percent_text and not (percent_text.isdecimal() and len(percent_text) <= 3):
            notice = _("The percentage must be a whole number from 0 to 100; nothing was recorded.")
            return campaign_page(request, session, campaign_id, notice=notice, good=False, status=422)
        update = followup.Update(
            status,
            int(percent_text) if percent_text else None,
            str(form.get("note") or "").strip(),
            str(form.get("evidence") or "").strip() or None,
        )
        now = kit.ws.now()
        try:
            with session_scope() as db:
                records.campaign_state(campaign_id, session=db)
                problems = updates.record_update(campaign_id, update, actor=session.person or "", now=now, session=db)
                view = None
                if not problems:
                    db.flush()
                    view = outcomes.decisions(session=db, campaign_id=campaign_id)[0]
        except records.Refused as error:
            text, detail = refused_words(error, lang)
            return campaign_page(request, session, campaign_id, notice=text, good=False, status=409, detail=detail)
        if problems or view is None:
            said = [next((_(w) for key, w in FOLLOW_UP_PROBLEMS.items() if key in p), p) for p in problems]
            notice = " ".join([_("The update has problems; nothing was recorded."), *said])
            return campaign_page(request, session, campaign_id, notice=notice, good=False, status=422)
        reports.write_you_said_we_did(view, now=now)
        notice = _(
            "The update is recorded: the decision is %(status)s (%(percent)s%%). "
            "The “you said, we did” pages are rewritten."
        ) % {
            "status": _(STATUS_WORDS.get(view.status, view.status)),
            "percent": number(view.percent, lang),
        }
        return campaign_page(request, session, campaign_id, notice=notice)


def kit_stage(stage: str, lang: Lang) -> str:
    return term(f"stage_{stage}", lang)


def _add_plan(plan_id: str, data: bytes, plans_dir: Path) -> Path | list[Problem]:
    """Save a valid plan as `campaigns/ID.yaml` (or over the file that declares the id already), then check the
    plans folder as a whole; if the set no longer validates, put back what was there and give the problems."""
    plans, _ = load_plans([plans_dir])
    folder = (plans_dir / "campaigns").resolve()
    target = plans.sources.get(plan_id) or folder / f"{plan_id}.yaml"
    target = target.resolve()
    if not target.is_relative_to(plans_dir.resolve()) or target.suffix not in (".yaml", ".yml"):
        raise Refusal("error")  # the id's pattern keeps it a plain name; this says so once more
    folder.mkdir(parents=True, exist_ok=True)
    before = target.read_bytes() if target.exists() else None
    target.write_bytes(data)
    _, problems = load_plans([plans_dir])
    if problems:
        if before is None:
            target.unlink()
        else:
            target.write_bytes(before)
        return problems
    return target
