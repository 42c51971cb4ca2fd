"""The analysis document: every kind's figures rendered, charts mirrored for Arabic."""

import re
from datetime import UTC, datetime

from musharaka.flows.render.documents import render
from musharaka.stages import analyse
from tests.stages import test_analysis as cases

DECISION = analyse.Decision(
    summary={"ar": "تبسيط رفع المستندات", "en": "Simplify uploads"},
    rationale={"ar": "كان الرفع أصعب خطوة", "en": "Uploads were the hardest step"},
    not_adopted={"ar": "الدردشة تحتاج ميزانية", "en": "Chat support needs budget"},
    based_on_contributions=True,
)
NOW = datetime(2025, 8, 20, tzinfo=UTC)


def document(plan: cases.CampaignPlan, rows: list[dict], lang: str) -> str:
    figures = cases.analysed(plan, rows)
    outputs = analyse.Outputs(total=len(rows), decision_method=plan.decision_method, decision=DECISION, **dict(figures))
    return render("analyse", outputs, plan, attempt=1, lang=lang, now=NOW)


def bar_rows(html: str) -> list[tuple[float, str, float]]:
    """(label x, label anchor, bar x) of each bar of the first bar chart."""
    chart = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') :]
    chart = chart[: chart.index("</svg>")]
    labels = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)" font-size="12">', chart)
    bars = re.findall(r'<rect x="([\d.]+)"', chart)
    return [(float(x), anchor, float(b)) for (x, anchor), b in zip(labels, bars, strict=True)]


def test_arabic_charts_put_labels_on_the_right_and_bars_grow_leftwards_english_the_reverse() -> None:
    arabic = document(cases.SURVEY, cases.SURVEY_ROWS, "ar")
    english = document(cases.SURVEY, cases.SURVEY_ROWS, "en")
    assert 'dir="rtl"' in arabic and 'dir="ltr"' in english
    for label_x, anchor, bar_x in bar_rows(arabic):
        assert anchor == "end" and label_x > 500 and bar_x < 330  # labels at the right edge, bars to their left
    for label_x, anchor, bar_x in bar_rows(english):
        assert anchor == "end" and label_x < 190 and bar_x == 190  # labels at the left, bars start after them


def test_survey_document_shows_intervals_named_by_method_and_the_satisfaction_index() -> None:
    english = document(cases.SURVEY, cases.SURVEY_ROWS, "en")
    assert 'Satisfaction index: <span class="num">68.8</span> / 100' in english
    assert "95% confidence interval (Student&#39;s t)" in english or "95% confidence interval (Student's t)" in english
    assert "95% confidence interval (Wilson)" in english and "1.75 – 5.75" in english
    arabic = document(cases.SURVEY, cases.SURVEY_ROWS, "ar")
    assert "مؤشر الرضا" in arabic and "طريقة ويلسون" in arabic


def test_vote_and_budget_documents_name_the_winner_tie_rule_and_funded_projects() -> None:
    plan = cases.changed(
        cases.VOTE, analysis={"vote": {"question": "preferred-name", "eligible": 10, "ties": "plan-order"}}
    )
    english = document(plan, cases.ballots("daleel", "mueen", "mueen", "daleel"), "en")
    assert "Tie: Mueen, Daleel" in english and "settled by the plan&#39;s order" in english.replace("'", "&#39;")
    assert "<strong>Winner: Mueen</strong>" in english and 'Turnout: <bdi dir="ltr">40.0%</bdi>' in english
    budget = cases.budget_plan([cases.project("a1", 5), cases.project("a2", 5), cases.project("b", 4)], 10, "greedy")
    rows = [cases.record("students", {"projects": ["a1", "a2"]})] * 6 + [
        cases.record("students", {"projects": ["b"]})
    ] * 4
    english = document(budget, rows, "en")
    assert "The plan&#39;s rule: Greedy rule" in english.replace("'", "&#39;")
    assert re.search(
        r"<td>b</td><td class=\"num\">4</td><td class=\"num\">4</td><td class=\"num\">4</td><td></td><td>✓ Funded</td>",
        english,
    )
