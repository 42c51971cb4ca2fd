"""Prose people write reaches each reader in their language, or visibly marked as not translated; `validate`
warns about every prose given in one language only."""

import re
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from musharaka.flows.render import documents
from musharaka.flows.render.prose import in_language
from musharaka.stages import plan as plan_stage
from musharaka.stages import prepare
from musharaka.stages.plans import CampaignPlan
from musharaka.state.settings import package_folder
from tests.conftest import Workspace
from tests.stages.plans_fixture import SATISFACTION, changed

NOW = datetime(2025, 6, 16, tzinfo=UTC)
SAMPLE = package_folder("musharaka.plans") / "campaigns" / "moheri-2025-q3-satisfaction.yaml"
ENGLISH_ONLY = "Measure what matters to students, per service."


def rendered(plan: CampaignPlan, stage: str, lang: str) -> str:
    prepared = prepare.run(prepare.Inputs(), plan, NOW)
    if stage == "prepare":
        return documents.render("prepare", prepared, plan, attempt=1, lang=lang, now=NOW)
    outputs = plan_stage.run(plan_stage.Inputs(prepare=prepared), plan, NOW)
    return documents.render("plan", outputs, plan, attempt=1, lang=lang, now=NOW)


class Marked(HTMLParser):
    """Each element's attributes with the text directly inside it, and the text that follows it."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[dict[str, str | None], list[str]]] = []
        self._open: list[tuple[dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element: tuple[dict[str, str | None], list[str]] = ({"tag": tag, **dict(attrs)}, [])
        self.elements.append(element)
        if tag not in ("meta", "br", "link"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)


def test_a_text_in_the_other_language_only_is_shown_in_its_own_language_and_marked() -> None:
    assert in_language({"en": "Upload <redesigned>"}, "ar", "(غير مترجم)") == (
        '<span lang="en" dir="ltr">Upload &lt;redesigned&gt;</span> <small class="untranslated">(غير مترجم)</small>'
    )
    assert in_language("إعادة تصميم خطوة الرفع", "en", "(not translated)") == (
        '<span lang="ar" dir="rtl">إعادة تصميم خطوة الرفع</span> <small class="untranslated">(not translated)</small>'
    )
    assert in_language({"ar": "نص", "en": "text"}, "en", "(not translated)") == "text"


def test_the_arabic_plan_shows_an_english_only_field_inside_lang_en_with_the_mark() -> None:
    section = SATISFACTION.plan.model_dump(mode="json")
    section["detailed_objective"] = ENGLISH_ONLY
    plan = changed(SATISFACTION, plan=section)
    parser = Marked()
    parser.feed(rendered(plan, "plan", "ar"))
    spans = [(attrs, "".join(text)) for attrs, text in parser.elements if "".join(text) == ENGLISH_ONLY]
    assert [(attrs["tag"], attrs.get("lang"), attrs.get("dir")) for attrs, _ in spans] == [("span", "en", "ltr")]
    marks = [("".join(text), attrs.get("class")) for attrs, text in parser.elements if attrs["tag"] == "small"]
    assert marks == [("(غير مترجم)", "untranslated")]
    english = rendered(plan, "plan", "en")
    assert f"<p>{ENGLISH_ONLY}</p>" in english and "untranslated" not in english


def _pairs(node: Any) -> list[tuple[str, str]]:
    """Every {ar, en} pair written in a plan file, read from the YAML itself."""
    if isinstance(node, dict):
        if set(node) == {"ar", "en"}:
            return [(node["ar"], node["en"])]
        return [pair for value in node.values() for pair in _pairs(value)]
    if isinstance(node, list):
        return [pair for value in node for pair in _pairs(value)]
    return []


def test_a_bilingual_plan_reads_in_arabic_without_its_english_prose() -> None:
    written = YAML(typ="safe").load(SAMPLE.read_text(encoding="utf-8"))
    prose = _pairs({"audiences": written["audiences"], "prepare": written["prepare"], "plan": written["plan"]})
    assert len(prose) > 30  # the readiness answers, the plan's prose, the audiences' names…
    shown = {stage: unescape(rendered(SATISFACTION, stage, "ar")) for stage in ("prepare", "plan")}
    english = [en for _, en in prose if any(en in text for text in shown.values())]
    assert english == []
    assert not any("غير مترجم" in text or '<span lang="en"' in text for text in shown.values())
    assert "الترويج عبر وسائل التواصل الاجتماعي" in shown["plan"]  # a budget item
    assert "الأوساط الأكاديمية" in shown["plan"] and "(academia)" not in shown["plan"]  # the engine's own word
    assert "ر.ع." in shown["plan"] and "OMR" not in shown["plan"]


LOCATED = re.compile(r"^(?P<file>\S+):(?P<line>\d+):(?P<col>\d+): (?P<field>\S+): (?P<message>.+)$")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _line(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in text)


def test_validate_warns_per_language_about_prose_in_one_language_only(ws: Workspace) -> None:
    plan = ws.plans / "campaigns" / "moheri-2025-q3-satisfaction.yaml"
    _edit(plan, "    - {ar: تذكير عبر المجالس الطلابية, en: Reminder through student councils}\n",
          "    - Reminder through student councils\n")  # fmt: skip
    _edit(plan, "      role: {ar: تنقل الاستطلاع إلى طلبتها, en: relay the survey to their students}\n",
          "      role: {ar: تنقل الاستطلاع إلى طلبتها}\n")  # fmt: skip
    _edit(plan, "    en: Measure overall satisfaction, ease of use and the services used, per beneficiary group, and "
          "collect improvement proposals.\n", "")  # fmt: skip
    result = ws.run("validate", str(ws.plans))
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.startswith("ok: 6 campaign plan(s)")
    lines = [line.removeprefix("warning: ") for line in result.stderr.splitlines()]  # every line is a warning
    assert all(line.startswith("warning: ") for line in result.stderr.splitlines())
    assert [line for line in lines if not LOCATED.match(line)] == [
        "1 text(s) not translated into Arabic:",
        "2 text(s) not translated into English:",
    ]
    found = [(m["file"], int(m["line"]), m["field"], m["message"]) for m in map(LOCATED.match, lines) if m]
    into_arabic, into_english = "not translated into Arabic", "not translated into English"
    assert found == [
        (str(plan), _line(plan, "- Reminder through student councils"), "plan.reach.2", into_arabic),
        (str(plan), _line(plan, "قياس الرضا العام"), "plan.detailed_objective", into_english),
        (str(plan), _line(plan, "role: {ar: تنقل الاستطلاع"), "plan.stakeholders.1.role", into_english),
    ]
    assert lines[0] == "1 text(s) not translated into Arabic:" and LOCATED.match(lines[1])


def test_a_submission_in_one_language_is_recorded_with_a_warning_naming_each_text(ws: Workspace) -> None:
    started = ws.run("start", "moheri-2025-q3-satisfaction", "--no-advance", now="2025-06-15T09:00+04:00")
    assert started.exit_code == 0, started.stderr
    answers = ws.write(
        "readiness.yaml",
        "management_support: {ar: المدير العام يرعى الحملة, en: The director general sponsors it}\n"
        "audience_readiness: Students use the portal weekly\n",
    )
    result = ws.run("submit", "moheri-2025-q3-satisfaction", "prepare", str(answers), now="2025-06-15T10:00+04:00")
    assert result.exit_code == 0, result.stderr
    assert "prepare submission recorded (readiness.yaml)" in result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {answers}:2:21: audience_readiness: not translated into Arabic"]
