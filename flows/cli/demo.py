"""The demo: the ministry's 2025 programme replayed on its own calendar, through the same paths a user takes.

Contributions are generated (seeded, so every run is identical) and written as CSV files; decisions
and lessons are written as YAML files; all of them are submitted, approved and advanced exactly as
the CLI does. One campaign goes from prepare to closed with a rejection and rework at analyse.
"""

import csv
import os
import random
import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML
from sqlmodel import func, select

from musharaka.flows import runtime
from musharaka.flows.cli.language import current
from musharaka.flows.cli.workspace import copy_sample_plans, lay_out
from musharaka.flows.engine import campaigns, communication, decisions, governance, records, submissions, updates
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.render import reports
from musharaka.flows.views import outcomes, overview, risks, tables
from musharaka.stages import followup
from musharaka.stages.plans import STAGES, CampaignPlan, Question, Stage
from musharaka.state.db import get_engine, reset_tables, session_scope
from musharaka.state.governance import RegistrySignature, file_digest
from musharaka.state.projection import open_gate
from musharaka.state.settings import get_settings, shown_url
from musharaka.state.signing import load_private, new_key_pair, sign
from musharaka.state.tables import CampaignState, Event

MUSCAT = ZoneInfo("Asia/Muscat")
AS_OF = datetime(2025, 9, 21, 12, 0, tzinfo=MUSCAT)

COMMENTS = [
    "أتمنى تبسيط خطوات رفع المستندات",
    "الخدمة ممتازة وسريعة",
    "Please add status notifications by SMS",
    "نحتاج إلى دعم فني عبر الدردشة",
    "The forms should keep what I typed when the session expires",
    "",
]


def at(day: str, hour: int = 10) -> datetime:
    """A demo instant, in Muscat time."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=MUSCAT)


# Messages of a campaign's communication plan the team records as sent, and when: the chatbot's thanks for
# voting goes out two days after its due day, so the announcement reports that promise broken.
SENDS: dict[str, tuple[tuple[str, datetime], ...]] = {
    "moheri-2025-q1-chatbot-name": (
        ("vote-coming", at("2025-01-29", 9)),
        ("vote-opens", at("2025-02-02", 8)),
        ("reminder", at("2025-02-12", 11)),
        ("vote-closed", at("2025-02-23", 8)),
        ("management-briefing", at("2025-02-23", 8)),
        ("winning-name", at("2025-02-25", 9)),
    ),
}


class Demo:
    """Drives campaigns through the engine on the demo calendar."""

    def __init__(self, plans: PlanSet, keys: dict[str, Path], folder: Path, echo: Callable[[str], None]) -> None:
        self.plans, self.keys, self.folder, self.echo = plans, keys, folder, echo

    def plan(self, campaign_id: str) -> CampaignPlan:
        return records.plan_of(self.plans, campaign_id)

    def start(self, campaign_id: str, when: datetime) -> None:
        with session_scope() as session:
            campaigns.start(
                self.plan(campaign_id), actor="planning.team", registry=self.plans.registry, now=when, session=session
            )
        self.advance(campaign_id, when)

    def advance(self, campaign_id: str, when: datetime) -> None:
        from musharaka.flows.lifecycle import advance

        advance([campaign_id], when)

    def decide(
        self,
        campaign_id: str,
        stage: Stage,
        approver: str,
        when: datetime,
        decision: Literal["approve", "reject"] = "approve",
        text: str = "",
    ) -> None:
        """Sign with the approver's demo key and submit, as `musharaka approve` does."""
        signed = decisions.prepare_signature(
            campaign_id,
            stage,
            decision=decision,
            text=text,
            approver=approver,
            key_path=self.keys[approver],
            passphrase=None,
            now=when,
        )
        gate = decisions.submit(campaign_id, signed, plans=self.plans, now=when)
        if gate is not None and gate.status == "approved":
            self.advance(campaign_id, when)

    def approve_through(self, campaign_id: str, until: Stage, when: datetime) -> datetime:
        """Approve every gate up to and including `until`, a day apart; returns the last day."""
        for stage in STAGES[: STAGES.index(until) + 1]:
            with session_scope() as session:
                pending = open_gate(campaign_id, session=session)
            if pending is None or pending.stage != stage:
                continue
            when += timedelta(days=1)
            while True:
                with session_scope() as session:
                    gate = open_gate(campaign_id, session=session)
                    if gate is None or gate.stage != stage:
                        break
                    view = overview.gate_view(gate, when, session=session, registry=self.plans.registry)
                self.decide(campaign_id, stage, view.may_decide[0].split(" ")[0], when)
        return when

    def send_messages(self, campaign_id: str, before: datetime) -> None:
        """Record as sent the campaign's demo messages that went out before `before`, as `musharaka comms sent`."""
        plan = self.plan(campaign_id)
        with session_scope() as session:
            done = {s.message for s in communication.record_of(campaign_id, session=session).sent}
            for message, when in SENDS.get(campaign_id, ()):
                if message not in done and when < before:
                    problems = communication.record_sent(
                        plan, message, None, actor="planning.team", now=when, session=session
                    )
                    assert not problems, problems

    def submit(self, campaign_id: str, stage: Stage, path: Path, when: datetime) -> None:
        with session_scope() as session:
            submissions.submit_file(
                campaign_id, stage, path, plans=self.plans, actor="planning.team", now=when, session=session
            )

    def contributions(self, campaign_id: str, rows: int, until: datetime) -> Path:
        """Seeded sample contributions inside the window (up to `until`), as a CSV file."""
        plan = self.plan(campaign_id)
        rng = random.Random(campaign_id)
        start = plan.window.opens_at()
        with session_scope() as session:
            extended = records.campaign_state(campaign_id, session=session).window_extended
        closes = plan.window.closes_at(date.fromisoformat(extended) if extended else None)
        end = min(closes, until.astimezone(start.tzinfo))
        span = (end - start).total_seconds()
        path = self.folder / f"{campaign_id}-contributions.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["submitted_at", "channel", "audience", *(q.id for q in plan.instrument)])
            for _ in range(rows):
                moment = start + timedelta(seconds=rng.uniform(0, span - 1))
                writer.writerow(
                    [
                        moment.astimezone(MUSCAT).isoformat(timespec="seconds"),
                        rng.choice(plan.channels),
                        rng.choices([a.id for a in plan.audiences], weights=range(len(plan.audiences) + 2, 2, -1))[0],
                        *(_answer(q, rng) for q in plan.instrument),
                    ]
                )
        return path

    def write_yaml(self, name: str, content: dict[str, Any]) -> Path:
        path = self.folder / name
        with path.open("w", encoding="utf-8") as handle:
            YAML().dump(content, handle)
        return path

    def run_to_closed(self, campaign_id: str, begin: datetime, rows: int, *, rework: bool) -> None:
        """The whole lifecycle; with `rework`, the analyse gate is rejected once and reworked."""
        plan = self.plan(campaign_id)
        self.start(campaign_id, begin)
        self.approve_through(campaign_id, "plan", begin)
        closes = plan.window.closes_at()
        self.send_messages(campaign_id, closes)
        self.submit(campaign_id, "conduct", self.contributions(campaign_id, rows, closes), closes)
        day = closes + timedelta(hours=9)
        self.advance(campaign_id, day)
        day = self.approve_through(campaign_id, "conduct", day)
        decision = self.write_yaml(f"{campaign_id}-decision.yaml", _decision(plan, revised=False))
        self.submit(campaign_id, "analyse", decision, day)
        self.advance(campaign_id, day)
        if rework:
            day += timedelta(days=1)
            self.decide(
                campaign_id,
                "analyse",
                "dir.digital",
                day,
                "reject",
                "The decision does not say what changes for researchers; add the impact on each group.",
            )
            day += timedelta(days=2)
            revised = self.write_yaml(f"{campaign_id}-decision-2.yaml", _decision(plan, revised=True))
            self.submit(campaign_id, "analyse", revised, day)
            self.advance(campaign_id, day)
        self.send_messages(campaign_id, day + timedelta(days=1))  # before the decision: announce reports them
        day = self.approve_through(campaign_id, "analyse", day)
        # the team writes its lessons while the announcement is reviewed: evaluate runs on its approval
        lessons = self.write_yaml(f"{campaign_id}-lessons.yaml", _lessons())
        self.submit(campaign_id, "evaluate", lessons, day + timedelta(hours=2))
        day = self.approve_through(campaign_id, "announce", day + timedelta(hours=2))
        self.send_messages(campaign_id, day + timedelta(days=7))
        self.approve_through(campaign_id, "evaluate", day + timedelta(days=7))

    def follow_up(
        self,
        campaign_id: str,
        when: datetime,
        status: followup.Status,
        percent: int | None,
        note: str,
        evidence: str | None = None,
    ) -> None:
        """An implementation update of the campaign's decision, and its "you said, we did" page."""
        with session_scope() as session:
            problems = updates.record_update(
                campaign_id,
                followup.Update(status, percent, note, evidence),
                actor="planning.team",
                now=when,
                session=session,
            )
            assert not problems, problems
            session.flush()
            view = outcomes.decisions(session=session, campaign_id=campaign_id)[0]
        reports.write_you_said_we_did(view, now=when)

    def extend(self, campaign_id: str, closes: str, reason: str, when: datetime) -> None:
        """A signed extension of the window while it runs, as `musharaka extend` does."""
        approver = self.approvers_for(campaign_id, "conduct")[0]
        signed = decisions.prepare_signature(
            campaign_id,
            "conduct",
            decision="extend",
            text=reason,
            approver=approver,
            key_path=self.keys[approver],
            passphrase=None,
            now=when,
            closes=date.fromisoformat(closes),
        )
        decisions.submit(campaign_id, signed, plans=self.plans, now=when)

    def approvers_for(self, campaign_id: str, stage: Stage) -> list[str]:
        roles = set(self.plan(campaign_id).gates.for_stage(stage).roles)
        assert self.plans.registry is not None
        return [a.id for a in self.plans.registry.approvers if roles & set(a.roles)]

    def run_to_conduct(
        self, campaign_id: str, begin: datetime, rows: int, until: datetime, extension: tuple[str, str] | None = None
    ) -> None:
        """Started and approved to conduct, perhaps extended; contributions so far; the window still open."""
        self.start(campaign_id, begin)
        day = self.approve_through(campaign_id, "plan", begin)
        if extension:
            self.extend(campaign_id, *extension, at("2025-06-25"))
        self.submit(campaign_id, "conduct", self.contributions(campaign_id, rows, until), until)
        self.advance(campaign_id, max(day, until))


def _answer(question: Question, rng: random.Random) -> str:
    options = [o.id for o in question.options]
    if question.type == "single":
        return rng.choices(options, weights=range(len(options) + 1, 1, -1))[0]
    if question.type == "multiple":
        return "|".join(rng.sample(options, rng.randint(1, len(options))))
    if question.type == "likert":
        weights = [1, 2, 4, 6, 4] if question.scale == 5 else [1] * question.scale
        return str(rng.choices(range(1, question.scale + 1), weights=weights)[0])
    if question.type == "number":
        return str(rng.randint(1, 10))
    comment = rng.choice(COMMENTS)
    return comment or ("-" if question.required else "")


def _decision(plan: CampaignPlan, *, revised: bool) -> dict[str, Any]:
    impact = (
        [
            {
                "audience": a.id,
                "impact": {
                    "ar": f"تعالج خطة العمل احتياجات {a.name.ar}.",
                    "en": f"Addressed in the action plan for {a.name.en.lower()}.",
                },
            }
            for a in plan.audiences
        ]
        if revised
        else []
    )
    return {
        "summary": {
            "ar": f"اعتماد نتائج «{plan.title.ar}» وتنفيذ التحسينات ذات الأولوية",
            "en": f"Adopt the results of '{plan.title.en}' and carry out the priority improvements",
        },
        "rationale": {
            "ar": "جاء القرار بناءً على آراء المشاركين وتحليل النتائج لكل فئة",
            "en": "The decision follows the participants' opinions and the results for each group",
        },
        "not_adopted": {
            "ar": "بعض المقترحات تتطلب تعديلات تشريعية أو ميزانية غير متاحة هذا العام",
            "en": "Some proposals need legal changes or a budget not available this year",
        },
        "based_on_contributions": True,
        "impact": impact,
        "expected_impact": {
            "ar": "انخفاض عدد الطلبات غير المكتملة وتقليص مدة إنجاز المعاملات خلال الربعين القادمين.",
            "en": "Fewer incomplete requests and shorter processing times within two quarters.",
        },
    }


def _lessons() -> dict[str, Any]:
    return {
        "method_understood": {
            "ar": "نعم؛ اتبع الفريق المراحل الست، وأسهمت قوائم التحقق عند بوابات الاعتماد في ذلك.",
            "en": "Yes; the team followed the six stages, and the gate checklists helped.",
        },
        "participation_drivers": {
            "ar": "اللافتات الإعلانية في بوابة الخدمات والتذكير عبر المجالس الطلابية.",
            "en": "Banners on the services portal and reminders through student councils.",
        },
        "channels_served": {
            "ar": "كان الموقع الإلكتروني القناة الأنجع، واستقطبت وسائل التواصل الاجتماعي مشاركين أصغر سناً.",
            "en": "The website served best; social media brought younger participants.",
        },
        "contributions_useful": {
            "ar": "نعم؛ أشارت التعليقات إلى خطوة رفع المستندات، وهي ما يعالجه القرار.",
            "en": "Yes; the comments pointed at the upload step, which the decision fixes.",
        },
        "lessons": [
            {
                "ar": "فتح باب المشاركة خارج فترة الامتحانات.",
                "en": "Open the window outside the examination period.",
            },
            {
                "ar": "نشر عدد المشاركات في منتصف الفترة للحفاظ على زخم المشاركة.",
                "en": "Publish a mid-window count to keep momentum.",
            },
        ],
        "improvements": [
            {"ar": "إضافة قناة الرسائل النصية القصيرة لأولياء الأمور.", "en": "Add an SMS channel for parents."},
            {"ar": "اختصار الاستبانة بحيث لا تتجاوز خمس دقائق.", "en": "Shorten the questionnaire to five minutes."},
        ],
    }


def _demo_plans(folder: Path) -> dict[str, Path]:
    """A copy of the sample plans whose approvers have fresh demo keys, used for the rest of this process.

    The demo replays the shipped 2025 programme whatever the workspace's own plans say; the shipped
    registry holds no private keys' partners, so the demo signs with keys of its own.
    """
    plans = folder / "plans"
    if plans.exists():
        shutil.rmtree(plans)
    copy_sample_plans(plans)
    yaml = YAML()
    registry = yaml.load(plans / "approvers.yaml")
    keys: dict[str, Path] = {}
    (folder / "keys").mkdir(exist_ok=True)
    for approver in registry["approvers"]:
        pem, public = new_key_pair(None)
        path = folder / "keys" / f"{approver['id']}.pem"
        path.unlink(missing_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(pem)
        approver["keys"] = [
            {"id": f"{approver['id']}-demo", "public": public, "valid_from": "2025-01-01T00:00:00+04:00"}
        ]
        keys[approver["id"]] = path
    with (plans / "approvers.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(registry, handle)
    os.environ["MUSHARAKA_PLANS_DIR"] = str(plans)  # the flows of this process read plans from here
    get_settings.cache_clear()
    first = records.load_plan_set().registry
    assert first is not None
    governance.write_root(first)  # the registry's first version, pinned as `musharaka people pin-registry` does
    return keys


def _registry_grows(keys: dict[str, Path]) -> PlanSet:
    """The State Audit Institution's auditor joins the registry: the file is edited, and its administrator signs
    the new version as `musharaka people sign-registry` does; it takes effect when next used."""
    path = get_settings().plans_dir / "approvers.yaml"
    yaml = YAML()
    registry = yaml.load(path)
    registry["approvers"].append(
        {
            "id": "state.audit",
            "name": {"ar": "مدقق جهاز الرقابة المالية والإدارية للدولة", "en": "State Audit Institution auditor"},
            "duties": ["auditor"],
        }
    )
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(registry, handle)
    plans = records.load_plan_set()
    assert plans.registry is not None
    administrator = "it.administrator"
    unsigned = RegistrySignature(registry_digest=file_digest(plans.registry), person=administrator, public_key="")
    governance.add_signature(sign(unsigned, load_private(keys[administrator], None)))
    return plans


def _raised_signals(plans: PlanSet, campaign_ids: list[str]) -> list[str]:
    """One line per signal raised in a started campaign: what the approvers see beside its register."""
    lines = []
    with session_scope() as session:
        for campaign_id in campaign_ids:
            if session.get(CampaignState, campaign_id) is None:
                continue
            view = risks.risk_view(plans, campaign_id, AS_OF, session=session)
            for check in (c for c in view.checks if c.check.state == "raised"):
                unplanned = "" if check.planned else " [not in the register]"
                lines.append(f"  {campaign_id}: {check.kind_name.en}{unplanned}. {check.said.en}")
    return lines


def publish_open_data(plans: PlanSet, campaign_id: str, folder: Path) -> Path:
    """The closed campaign's open-data package, as `musharaka publish` writes it."""
    from musharaka.flows.render import opendata as package
    from musharaka.flows.views import opendata

    with session_scope() as session:
        facts = opendata.facts(plans, campaign_id, session=session)
    return package.write_package(facts, folder).folder


def run_demo(*, reset: bool, echo: Callable[[str], None]) -> None:
    """Replay the 2025 programme into the configured database and print the status table."""
    settings = get_settings()
    if not settings.plans_dir.exists():  # an empty folder: it becomes a workspace first
        for line in lay_out(settings.home):
            echo(line)
    db = get_engine()
    if reset:  # first, so a database of an older schema is replaced rather than refused
        reset_tables(db)
    with session_scope() as session:
        existing = session.exec(select(func.count()).select_from(Event)).one()
    if existing:
        raise records.Refused(
            f"the database {shown_url(settings.database_url)} already holds {existing} events; "
            "run `musharaka demo --reset` to replace them with the demo"
        )
    folder = settings.output_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    keys = _demo_plans(folder)
    plans = records.load_plan_set()
    runtime.configure_prefect()
    from musharaka.flows.lifecycle import in_process

    demo = Demo(plans, keys, folder, echo)
    echo(f"Replaying the 2025 programme into {shown_url(settings.database_url)} ...")
    with in_process():
        demo.run_to_closed("moheri-2025-q1-chatbot-name", at("2025-01-12"), 640, rework=False)
        demo.plans = plans = _registry_grows(keys)
        echo("The people registry gains the State Audit Institution's auditor, signed by its administrator")
        demo.run_to_closed("moheri-2025-q3-satisfaction", at("2025-06-15"), 460, rework=True)
        demo.run_to_conduct(
            "moheri-2025-q2-gpa-poll",
            at("2025-04-13"),
            310,
            at("2025-09-15"),
            ("2025-09-30", "Reach more students and parents after the diploma results"),
        )
        demo.run_to_conduct("moheri-2025-q3-video-call", at("2025-07-20"), 140, at("2025-09-15"))
    chatbot, satisfaction = "moheri-2025-q1-chatbot-name", "moheri-2025-q3-satisfaction"
    demo.follow_up(chatbot, at("2025-03-16"), "planned", None, "Name and persona handed to the portal team")
    demo.follow_up(chatbot, at("2025-04-06"), "in-progress", 60, "Chatbot renamed in the test environment")
    demo.follow_up(
        chatbot,
        at("2025-05-11"),
        "implemented",
        None,
        "The chatbot answers under its new name",
        "https://www.moheri.gov.om/",
    )
    demo.follow_up(satisfaction, at("2025-09-18"), "in-progress", 40, "Upload step redesigned; testing with students")
    published = publish_open_data(plans, satisfaction, settings.output_dir / "open-data" / satisfaction)
    with session_scope() as session:
        rows = overview.status_rows(plans, now=AS_OF, session=session)
    echo(f"\nProgramme status as of {AS_OF:%Y-%m-%d %H:%M} Muscat time:\n")
    echo(tables.status_table(rows, AS_OF, current()))
    echo(f"\nRisk signals raised as of {AS_OF:%Y-%m-%d %H:%M} Muscat time (musharaka risks CAMPAIGN):\n")
    for line in _raised_signals(plans, [row.campaign for row in rows]):
        echo(line)
    echo(f"\nDocuments: {settings.output_dir}/<campaign>/   Demo inputs: {folder}/")
    echo(f"Open data of {satisfaction} (musharaka publish): {published}/")
    echo(
        "Next: musharaka history moheri-2025-q3-satisfaction; musharaka decisions; musharaka kpis --period 2025-H1; "
        "musharaka comms list moheri-2025-q1-chatbot-name"
    )
