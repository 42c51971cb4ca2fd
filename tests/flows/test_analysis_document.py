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


def text_of(html: str) -> str:
    """The document with its isolates (`<bdi>`, tested in test_bidi.py) taken out, so its words can be found."""
    return re.sub(r"<bdi>((?:(?!<bdi).)*?)</bdi>", r"\1", html, flags=re.S)


def document(plan: cases.CampaignPlan, rows: list[dict], lang: str) -> str:
    figures = cases.analysed(plan, rows)
    outputs = analyse.Outputs(total=len(rows), decision_method=plan.decision_method, decision=DECISION, **dict(figures))
    return text_of(render("analyse", outputs, plan, attempt=1, lang=lang, now=NOW))


def bar_charts(html: str) -> list[list[tuple[str, float, int]]]:
    """Each bar chart's rows: (label, bar width in % of its cell, figure)."""
    charts = re.findall(r'<table class="chart bars".*?</table>', html, flags=re.S)
    row = re.compile(
        r'<th scope="row"[^>]*>(.*?)</th><td[^>]*>(?:<span class="bar" style="[^"]*width: ([\d.]+)%[^"]*"></span> )?'
        r'<span class="num">(\d+)</span>'
    )
    return [[(name, float(width or 0), int(n)) for name, width, n in row.findall(chart)] for chart in charts]


def test_bar_charts_are_page_text_as_wide_as_the_page_bars_proportional_to_the_figures() -> None:
    arabic = document(cases.SURVEY, cases.SURVEY_ROWS, "ar")
    english = document(cases.SURVEY, cases.SURVEY_ROWS, "en")
    assert 'dir="rtl"' in arabic and 'dir="ltr"' in english
    # labels are HTML text in the page's direction (right to left in Arabic, so bars grow leftwards), shaped
    # as the page is: no word is left to an SVG's text, which not every renderer shapes for Arabic
    svgs = re.findall(r"<svg.*?</svg>", arabic, flags=re.S)
    assert not any(re.search("[\u0621-\u064a]", re.sub(r'aria-label="[^"]*"', "", svg)) for svg in svgs)
    channels, _overall, _services, ease = bar_charts(arabic)[:4]
    # by channel: website 3, e-survey 1; the longest bar is 82% of its cell, the others in proportion
    assert channels == [("الموقع الإلكتروني", 82.0, 3), ("الاستبيانات الإلكترونية", 27.3, 1)]
    assert ease == [("سهلة", 82.0, 2), ("مقبولة", 0.0, 0), ("صعبة", 41.0, 1)]
    assert 'style="table-layout: fixed; width: 100%' in arabic and "text-align: right" in arabic
    assert "text-align: left" in english


def test_likert_answers_are_labelled_with_the_scales_words_in_the_chart_and_the_cross_tab() -> None:
    arabic = document(cases.SURVEY, cases.SURVEY_ROWS, "ar")
    english = document(cases.SURVEY, cases.SURVEY_ROWS, "en")
    # answers 5, 4, 2, 4 on a five-point scale
    overall = bar_charts(english)[1]
    assert [(name, n) for name, _, n in overall] == [
        ("1 · Very low", 0),
        ("2 · Low", 1),
        ("3 · Moderate", 0),
        ("4 · High", 2),
        ("5 · Very high", 1),
    ]
    # in Arabic a right-to-left mark leads, so the number stands at the right of the words
    assert [name for name, _, _ in bar_charts(arabic)[1]][4] == "&#x200f;5 · بدرجة كبيرة جداً"
    assert "<th>&#x200f;1 · بدرجة قليلة جداً</th>" in arabic and "<th>3 · Moderate</th>" in english


def test_cross_tabs_list_the_plans_audiences_in_its_order_by_name_and_segments_by_their_headers() -> None:
    plan = cases.changed(
        cases.SURVEY,
        ingest={"segments": [{"id": "governorate", "columns": ["Governorate", "المحافظة"]}]},
    )
    rows = [*cases.SURVEY_ROWS, cases.record("innovators", {"overall": 3})]  # no governorate given
    arabic = document(plan, rows, "ar")
    tables = re.findall(r"<table>\n<tr><th>حسب (.*?)</th>.*?</table>", arabic, flags=re.S)
    assert tables[:2] == ["الفئة", "المحافظة"]
    overall = arabic[arabic.index("<th>حسب الفئة</th>") :]
    # the plan lists students, researchers, innovators: not their alphabetical order
    assert re.findall(r"<tr><td>(.*?)</td>", overall[: overall.index("</table>")]) == [
        "الطلبة",
        "الباحثون",
        "المبتكرون",
    ]
    by_governorate = arabic[arabic.index("<th>حسب المحافظة</th>") :]
    assert re.findall(r"<tr><td>(.*?)</td>", by_governorate[: by_governorate.index("</table>")]) == [
        "dhofar",
        "muscat",
        "غير محدد",
    ]
    assert "<th>By Governorate</th>" in document(plan, rows, "en")


def test_frequent_terms_are_shown_as_most_often_written_and_marked_in_their_language() -> None:
    comments = ["الخدمة ممتازة", "الخدمه ممتازه", "الخدمة ممتازة", "Please add SMS", "please add SMS", "add sms"]
    rows = [cases.record("students", {"improve": c}) for c in comments]
    arabic = document(cases.SURVEY, rows, "ar")
    terms_ar, terms_en = bar_charts(arabic)[-2:]
    assert [(name, n) for name, _, n in terms_ar] == [("الخدمة", 3), ("ممتازة", 3)]
    assert "الخدمه" not in arabic and "ممتازه" not in arabic
    # SMS written so twice, sms once; Please and please once each: a tie goes to the lower case
    assert [(name, n) for name, _, n in terms_en] == [("add", 3), ("SMS", 3), ("please", 2)]
    # English terms in an Arabic page say so, for screen readers and for the page's language checks
    assert '<th scope="row" lang="en"' in arabic


def test_participation_by_day_is_as_wide_as_the_page_with_ticks_of_at_least_eleven_units() -> None:
    arabic = document(cases.SURVEY, cases.SURVEY_ROWS, "ar")
    svg = re.search(r'<svg xmlns="http://www.w3.org/2000/svg" class="chart"[^>]*>', arabic)
    assert svg is not None
    assert 'width="100%"' in svg.group() and 'viewBox="0 0 680 190"' in svg.group()
    assert 'aria-label="حسب اليوم"' in svg.group()  # named for screen readers by its heading
    sizes = [int(size) for size in re.findall(r'font-size="(\d+)"', arabic)]
    assert sizes and min(sizes) >= 11


def test_conduct_document_names_each_question_by_its_title_in_the_readers_language() -> None:
    contributions = cases.frame.from_records(cases.SURVEY_ROWS)
    outputs = cases.conduct.run(
        cases.conduct.Inputs(plan=cases.PLANNED, contributions=contributions), cases.SURVEY, cases.CLOSES
    )
    arabic = text_of(render("conduct", outputs, cases.SURVEY, attempt=1, lang="ar", now=NOW))
    english = text_of(render("conduct", outputs, cases.SURVEY, attempt=1, lang="en", now=NOW))
    # services-used: three answered (an empty list is no answer)
    assert '<td>ما الخدمات الرقمية التي استخدمتها خلال العام الماضي؟</td><td class="num">3</td>' in arabic
    assert '<td>Which digital services have you used in the past year?</td><td class="num">3</td>' in english
    assert "<td>services-used</td>" not in arabic and "<td>overall</td>" not in english


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


def test_budget_document_shows_each_area_with_its_budget_limit_and_funded_projects_in_both_languages() -> None:
    # north (budget 5): n1 (4) has 2 votes, n2 (3) 1 vote: greedy funds n1. south (budget 4): s1 (4), 1 vote: funded
    options = [
        {**cases.project("n1", 4), "area": "north"},
        {**cases.project("n2", 3), "area": "north"},
        {**cases.project("s1", 4), "area": "south"},
    ]
    areas = [
        {"id": "north", "name": {"ar": "الشمال", "en": "North"}, "total": 5, "max_projects": 2},
        {"id": "south", "name": {"ar": "الجنوب", "en": "South"}, "total": 4},
    ]
    plan = cases.budget_plan(options, 9, "greedy-no-skip", areas=areas, ties="plan-order")
    rows = [
        cases.record("students", {"projects": ["n1", "n2"]}),
        cases.record("students", {"projects": ["n1", "s1"]}),
    ]
    english = text_of(document(plan, rows, "en"))
    assert "Area: North" in english and "Area: South" in english
    assert "Projects per ballot, at most: 2" in english and "Ties go to the project listed first" in english
    assert "Greedy rule stopping at the first project that does not fit" in english
    arabic = text_of(document(plan, rows, "ar"))
    assert "المنطقة: الشمال" in arabic and "المنطقة: الجنوب" in arabic
    assert "أقصى عدد من المشاريع في ورقة الاقتراع" in arabic


def test_budget_document_describes_each_project_with_its_category_under_its_area_in_both_languages() -> None:
    # north (budget 5): the library (4) has the one vote and is funded; south (budget 4): the park (4) has none
    library = {
        **cases.project("library", 4),
        "label": {"ar": "مكتبة", "en": "A library"},
        "description": {"ar": "مكتبة عامة في الحي", "en": "A public library for the district"},
        "category": "culture",
        "area": "north",
    }
    park = {
        **cases.project("park", 4),
        "label": {"ar": "حديقة", "en": "A park"},
        "category": "greenery",
        "area": "south",
    }
    areas = [
        {"id": "north", "name": {"ar": "الشمال", "en": "North"}, "total": 5},
        {"id": "south", "name": {"ar": "الجنوب", "en": "South"}, "total": 4},
    ]
    plan = cases.budget_plan([library, park], 9, "greedy", areas=areas)
    rows = [cases.record("students", {"projects": ["library"]})]
    for lang, north, south, described in [
        ("en", "Area: North", "Area: South", "A public library for the district"),
        ("ar", "المنطقة: الشمال", "المنطقة: الجنوب", "مكتبة عامة في الحي"),
    ]:
        shown = document(plan, rows, lang)
        library_row = re.search(r"<td>(?:A library|مكتبة) [^\n]*</tr>", shown)
        assert library_row, f"no row for the library in the {lang} document"
        # the project's cell: its label, its category, and its description on a line of its own
        assert f'<span class="meta">(culture)</span><br><span class="meta">{described}</span></td>' in library_row[0]
        # each project in its own area's table: the library after North's heading, the park after South's
        assert shown.index(north) < shown.index(library_row[0]) < shown.index(south) < shown.index("(greenery)")
        assert "(greenery)</span></td>" in shown  # a project without a description shows none


def test_a_vote_settled_by_lot_states_its_seed_what_it_digests_and_how_to_recompute_it_in_both_languages() -> None:
    seed = analyse.lot_seed(["1" * 64, "2" * 64])
    rows = cases.ballots("daleel", "mueen")
    figures = cases.analysed(cases.LOT, rows, seed)
    outputs = analyse.Outputs(total=2, decision_method=cases.LOT.decision_method, decision=DECISION, **dict(figures))
    english = text_of(render("analyse", outputs, cases.LOT, attempt=1, lang="en", now=NOW))
    arabic = text_of(render("analyse", outputs, cases.LOT, attempt=1, lang="ar", now=NOW))
    for page in (english, arabic):
        assert f"<code>{seed}</code>" in page and "<code>contributions.ingested</code>" in page
        assert "<code>rows_digest</code>" in page and "<code>musharaka audit export</code>" in page
    assert "The lot&#39;s seed" in english.replace("'", "&#39;") and "rows digests of every batch" in english
    assert "modulo the number of tied options" in english and "after the window closed" in english
    assert "بذرة القرعة" in arabic and "بصمة SHA-256 لبصمات صفوف كل دفعة" in arabic
    assert "باقي قسمة البذرة" in arabic and "إغلاق فترة المشاركة" in arabic
