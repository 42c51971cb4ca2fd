"""Open data of a closed campaign, as tables: small groups held back, participants' words only when allowed."""

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from musharaka.stages import analyse, conduct, datapackage, opendata
from musharaka.stages.plans import Bilingual, OpenDataSection
from tests.stages.plans_fixture import SATISFACTION, changed


def names(en: str, ar: str) -> Bilingual:
    return Bilingual(en=en, ar=ar)


AUDIENCES = {"students": names("Students", "الطلبة"), "researchers": names("Researchers", "الباحثون")}


def facts(policy: OpenDataSection, texts: tuple[tuple[str, str], ...] = ()) -> opendata.Facts:
    """Seven respondents (5 students, 2 researchers) asked one single-choice question and one text question."""
    kpi = conduct.KpiProgress(id="responses", name=names("Responses", "الاستجابات"), target=20, actual=7, share=0.35)
    ease = analyse.QuestionResult(
        id="ease",
        type="single",
        title=names("How easy?", "ما مدى السهولة؟"),
        answered=7,
        counts={"easy": 4, "hard": 3},
        labels={"easy": names("Easy", "سهلة"), "hard": names("Hard", "صعبة")},
        shares={"easy": 0.5714, "hard": 0.4286},
        crosstabs=(
            analyse.CrossTab(
                by="audience",
                respondents={"students": 5, "researchers": 2},
                counts={"students": {"easy": 4, "hard": 1}, "researchers": {"easy": 0, "hard": 2}},
            ),
        ),
    )
    improve = analyse.QuestionResult(id="improve", type="text", title=names("Ideas?", "أفكار؟"), answered=3, counts={})
    words = analyse.TextResult(
        id="improve",
        title=improve.title,
        answered=3,
        themes={"uploads": 2},
        theme_names={"uploads": names("Uploading documents", "رفع المستندات")},
        exact_duplicates=1,
        repeated_texts=1,
        near_duplicates=0,
        near_groups=0,
        terms_ar={},
        terms_en={"upload": 2},
    )
    decision = analyse.Decision(
        summary=names("Simplify uploads", "تبسيط الرفع"),
        rationale=names("Most found it hard", "وجدها الأكثر صعبة"),
        not_adopted=names("Chat needs budget", "الدردشة تحتاج ميزانية"),
        based_on_contributions=True,
    )
    outputs = analyse.Outputs(
        results=(ease, improve),
        kpis=(kpi,),
        texts=(words,),
        total=7,
        decision_method="agency-decides",
        decision=decision,
    )
    held = conduct.Outputs(
        opens_at=datetime(2025, 1, 4, 20, tzinfo=UTC),
        closes_at=datetime(2025, 1, 20, 20, tzinfo=UTC),
        timezone="Asia/Muscat",
        total=7,
        by_channel={"website": 7},
        by_audience={"students": 5, "researchers": 2},
        by_day={"2025-01-05": 7},
        answered={"ease": 7, "improve": 3},
        kpis=(kpi,),
    )
    return opendata.Facts(
        campaign="h1-a",
        title=names("Satisfaction", "الرضا"),
        kind="survey",
        level="consultation",
        sector="education",
        publisher=None,
        opens=date(2025, 1, 5),
        closes=date(2025, 1, 20),
        timezone="Asia/Muscat",
        closed_at=datetime(2025, 1, 24, 5, tzinfo=UTC),
        decided_at=datetime(2025, 1, 21, 8, tzinfo=UTC),
        analysis=outputs,
        participation=held,
        updates=(
            opendata.Update(
                at=datetime(2025, 2, 1, 5, tzinfo=UTC), status="in-progress", percent=40, note="new form", evidence=None
            ),
        ),
        audiences=AUDIENCES,
        channels={"website": names("Website", "الموقع الإلكتروني")},
        approver_roles=("dg-planning",),
        policy=policy,
        texts=texts,
        log_events=30,
        log_head="ab" * 32,
        analysis_digest="cd" * 32,
    )


def table(found: tuple[datapackage.Table, ...], name: str) -> list[dict[str, str]]:
    """A table as a reader of its CSV file sees it."""
    chosen = next(t for t in found if t.name == name)
    return list(csv.DictReader(io.StringIO(datapackage.csv_bytes(chosen).decode("utf-8"))))


@pytest.mark.parametrize(
    ("respondents", "min_group", "held"),
    [
        # none below 5: nothing held back
        ({"students": 5, "researchers": 6}, 5, set()),
        # 1 + 1 = 2 reaches 2: the two small groups are held back, students (3) shown
        ({"students": 3, "researchers": 1, "innovators": 1}, 2, {"researchers", "innovators"}),
        # 1 + 1 = 2 < 3: the next smallest, students (3), is held back too, and then all are
        ({"students": 3, "researchers": 1, "innovators": 1}, 3, {"students", "researchers", "innovators"}),
        # b (2) alone could be worked out as the total less a and c: c (7), the next smallest, goes too (2 + 7 = 9)
        ({"a": 10, "b": 2, "c": 7}, 5, {"b", "c"}),
    ],
)
def test_small_groups_are_held_back_so_that_none_can_be_worked_out(
    respondents: dict[str, int], min_group: int, held: set[str]
) -> None:
    assert opendata.held_back(respondents, min_group) == held


def test_a_lone_small_group_takes_the_next_smallest_with_it_in_the_tables() -> None:
    # researchers (2) < 3 and alone: students (5) are held back too, 2 + 5 = 7 >= 3
    found = opendata.tables(facts(OpenDataSection(min_group=3)))
    assert [(g["group"], g["respondents"], g["held_back"]) for g in table(found, "groups")] == [
        ("students", "", "true"),
        ("researchers", "", "true"),
    ]
    assert table(found, "crosstabs") == []
    # with groups of 2 enough, both are shown: 4 + 1 students, 0 + 2 researchers
    found = opendata.tables(facts(OpenDataSection(min_group=2)))
    assert [(c["group"], c["option"], c["respondents"]) for c in table(found, "crosstabs")] == [
        ("students", "easy", "4"),
        ("students", "hard", "1"),
        ("researchers", "easy", "0"),
        ("researchers", "hard", "2"),
    ]


def test_participants_words_are_published_only_when_the_plan_allows() -> None:
    said = (("improve", "upload fails"), ("improve", "upload fails"), ("improve", "call 9123 4567 or a.b@x.om"))
    closed = opendata.tables(facts(OpenDataSection(), said))
    assert "comments" not in [t.name for t in closed] and "terms" not in [t.name for t in closed]
    assert [(t["theme"], t["answers"]) for t in table(closed, "themes")] == [("uploads", "2")]
    allowed = opendata.tables(facts(OpenDataSection(free_text=True), said))
    # distinct texts in alphabetical order, each with how many gave it ("upload fails" twice)
    assert [(c["text"], c["answers"]) for c in table(allowed, "comments")] == [
        ("call […] or […]", "1"),
        ("upload fails", "2"),
    ]
    assert [(t["language"], t["term"], t["answers"]) for t in table(allowed, "terms")] == [("en", "upload", "2")]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("mail me at a.b+c@moheri.gov.om please", "mail me at […] please"),
        ("اتصل على +968 9123 4567", "اتصل على […]"),
        ("الرقم ٩١٢٣٤٥٦٧", "الرقم […]"),  # Arabic-Indic digits are digits too
        ("between 2025 - 2026, in 1445هـ", "between 2025 - 2026, in 1445هـ"),  # years are kept
        ("call 9123  4567 or 9123 - 4567", "call […] or […]"),  # however it is spaced
    ],
)
def test_emails_and_phone_or_id_numbers_are_blanked_in_participants_words(text: str, shown: str) -> None:
    assert opendata.blanked(text) == shown


def test_figures_kpis_decision_and_updates_are_written_as_given() -> None:
    found = opendata.tables(facts(OpenDataSection()))
    # 4 of 7 and 3 of 7, as the analysis rounded them
    assert [(a["option"], a["respondents"], a["share"]) for a in table(found, "answers")] == [
        ("easy", "4", "0.5714"),
        ("hard", "3", "0.4286"),
    ]
    assert table(found, "kpis") == [
        {
            "kpi": "responses",
            "name_en": "Responses",
            "name_ar": "الاستجابات",
            "target": "20",
            "actual": "7",
            "share": "0.35",
        }
    ]
    assert table(found, "updates") == [
        {
            "update": "1",
            "at": "2025-02-01T05:00:00Z",
            "status": "in-progress",
            "percent": "40",
            "note": "new form",
            "evidence": "",
        }
    ]
    decision = table(found, "decision")[0]
    assert (decision["summary_ar"], decision["based_on_contributions"], decision["participants"]) == (
        "تبسيط الرفع",
        "true",
        "7",
    )


def test_the_same_facts_give_the_same_bytes_and_a_bilingual_descriptor() -> None:
    def package() -> bytes:
        given = facts(OpenDataSection(licence="CC0-1.0"))
        found = [(t, datapackage.csv_bytes(t)) for t in opendata.tables(given)]
        return datapackage.descriptor_bytes(opendata.descriptor(given, found))

    first = package()
    assert first == package()
    content = json.loads(first)
    assert content["licenses"][0]["name"] == "CC0-1.0"
    assert content["temporal"] == {"start": "2025-01-05", "end": "2025-01-20"}
    # the latest fact in it: the update of 1 February, after the close on 24 January
    assert content["created"] == "2025-02-01T05:00:00Z"
    assert content["title"] == "Satisfaction — الرضا"
    kpis = next(r for r in content["resources"] if r["name"] == "kpis")
    assert kpis["title"] == "Indicators — المؤشرات"
    assert [c["role"] for c in content["contributors"]] == ["author", "contributor"]


def test_a_plan_names_an_open_licence_or_fails_validation() -> None:
    assert changed(SATISFACTION, open_data={"licence": "ODbL-1.0", "free_text": True}).open_data == OpenDataSection(
        licence="ODbL-1.0", free_text=True
    )
    with pytest.raises(ValidationError, match=r"CC-BY-4\.0"):
        changed(SATISFACTION, open_data={"licence": "all-rights-reserved"})
    with pytest.raises(ValidationError, match="min_group"):
        changed(SATISFACTION, open_data={"min_group": 0})
