"""The engine's reasons in the reader's language: every reason below is made by running the engine on a crafted bad
file, row or log (never typed here), then said in Arabic, worked out by hand; the English the terminal prints is
unchanged. And an Arabic page of the workspace shows no word in Latin script outside ids, file names and values.
"""

import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from musharaka.flows.engine import records, submissions
from musharaka.flows.ingest import ingestion
from musharaka.flows.ingest.columns import default_channel, layout
from musharaka.flows.ingest.contributions import Context, chunks_of, prepare
from musharaka.flows.ingest.sources import open_export
from musharaka.flows.planfiles.loading import PlanSet, load_plans
from musharaka.flows.render import reasons
from musharaka.stages.plans import CampaignPlan, Window
from musharaka.state.audit import file_reader, verify_database
from musharaka.state.db import session_scope
from musharaka.state.settings import get_settings
from musharaka.state.tables import CampaignState
from tests.conftest import Workspace, make_workspace
from tests.flows.samples import CAMPAIGN
from tests.state.test_audit import rewrite_payload
from tests.web.software_passkey import SoftwarePasskey
from tests.web.test_sessions import csrf_of, sign_in

REPO_PLANS = Path(__file__).resolve().parents[2] / "plans"
SAMPLE = REPO_PLANS / "campaigns" / f"{CAMPAIGN}.yaml"
HEADER = "submitted_at,channel,audience,overall,services-used,ease,improve\n"
GOOD = "2025-07-08T10:00:00+04:00,website,students,4,admission,easy,\n"


def text_of(html: str) -> str:
    """What a reader sees: tags and Unicode isolates dropped, spaces squeezed."""
    seen = unescape(re.sub(r"<[^>]+>", "", html)).replace("\u2068", "").replace("\u2069", "")
    return re.sub(r"\s+", " ", seen).strip()


# --- a page's words: no Latin script outside ids, file names and values ---------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


class _Words(HTMLParser):
    """The page's visible text outside any element marked left-to-right (`dir="ltr"`, which ids, file names and
    values carry) and outside scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[bool] = []  # per open element: whether its text is exempt
        self.latin: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        exempt = dict(attrs).get("dir") == "ltr" or tag in ("script", "style", "code", "pre")
        self.open.append(exempt or (bool(self.open) and self.open[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not (self.open and self.open[-1]):
            self.latin += LATIN_WORD.findall(data)


def latin_words(html: str, allowed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Every word in Latin script a reader meets on the page outside ids, file names and values; `allowed`, the
    words the page may show as themselves (a campaign id in a sentence, a product's name)."""
    reader = _Words()
    reader.feed(html)
    return [word for word in reader.latin if word not in allowed]


def test_the_check_finds_an_english_word_and_passes_ids_and_values() -> None:
    page = (
        '<p>لم يُسجَّل شيء <bdi dir="ltr">moheri-2025</bdi></p><td dir="ltr">export.csv</td>'
        "<p>The engine refused</p><script>var x = 1;</script><input value=\"x\"><p>تم <bdi>oops</bdi></p>"
    )
    assert latin_words(page) == ["The", "engine", "refused", "oops"]


# --- a quarantined row's reasons ---------------------------------------------------------------------------------


def plan_from(change: Any = None) -> CampaignPlan:
    """The sample satisfaction survey's plan, changed by `change` (a function of its YAML tree)."""
    tree = YAML(typ="safe").load(SAMPLE.read_text(encoding="utf-8"))
    if change is not None:
        change(tree)
    return CampaignPlan.model_validate(tree)


def quarantined(plan: CampaignPlan, text: str, tmp_path: Path) -> list[str]:
    """What the engine's ingestion writes for each bad row of `text`, a CSV export, as it quarantines it."""
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    export = open_export(path)
    found = layout(export, plan)
    context = Context(plan, plan.window, default_channel(plan, None, export, found), b"\x01" * 32)
    said = []
    for first, chunk in chunks_of(export):
        for held in prepare(chunk, first, found, context).quarantined:
            said += held["reasons"].splitlines()
    return said


def held_as(reason: str, lang: str = "ar") -> tuple[str, str]:
    where, expected = reasons.quarantine_reason(reason, lang)
    assert expected.ours, reason
    return text_of(where), text_of(str(expected.html))


AUDIENCES = "['education-institutions', 'innovators', 'research-institutions', 'researchers', 'students']"


@pytest.mark.parametrize(
    ("row", "field", "arabic"),
    [
        (
            "2025-07-08T10:00:00+04:00,website,aliens,4,admission,easy,",
            "الفئة المستهدفة",
            f"إحدى الفئات المستهدفة {AUDIENCES}",
        ),
        ("2025-07-08T10:00:00+04:00,fax,students,4,admission,easy,", "القناة", "إحدى القيم ['website', 'e-survey']"),
        ("2025-07-08T10:00:00+04:00,website,students,4,admission,meh,", "ease", "إحدى القيم ['easy', 'acceptable', 'hard']"),
        (
            "2025-07-08T10:00:00+04:00,website,students,4,nothing,easy,",
            "services-used",
            "خيارات من بين ['admission', 'equivalency', 'scholarships', 'research-funding']",
        ),
        ("2025-07-08T10:00:00+04:00,website,students,x,admission,easy,", "overall", "رقم"),
        ("2025-07-08T10:00:00+04:00,website,students,7,admission,easy,", "overall", "عدد صحيح من 1 إلى 5"),
        ("2025-07-08T10:00:00+04:00,website,students,4,admission,,", "ease", "إجابة، فالسؤال إلزامي"),
        ("yesterday,website,students,4,admission,easy,", "submitted_at", "تاريخ ووقت بالصيغة Y-m-dTH:M:Sz"),
        (
            "2025-08-15T10:00:00+04:00,website,students,4,admission,easy,",
            "submitted_at",
            "وقت يقع ضمن فترة المشاركة، من 2025-07-06 إلى 2025-08-14 (بتوقيت Asia/Muscat)",
        ),
    ],
)
def test_each_reason_a_row_of_the_survey_is_quarantined_for_is_said_in_arabic(
    row: str, field: str, arabic: str, tmp_path: Path
) -> None:
    [reason] = quarantined(plan_from(), HEADER + GOOD + row + "\n", tmp_path)
    assert held_as(reason) == (field, arabic)
    cell = reason.split(", found ", 1)[1].strip("'[]")
    assert cell not in " ".join(held_as(reason))  # the cell is the participant's: the page leaves it out


def with_numbers(tree: dict[str, Any]) -> None:
    """The survey's `overall` as a number from 18 to 99, and two more: one with a floor only, one with a ceiling."""
    overall = next(q for q in tree["instrument"] if q["id"] == "overall")
    overall.update(type="number", minimum=18, maximum=99)
    title = {"ar": "عدد", "en": "Count"}
    tree["instrument"] += [
        {"id": "floor", "type": "number", "title": title, "minimum": 0, "required": False},
        {"id": "ceiling", "type": "number", "title": title, "maximum": 10.5, "required": False},
    ]


@pytest.mark.parametrize(
    ("cells", "arabic"),
    [
        ("17,,", "رقم من 18 إلى 99"),
        ("20,-1,", "رقم لا يقل عن 0"),
        ("20,,11", "رقم لا يزيد على 10.5"),
    ],
)
def test_a_number_outside_its_bounds_is_said_with_the_bounds(cells: str, arabic: str, tmp_path: Path) -> None:
    header = HEADER.strip() + ",floor,ceiling\n"
    row = "2025-07-08T10:00:00+04:00,website,students,{},admission,easy,,{},{}\n"
    overall, floor, ceiling = cells.split(",")
    [reason] = quarantined(plan_from(with_numbers), header + row.format(overall, floor, ceiling), tmp_path)
    assert held_as(reason)[1] == arabic


def with_ballot(tree: dict[str, Any]) -> None:
    """A participatory budget (as tests.flows.test_ingest's district budget): projects n1, n2 in the north, s1, s2
    in the south; at most 3 projects a ballot, 1 of the north."""
    tree["kind"], tree["level"], tree["kpis"], tree["ingest"] = "participatory-budget", "decision-making", [], {}
    projects = [("n1", 4, "north"), ("n2", 3, "north"), ("s1", 4, "south"), ("s2", 2, "south")]
    options = [{"id": i, "label": {"ar": f"مشروع {i}", "en": f"Project {i}"}, "cost": c, "area": a} for i, c, a in projects]
    tree["instrument"] = [{"id": "projects", "type": "ballot", "title": {"ar": "المشاريع", "en": "Projects"}, "options": options}]
    areas = [
        {"id": "north", "name": {"ar": "الشمال", "en": "North"}, "total": 5, "max_projects": 1},
        {"id": "south", "name": {"ar": "الجنوب", "en": "South"}, "total": 4},
    ]
    tree["analysis"] = {
        "budget": {
            "question": "projects",
            "total": 9,
            "vote_type": "cumulative",
            "rule": "greedy",
            "max_projects": 3,
            "areas": areas,
        }
    }


@pytest.mark.parametrize(
    ("ballot", "arabic"),
    [
        ("zz", "مشاريع من بين ['n1', 'n2', 's1', 's2']"),
        ("n1:x", "نقاط مكتوبة رقمًا"),
        ("s1|s2|n1|s1", "ألّا يتجاوز عدد المشاريع في ورقة الاقتراع الواحدة 3"),
        ("n1|n2", "ألّا يتجاوز عدد مشاريع المنطقة north في ورقة الاقتراع الواحدة 1"),
    ],
)
def test_a_ballot_beyond_the_budget_is_said_with_its_limit(ballot: str, arabic: str, tmp_path: Path) -> None:
    text = f"submitted_at,channel,audience,projects\n2025-07-10T10:00:00+04:00,website,students,{ballot}\n"
    [reason] = quarantined(plan_from(with_ballot), text, tmp_path)
    assert held_as(reason) == ("projects", arabic)


def test_a_reason_no_pattern_knows_is_shown_marked_as_the_engine_words() -> None:
    where, said = reasons.quarantine_reason("overall: expected a haiku, found 'x'", "ar")
    assert not said.ours and text_of(str(said.html)) == "بعبارة المحرّك: a haiku"
    assert 'dir="ltr" lang="en"' in str(said.html)
    assert text_of(str(reasons.quarantine_reason("overall: expected a haiku, found 'x'", "en")[1].html)) == "a haiku"


# --- a plan file's problems --------------------------------------------------------------------------------------


def problems_of(text: str, tmp_path: Path) -> list[Any]:
    """What the engine's plan loader finds in `text`, a campaign plan file, as the upload checks it."""
    path = tmp_path / "campaign-plan.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = load_plans([path], registry_fallback=REPO_PLANS / "approvers.yaml")
    return problems


def swap(old: str, new: str) -> Any:
    def change(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return change


LEVELS = "'information', 'consultation' or 'decision-making'"


@pytest.mark.parametrize(
    ("change", "field", "expected", "found"),
    [
        (swap("level: consultation\n", ""), "level", "هذا المفتاح", "المفتاح غير موجود"),
        (swap("level: consultation", "level: chatter"), "level", f"إحدى القيم {LEVELS}", "'chatter'"),
        (
            swap("level: consultation", "level: consultaton"),
            "level",
            f"إحدى القيم {LEVELS} (هل المقصود 'consultation'؟)",
            "'consultaton'",
        ),
        (swap("quarter: 2025-Q3", "quarter: 2025-Q5"), "quarter", "ربع سنة مثل 2025-Q3", "'2025-Q5'"),
        (
            swap(f"id: {CAMPAIGN}", "id: Moheri X"),
            "id",
            "مُعرِّف من حروف لاتينية صغيرة وأرقام والرموز «.» و«_» و«-»",
            "'Moheri X'",
        ),
        (swap("scale: 5", "scale: five"), "instrument.0.scale", "عدد صحيح", "'five'"),
        (swap("opens: 2025-07-06", "opens: 2025-02-30"), "window.opens", "تاريخ مثل 2025-07-06", "'2025-02-30'"),
        (
            swap("timezone: Asia/Muscat", "timezone: Mars/Base"),
            "window.timezone",
            "اسم منطقة زمنية مثل Asia/Muscat",
            "'Mars/Base'",
        ),
        (
            swap("closes: 2025-08-14", "closes: 2025-07-01"),
            "window.closes",
            "تاريخ إغلاق في يوم الافتتاح 2025-07-06 أو بعده",
            "2025-07-01",
        ),
        (
            lambda t: swap("closes: 2025-08-14", "closes: 2025-10-14")(swap("opens: 2025-07-06", "opens: 2025-10-06")(t)),
            "window.opens",
            "تاريخ افتتاح ضمن الربع 2025-Q3 (من 2025-07-01 إلى 2025-09-30)",
            "2025-10-06",
        ),
        (
            swap("owner: planning.team", "owner: nobody.here"),
            "owner",
            "شخص مسجَّل في سجل الأشخاص approvers.yaml",
            "'nobody.here'",
        ),
        (swap("required: false", "required: maybe"), "instrument.3.required", "true أو false", "'maybe'"),
        (swap("channels: [website, e-survey]", "channels: website"), "channels", "قائمة", "'website'"),
        (swap("  - id: ease\n", "  - id: overall\n"), "instrument.2.id", "مُعرِّف لا يتكرر", "'overall' مرة أخرى"),
        (lambda t: "", "(file)", "خطة حملة", "ملف فارغ"),
        (lambda t: "\x00", "(file)", "خطة حملة في نص بترميز UTF-8", "بيانات ثنائية لا نص"),
        (lambda t: "- a\n- b\n", "(file)", "خطة حملة، أي مجموعة مفاتيح وقيمها", "قائمة"),
        (lambda t: t + "objectiv: x\n", "objectiv", None, "مفتاح لا يعرفه الملف (هل المقصود 'objective'؟)"),
        (lambda t: t + "colour: blue\n", "colour", None, "مفتاح لا يعرفه الملف"),
    ],
)
def test_each_problem_of_a_plan_file_is_said_in_arabic_at_its_field(
    change: Any, field: str, expected: str | None, found: str, tmp_path: Path
) -> None:
    [problem] = problems_of(change(SAMPLE.read_text(encoding="utf-8")), tmp_path)
    said, held = reasons.plan_problem(problem, "ar")
    assert problem.field == field and said.ours and held.ours, problem
    if expected is None:  # an unknown key: every key the plan has, in the schema's order
        assert text_of(str(said.html)).startswith("أحد المفاتيح id, title, level, sector, kind, owner, quarter,")
    else:
        assert text_of(str(said.html)) == expected
    assert text_of(str(held.html)) == found
    english, _ = reasons.plan_problem(problem, "en")
    assert problem.message.startswith(("expected ", "unknown key")) and english.ours  # the engine's own words
