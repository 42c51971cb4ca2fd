"""The engine's reasons in the reader's language: every reason below is made by running the engine on a crafted bad
file, row or log (never typed here), then said in Arabic, worked out by hand; the English the terminal prints is
unchanged. And an Arabic page of the workspace shows no word in Latin script outside ids, file names and values.
"""

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from musharaka.flows.engine import campaigns, governance, records, submissions
from musharaka.flows.ingest import ingestion
from musharaka.flows.ingest.columns import default_channel, layout
from musharaka.flows.ingest.contributions import Context, chunks_of, prepare
from musharaka.flows.ingest.sources import open_export
from musharaka.flows.planfiles.loading import PlanSet, load_plans
from musharaka.flows.render import reasons
from musharaka.stages.plans import CampaignPlan, Window
from musharaka.state.audit import file_reader, verify_database
from musharaka.state.db import session_scope
from musharaka.state.seal import local_fingerprint
from musharaka.state.settings import get_settings
from musharaka.state.tables import CampaignState
from tests.conftest import Workspace, make_workspace
from tests.flows.samples import CAMPAIGN
from tests.state.test_audit import copy_of, forge_text, rewrite_payload, rows
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
ISOLATED = re.compile("[\u2066\u2067\u2068][^\u2069]*\u2069")  # a value isolated in plain text


class _Words(HTMLParser):
    """The page's visible text outside the values it isolates (a `<bdi>`, an element marked `dir="ltr"` as ids and
    file names are, text between Unicode's isolate marks), people's own words (`dir="auto"`), the link that
    switches to English (named in English), and scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[bool] = []  # per open element: whether its text is exempt
        self.latin: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        given = dict(attrs)
        exempt = (
            given.get("dir") in ("ltr", "auto")
            or tag in ("bdi", "script", "style", "code", "pre")
            or (tag == "a" and (given.get("href") or "").startswith("/lang/"))
        )
        self.open.append(exempt or (bool(self.open) and self.open[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not (self.open and self.open[-1]):
            self.latin += LATIN_WORD.findall(ISOLATED.sub(" ", data))


def latin_words(html: str, allowed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Every word in Latin script a reader meets on the page outside ids, file names and values; `allowed`, the
    words the page may show as themselves (a campaign id in a sentence, a product's name)."""
    reader = _Words()
    reader.feed(html)
    return [word for word in reader.latin if word not in allowed]


def test_the_check_finds_an_english_word_and_passes_ids_and_values() -> None:
    page = (
        '<p>لم يُسجَّل شيء <bdi dir="ltr">moheri-2025</bdi></p><td dir="ltr">export.csv</td>'
        '<p>The engine refused</p><script>var x = 1;</script><input value="x"><p>تم <bdi>a value</bdi></p>'
        '<a href="/lang/en" lang="en">English</a><td dir="auto">as the approver wrote it</td><a href="/x">Go</a>'
        "<td>رفض \u2068dg.planning\u2069 المرحلة، and then</td>"
    )
    assert latin_words(page) == ["The", "engine", "refused", "Go", "and", "then"]


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
        (
            "2025-07-08T10:00:00+04:00,website,students,4,admission,meh,",
            "ease",
            "إحدى القيم ['easy', 'acceptable', 'hard']",
        ),
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
    options = [
        {"id": i, "label": {"ar": f"مشروع {i}", "en": f"Project {i}"}, "cost": c, "area": a} for i, c, a in projects
    ]
    tree["instrument"] = [
        {"id": "projects", "type": "ballot", "title": {"ar": "المشاريع", "en": "Projects"}, "options": options}
    ]
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
    assert text_of(where) == "overall"
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
            lambda t: swap("closes: 2025-08-14", "closes: 2025-10-14")(
                swap("opens: 2025-07-06", "opens: 2025-10-06")(t)
            ),
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


# --- a started campaign: refusals, audit findings and the pages ------------------------------------------------

EXPORT = HEADER + GOOD + "2025-07-09T10:00:00+04:00,website,aliens,3,admission,easy,\n"  # row 3: an audience it lacks
REASON = "Add the budget line"


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The survey started on 15 June 2025, its prepare gate rejected on 16 June, then an export ingested: one row
    stored, one quarantined (its audience)."""
    root = tmp_path_factory.mktemp("reasons")
    with pytest.MonkeyPatch.context() as patch:
        ws = make_workspace(root, patch, database=root / "state.db")  # a SQLite file: the tamper tests edit it
        started = ws.run("start", CAMPAIGN, now="2025-06-15T09:00+04:00")
        assert started.exit_code == 0, started.stderr
        rejected = ws.reject(CAMPAIGN, "prepare", "dg.planning", REASON, now="2025-06-16T09:00+04:00")
        assert rejected.exit_code == 0, rejected.stderr
        export = ws.write("survey-export.csv", EXPORT)
        ingested = ws.run("ingest", CAMPAIGN, str(export), now="2025-06-16T10:00+04:00")
        assert "2 rows read = 1 stored + 1 quarantined + 0 duplicates" in ingested.output, ingested.output
        yield root


@pytest.fixture
def home(golden: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """This test's own copy of the workspace."""
    yield copy_of(golden, tmp_path / "home", monkeypatch)


def seq_of(ws: Workspace, kind: str) -> int:
    [(seq,)] = rows(ws, "select min(seq) from event where campaign_id = ? and type = ?", CAMPAIGN, kind)
    return int(seq)


def refusal_of(action: Any) -> str:
    with pytest.raises(records.Refused) as refused, session_scope() as db:
        action(db)
    return str(refused.value)


def said_refused(text: str) -> str:
    said = reasons.refused(text, "ar")
    assert said.ours, text
    return text_of(str(said.html))


def state(**given: Any) -> CampaignState:
    with session_scope() as db:
        found = db.get(CampaignState, CAMPAIGN)
        assert found is not None
        db.expunge(found)
    for name, value in given.items():
        setattr(found, name, value)
    return found


@pytest.mark.prefect
def test_the_engine_refusals_the_campaign_page_meets_are_said_in_arabic(home: Workspace) -> None:
    plans = records.load_plan_set()
    yaml_file = home.write("plan-inputs.yaml", "anything: 1\n")
    no_file = refusal_of(
        lambda db: submissions.submit_file(
            CAMPAIGN, "plan", yaml_file, plans=plans, actor="planning.team", now=datetime.now(UTC), session=db
        )
    )
    assert said_refused(no_file) == ("مرحلة «التخطيط» لا تقبل ملفًا مقدَّمًا، فكل ما تحتاج إليه يُحسَب آليًّا. لم يُسجَّل شيء.")
    unknown = refusal_of(lambda db: records.campaign_state("moheri-2025-q9", session=db))
    assert said_refused(unknown) == "لا توجد حملة بدأت تحمل المُعرِّف moheri-2025-q9. لم يُسجَّل شيء."
    no_plan = refusal_of(lambda db: records.plan_of(PlanSet(), "moheri-2025-q9"))
    assert said_refused(no_plan) == "لا توجد خطة حملة تحمل المُعرِّف moheri-2025-q9. لم يُسجَّل شيء."
    closed = refusal_of(lambda db: ingestion._check_collecting(state(status="closed")))
    assert said_refused(closed) == f"الحملة {CAMPAIGN} مغلقة، فلم يُسجَّل شيء."
    past = refusal_of(lambda db: ingestion._check_collecting(state(stage="analyse", status="running")))
    assert said_refused(past) == (
        f"تجاوزت الحملة {CAMPAIGN} مرحلة «التنفيذ»، فهي الآن في مرحلة «التحليل». لم يُسجَّل شيء."
    )
    reviewing = refusal_of(lambda db: ingestion._check_collecting(state(stage="conduct", status="awaiting-gate")))
    assert said_refused(reviewing) == (
        f"بوابة مرحلة التنفيذ للحملة {CAMPAIGN} مفتوحة: حُسبت مخرجاتها من المساهمات الواردة حتى الآن وهي قيد "
        "المراجعة. ولجمع مساهمات أخرى يلزم تمديد فترة المشاركة. لم يُسجَّل شيء."
    )
    moved = plans.campaigns[CAMPAIGN].model_copy(
        update={"window": Window(opens=date(2025, 7, 6), closes=date(2025, 8, 30), timezone="Asia/Muscat")}
    )
    fixed = refusal_of(
        lambda db: campaigns.record_plan_if_changed(
            moved, state(stage="conduct"), actor="planning.team", now=datetime.now(UTC), session=db
        )
    )
    assert said_refused(fixed) == (
        f"فترة المشاركة في ملف خطة الحملة {CAMPAIGN}، من 2025-07-06 إلى 2025-08-30 (Asia/Muscat)، تختلف عن الفترة "
        "المسجَّلة، من 2025-07-06 إلى 2025-08-14 (Asia/Muscat): فبعد بدء التنفيذ لا تتغير الفترة إلا بتمديد موقَّع. "
        "أعيدوا الفترة في ملف الخطة إلى ما كانت عليه. لم يُسجَّل شيء."
    )
    assert reasons.refused("campaign x: lessons L9 not found", "en").ours is False  # not known: the engine's words


def findings(ws: Workspace) -> list[tuple[str, int, str]]:
    """What `audit verify --campaign` finds, as the auditor's page asks it: contributions and documents too."""
    settings = get_settings()
    with session_scope() as db:
        found, _, _ = verify_database(
            db,
            CAMPAIGN,
            document=file_reader(settings.output_dir),
            root=governance.read_root(),
            engine=local_fingerprint(settings.engine_key_file),
        )
    return [(f.campaign, f.seq, f.what) for f in found]


def said_found(ws: Workspace) -> tuple[int, str]:
    """The first broken event of the campaign's chain and what is wrong with it, in Arabic."""
    [(chain, seq, what)] = findings(ws)
    said = reasons.finding(what, "ar")
    assert chain == CAMPAIGN and said.ours, what
    return seq, text_of(str(said.html))


def document_of(ws: Workspace) -> tuple[int, Path, str]:
    """The first stage document the log records: its event, its file and its language."""
    seq = seq_of(ws, "stage.completed")
    [(payload,)] = rows(ws, "select payload from event where campaign_id = ? and seq = ?", CAMPAIGN, seq)
    [first, *_] = json.loads(payload)["documents"]
    return seq, ws.out / first["path"], first["lang"]


@pytest.mark.prefect
def test_an_untouched_campaign_verifies(home: Workspace) -> None:
    assert findings(home) == []


@pytest.mark.prefect
def test_a_payload_stored_out_of_its_canonical_form_is_said_in_arabic(home: Workspace) -> None:
    seq = seq_of(home, "gate.decided")
    rows(
        home,
        "update event set payload = replace(payload, '\":', '\": ') where campaign_id = ? and seq = ?",
        CAMPAIGN,
        seq,
    )
    assert said_found(home) == (seq, "مضمونه غير محفوظ بصيغته القياسية (JCS)، فلا يستطيع أي مدقق إعادة حساب بصمته")


@pytest.mark.prefect
def test_an_engine_signature_of_another_event_is_said_in_arabic(home: Workspace) -> None:
    [(key, other)] = rows(
        home, "select engine_key, engine_signature from event where campaign_id = ? and seq = 1", CAMPAIGN
    )
    rows(home, "update event set engine_signature = ? where campaign_id = ? and seq = 2", other, CAMPAIGN)
    fingerprint = local_fingerprint(get_settings().engine_key_file)
    assert key and said_found(home) == (
        2,
        f"توقيع المحرّك عليه (بالمفتاح {fingerprint}) لا يثبت: لم يوقّعه المحرّك على حاله هذه",
    )


@pytest.mark.prefect
@pytest.mark.parametrize("change", ["missing", "changed"])
def test_a_missing_or_changed_document_is_said_in_arabic(home: Workspace, change: str) -> None:
    seq, path, lang = document_of(home)
    if change == "missing":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes() + b"<!-- -->")
    shown = path.relative_to(home.out).as_posix()
    which = {"ar": "العربية", "en": "الإنجليزية"}[lang]
    done = "مفقودة" if change == "missing" else "غُيِّرت بعد تسجيلها"
    assert said_found(home) == (seq, f"وثيقته {which} {shown} {done}")


@pytest.mark.prefect
def test_a_forged_decision_fails_its_signature_in_arabic(home: Workspace) -> None:
    seq = seq_of(home, "gate.decided")
    rewrite_payload(home, CAMPAIGN, seq, forge_text)
    assert said_found(home) == (
        seq,
        "توقيع dg.planning لا يثبت: فقد غُيِّر القرار بعد توقيعه، أو وُقِّع بمفتاح آخر",
    )


@pytest.mark.prefect
def test_a_decision_claiming_another_capacity_is_said_in_arabic(home: Workspace) -> None:
    seq = seq_of(home, "gate.decided")
    rewrite_payload(home, CAMPAIGN, seq, lambda body: body.update(capacity="escalation"))
    assert said_found(home) == (
        seq,
        "يسجّل أن dg.planning قرّر بصفة «تصعيد» عن dg.planning، في حين يمنح سجل الأشخاص الذي يستند إليه صفة "
        "«صاحب الصلاحية» عن dg.planning",
    )


@pytest.mark.prefect
def test_a_decision_citing_a_registry_the_log_lacks_is_said_in_arabic(home: Workspace) -> None:
    seq = seq_of(home, "gate.decided")
    rewrite_payload(home, CAMPAIGN, seq, lambda body: body.update(registry_digest="ab" * 32))
    assert said_found(home) == (seq, "يستند إلى سجل الأشخاص abababababab، وهو غير موجود في السجل")


@pytest.mark.prefect
def test_a_rewritten_registry_is_said_in_arabic(home: Workspace) -> None:
    def promote(body: dict[str, Any]) -> None:
        team = next(a for a in body["registry"]["approvers"] if a["id"] == "planning.team")
        team["roles"].append("dg-planning")

    rewrite_payload(home, "_registry", 1, promote)
    [(chain, seq, what), *_] = findings(home)
    assert (chain, seq) == ("_registry", 1)
    assert text_of(str(reasons.finding(what, "ar").html)) == "سجل الأشخاص الذي يسجّله لا يطابق بصمته: فقد غُيِّر السجل"


@pytest.mark.parametrize(
    ("statement", "arabic"),
    [
        (
            "update contribution set audience = 'researchers'",
            "صف المساهمة 1 من هذه الدفعة غُيِّر بعد حفظه",  # the row's id: the database's first and only row
        ),
        (
            "delete from contribution",
            "حُفظ من هذه الدفعة من الصفوف: 1، والموجود منها الآن: 0، ولا تطابق البصمة المختومة: فقد حُذفت صفوف أو "
            "أُضيفت أو استُبدلت",
        ),
        (
            "delete from quarantined_row",
            "عُزل من هذه الدفعة من الصفوف: 1، والموجود منها الآن: 0، ولا تطابق البصمة المختومة: فقد حُذفت صفوف "
            "معزولة أو أُضيفت أو غُيِّرت",
        ),
        (
            "update contribution set withdrawn = 1",
            "صفوف من هذه الدفعة عددها 1 معلَّمة بأنها مسحوبة، ولم يسحبها أي حدث",
        ),
    ],
)
@pytest.mark.prefect
def test_contributions_changed_behind_the_engine_are_said_in_arabic(
    home: Workspace, statement: str, arabic: str
) -> None:
    rows(home, statement)
    assert said_found(home) == (seq_of(home, "contributions.ingested"), arabic)


@pytest.mark.prefect
def test_contribution_rows_of_no_ingestion_are_said_in_arabic(home: Workspace) -> None:
    columns = [name for _, name, *_ in rows(home, "pragma table_info(contribution)") if name != "id"]
    copied = ", ".join("'99'" if c == "batch" else "'other-key'" if c == "row_key" else c for c in columns)
    rows(home, f"insert into contribution ({', '.join(columns)}) select {copied} from contribution")
    [(chain, seq, what)] = findings(home)
    assert (chain, seq) == (CAMPAIGN, 0)
    assert text_of(str(reasons.finding(what, "ar").html)) == "صفوف المساهمات في الدفعة 99 لا يقابلها أي حدث استيراد"


@pytest.mark.prefect
def test_the_findings_the_auditor_page_already_knew_are_still_said_in_arabic(home: Workspace) -> None:
    seq = seq_of(home, "gate.decided")
    rows(
        home,
        "update event set payload = replace(payload, ?, 'Fine') where campaign_id = ? and seq = ?",
        REASON,
        CAMPAIGN,
        seq,
    )
    assert said_found(home) == (seq, "لا يطابق مضمونُه أو مُحدِثُه أو وقتُه أو نوعُه بصمتَه: فقد غُيِّر بعد تسجيله")
    rows(home, "delete from event where campaign_id = ? and seq = ?", CAMPAIGN, seq)
    assert said_found(home) == (seq, f"هو مفقود: يقفز التسلسل من {seq - 1} إلى {seq + 1}")


@pytest.mark.prefect
def test_an_event_without_the_engine_signature_and_a_decision_unlike_its_signature_in_arabic(home: Workspace) -> None:
    seq = seq_of(home, "gate.decided")
    rewrite_payload(home, CAMPAIGN, seq, lambda body: body.update(text="Fine"))
    assert said_found(home) == (seq, "القرار المسجَّل يختلف عمّا وُقِّع")
    rows(home, "update event set engine_signature = '' where campaign_id = ? and seq = 2", CAMPAIGN)
    assert said_found(home) == (2, "لا يحمل توقيع المحرّك: فلم يكتبه المحرّك")


# --- the pages, in Arabic ------------------------------------------------------------------------------------------


def signed_in(client: httpx.Client, url: str, who: str) -> str:
    """Signed in as `who`, in Arabic (the default); the page's CSRF token."""
    key = SoftwarePasskey(who, "localhost", url)
    key.enrol(datetime.now(UTC))
    assert sign_in(client, key).status_code == 200
    return csrf_of(client, f"/campaigns/{CAMPAIGN}")


@pytest.mark.browser
def test_the_campaign_page_and_the_plan_upload_have_no_english_word_in_arabic(
    home: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.web.browser import served

    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        csrf = signed_in(client, url, "planning.team")
        page = client.get(f"/campaigns/{CAMPAIGN}")
        assert page.status_code == 200
        seen = text_of(page.text)
        assert f"إحدى الفئات المستهدفة {AUDIENCES}" in seen and "aliens" not in seen  # row 3's reason, not its cell
        assert "ملف القرار (YAML)، ويُقدَّم في مرحلة التحليل" in seen
        assert latin_words(page.text) == []

        bad = SAMPLE.read_text(encoding="utf-8").replace("level: consultation", "level: chatter", 1)
        upload = client.post(
            "/plans/upload", data={"csrf": csrf}, files={"plan": ("my plan.yaml", bad.encode(), "application/yaml")}
        )
        assert upload.status_code == 422
        assert f"إحدى القيم {LEVELS}" in text_of(upload.text)
        assert latin_words(upload.text) == []

        refused = client.post(
            f"/campaigns/{CAMPAIGN}/stages/plan/upload",
            data={"csrf": csrf, "stage": "plan"},
            files={"file": ("plan-inputs.yaml", b"anything: 1\n", "application/yaml")},
        )
        assert refused.status_code == 409
        assert "مرحلة «التخطيط» لا تقبل ملفًا مقدَّمًا" in text_of(refused.text)
        assert 'class="detail"' not in refused.text  # said in Arabic: no English detail beneath
        assert latin_words(refused.text) == []


@pytest.mark.browser
def test_the_auditor_pages_name_a_broken_event_with_no_english_word_in_arabic(
    home: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.web.browser import served

    seq = seq_of(home, "gate.decided")
    rows(
        home,
        "update event set payload = replace(payload, '\":', '\": ') where campaign_id = ? and seq = ?",
        CAMPAIGN,
        seq,
    )
    with served(monkeypatch) as url, httpx.Client(base_url=url) as client:
        signed_in(client, url, "internal.audit")
        for address in (f"/audit/verify?campaign={CAMPAIGN}", f"/audit/campaigns/{CAMPAIGN}"):
            page = client.get(address)
            assert page.status_code == 200
            seen = text_of(page.text)
            assert "مضمونه غير محفوظ بصيغته القياسية (JCS)" in seen and "بعبارة المحرّك" not in seen
            assert latin_words(page.text) == [], address
