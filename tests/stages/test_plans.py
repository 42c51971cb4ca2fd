"""Plan models: quarters, windows in the campaign's zone, gate policies, prose in one language or both."""

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from musharaka.stages.checks import campaign_problems, untranslated
from musharaka.stages.plans import CampaignPlan, Prose, Readiness, Window
from musharaka.stages.programme import quarter_bounds
from tests.stages.plans_fixture import SATISFACTION, changed


@pytest.mark.parametrize(
    ("quarter", "first", "last"),
    [("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)), ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31))],
)
def test_quarter_bounds(quarter: str, first: date, last: date) -> None:
    assert quarter_bounds(quarter) == (first, last)


@pytest.mark.parametrize(
    ("zone", "opens_utc", "closes_utc"),
    [
        ("Asia/Muscat", datetime(2025, 7, 5, 20, tzinfo=UTC), datetime(2025, 8, 14, 20, tzinfo=UTC)),
        ("UTC", datetime(2025, 7, 6, tzinfo=UTC), datetime(2025, 8, 15, tzinfo=UTC)),
        ("Asia/Riyadh", datetime(2025, 7, 5, 21, tzinfo=UTC), datetime(2025, 8, 14, 21, tzinfo=UTC)),
    ],
)
def test_window_days_are_whole_days_in_the_campaign_zone(zone: str, opens_utc: datetime, closes_utc: datetime) -> None:
    window = Window(opens=date(2025, 7, 6), closes=date(2025, 8, 14), timezone=zone)
    assert (window.opens_at(), window.closes_at()) == (opens_utc, closes_utc)


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected a time zone name such as Asia/Muscat, found 'Asia/Muskat'"):
        Window(opens=date(2025, 7, 6), closes=date(2025, 8, 14), timezone="Asia/Muskat")


def test_stages_without_their_own_policy_take_the_default() -> None:
    assert SATISFACTION.gates.for_stage("prepare").quorum == 1
    assert SATISFACTION.gates.for_stage("analyse").quorum == 2


def test_a_kpi_naming_an_audience_the_plan_lacks_is_a_problem() -> None:
    kpis = [{**SATISFACTION.kpis[1].model_dump(), "audience": "parents"}]
    plan = changed(SATISFACTION, kpis=kpis)
    assert [loc for loc, _ in campaign_problems(plan)] == [("kpis", 0, "audience")]


@pytest.mark.parametrize(
    ("written", "ar", "en", "missing"),
    [
        ({"ar": "لافتة إعلانية", "en": "A banner"}, "لافتة إعلانية", "A banner", ()),
        ({"ar": "لافتة إعلانية"}, "لافتة إعلانية", None, ("en",)),
        ({"en": "A banner"}, None, "A banner", ("ar",)),
    ],
)
def test_prose_takes_both_languages_or_one_marked_with_its_language(
    written: dict[str, str], ar: str | None, en: str | None, missing: tuple[str, ...]
) -> None:
    prose = Prose.model_validate(written)
    assert (prose.ar, prose.en, prose.missing()) == (ar, en, missing)
    assert prose.model_dump() == written  # stored as written: no language it was not given in


@pytest.mark.parametrize(
    ("written", "language"),
    [
        ("Banner on the website's home page", "en"),
        ("لافتة إعلانية في الصفحة الرئيسية", "ar"),
        ("تصويت عن مسمى أيقونة الدردشة (Chatbot) للوزارة", "ar"),  # a Latin name inside Arabic text
        ("A session on Pixl Meet (منصة)", "en"),  # an Arabic word inside English text
        ("2025", "en"),  # no letters at all
    ],
)
def test_a_bare_string_is_one_language_the_one_most_of_its_letters_are_in(written: str, language: str) -> None:
    assert Prose.model_validate(written).model_dump() == {language: written}


@pytest.mark.parametrize("written", ["", "   ", {}, {"ar": "  "}, {"fr": "Bannière"}, 12])
def test_prose_without_a_text_in_arabic_or_english_is_refused(written: object) -> None:
    with pytest.raises(ValidationError):
        Prose.model_validate(written)


def test_a_blank_readiness_answer_is_no_answer() -> None:
    readiness = Readiness.model_validate({"objective": "  ", "management_support": "يرعى المدير العام الاستطلاع"})
    assert readiness.objective is None and readiness.management_support == Prose(ar="يرعى المدير العام الاستطلاع")


def test_every_prose_given_in_one_language_is_listed_with_the_language_it_lacks() -> None:
    section = SATISFACTION.plan.model_dump(mode="json")
    section["detailed_objective"] = "Measure satisfaction per group."
    section["reach"][1] = {"ar": "ملصقات في قاعات الخدمات"}
    section["stakeholders"][0]["role"] = {"en": "runs the digital services"}
    audiences = [a.model_dump(mode="json") for a in SATISFACTION.audiences]
    audiences[0]["traits"] = "طلبة المرحلة الجامعية الأولى"
    plan = changed(SATISFACTION, plan=section, audiences=audiences)
    assert untranslated(plan) == [
        (("audiences", 0, "traits"), "en"),
        (("plan", "detailed_objective"), "ar"),
        (("plan", "stakeholders", 0, "role"), "ar"),
        (("plan", "reach", 1), "en"),
    ]


def test_the_sample_plan_is_complete_in_both_languages() -> None:
    assert untranslated(SATISFACTION) == []


def test_the_schema_offers_both_languages_or_one_string() -> None:
    prose = CampaignPlan.model_json_schema()["$defs"]["Prose"]
    both, one = prose["anyOf"]
    assert both["type"] == "object" and set(both["properties"]) == {"ar", "en"} and both["minProperties"] == 1
    assert one["type"] == "string"
