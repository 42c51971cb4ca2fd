"""Analysis by kind, checked against figures worked out by hand in the comments."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from musharaka.stages import analyse, conduct, frame, pabulib, text
from musharaka.stages.common import MissingInputs
from musharaka.stages.plans import CampaignPlan
from tests.stages.plans_fixture import SATISFACTION, VOTE, changed
from tests.stages.test_conduct import CLOSES, PLANNED

AT = datetime(2025, 7, 10, 8, 0, tzinfo=UTC)
# real files, each source and licence in a SOURCES.md beside them
DATA = Path(__file__).resolve().parents[1] / "data"


def record(audience: str, answers: dict, channel: str = "website", **segments: str) -> dict:
    return {"submitted_at": AT, "channel": channel, "audience": audience, "answers": answers, "segments": segments}


def analysed(plan: CampaignPlan, records: list[dict], lot_seed: str = "") -> analyse.Analysis:
    contributions = frame.from_records(records)
    conducted = conduct.run(conduct.Inputs(plan=PLANNED, contributions=contributions), plan, CLOSES)
    return analyse.analysis(contributions, plan, conducted, lot_seed=lot_seed)


SURVEY = changed(
    SATISFACTION,
    ingest={"segments": [{"id": "governorate", "columns": ["Governorate"]}]},
    analysis={**SATISFACTION.analysis.model_dump(), "segments": ["governorate"]},
)
SURVEY_ROWS = [
    record(
        "students", {"overall": 5, "services-used": ["admission", "equivalency"], "ease": "easy"}, governorate="muscat"
    ),
    record("students", {"overall": 4, "services-used": ["admission"], "ease": "hard"}, governorate="dhofar"),
    record("researchers", {"overall": 2, "services-used": [], "ease": "easy"}, governorate="muscat"),
    record("researchers", {"overall": 4, "services-used": ["scholarships"]}, "e-survey", governorate="muscat"),
]


def test_likert_mean_has_a_t_interval_and_top_two_box_a_wilson_interval() -> None:
    overall = analysed(SURVEY, SURVEY_ROWS).results[0]
    # answers 5, 4, 2, 4: mean 3.75; deviations 1.25, .25, -1.75, .25 -> squares sum 4.75, sd sqrt(4.75/3)=1.2583;
    # t(3)=3.1824, half-width 3.1824 * 1.2583 / 2 = 2.0022 -> 1.748 .. 5.752
    assert overall.mean == 3.75 and overall.counts == {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1}
    assert overall.mean_interval is not None and overall.mean_interval.method == "t"
    assert (overall.mean_interval.low, overall.mean_interval.high) == pytest.approx((1.748, 5.752), abs=1e-3)
    # top-2-box: 4 or 5 -> 3 of 4 = 0.75; Wilson, z^2=3.8415: centre (.75+.4802)/1.9604=.6275,
    # half 1.96/1.9604*sqrt(.046875+.060023)=.3269 -> .3006 .. .9544
    assert overall.top2 == 0.75 and overall.top2_interval is not None
    assert (overall.top2_interval.low, overall.top2_interval.high) == pytest.approx((0.3006, 0.9544), abs=1e-3)


def test_multi_select_shares_are_of_respondents_and_cross_tabs_split_by_audience_and_segment() -> None:
    services = analysed(SURVEY, SURVEY_ROWS).results[1]
    # three answered (an empty list is no answer): admission chosen by 2 of 3, equivalency and scholarships by 1
    assert services.answered == 3
    assert services.counts == {"admission": 2, "equivalency": 1, "scholarships": 1, "research-funding": 0}
    assert services.shares["admission"] == pytest.approx(2 / 3, abs=1e-4)
    by_audience, by_governorate = services.crosstabs
    assert by_audience.by == "audience"
    assert by_audience.respondents == {"students": 2, "researchers": 1}
    assert by_audience.counts["students"] == {
        "admission": 2,
        "equivalency": 1,
        "scholarships": 0,
        "research-funding": 0,
    }
    assert by_governorate.by == "governorate"
    assert by_governorate.respondents == {"dhofar": 1, "muscat": 2}
    assert by_governorate.counts["muscat"]["scholarships"] == 1
    ease = analysed(SURVEY, SURVEY_ROWS).results[2]
    assert ease.counts == {"easy": 2, "acceptable": 0, "hard": 1} and ease.answered == 3


def test_cross_tab_rows_follow_the_plans_audiences_and_segments_are_named_by_their_headers() -> None:
    plan = changed(
        SATISFACTION,
        ingest={"segments": [{"id": "governorate", "columns": ["Governorate", "المحافظة"]}]},
        analysis={**SATISFACTION.analysis.model_dump(), "segments": ["governorate"]},
    )
    # the plan lists students, researchers, innovators, ...: alphabetical order would put innovators first
    rows = [
        record("researchers", {"overall": 2}, governorate="muscat"),
        record("innovators", {"overall": 5}, governorate="dhofar"),
        record("students", {"overall": 4}),  # no governorate given
        record("students", {"overall": 5}, governorate="muscat"),
    ]
    by_audience, by_governorate = analysed(plan, rows).results[0].crosstabs
    assert list(by_audience.counts) == list(by_audience.respondents) == ["students", "researchers", "innovators"]
    assert by_audience.means == {"students": 4.5, "researchers": 2.0, "innovators": 5.0}
    assert by_audience.name is None  # documents call it the audience in their own words
    # segment values have no order in the plan: alphabetical, the unknown value ("") last
    assert list(by_governorate.counts) == ["dhofar", "muscat", ""]
    assert by_governorate.respondents == {"dhofar": 1, "muscat": 2, "": 1}
    assert by_governorate.name is not None
    assert (by_governorate.name.ar, by_governorate.name.en) == ("المحافظة", "Governorate")


def test_a_segment_without_a_header_in_a_language_is_named_by_its_id_there() -> None:
    by_governorate = analysed(SURVEY, SURVEY_ROWS).results[1].crosstabs[1]
    assert by_governorate.name is not None
    assert (by_governorate.name.ar, by_governorate.name.en) == ("governorate", "Governorate")


def test_satisfaction_index_is_the_mean_of_rescaled_answers_on_zero_to_one_hundred() -> None:
    result = analysed(SURVEY, SURVEY_ROWS)
    # (answer - 1) / 4 * 100: 100, 75, 25, 75 -> 68.75; sd 25 * 1.2583 = 31.458; half 3.1824*31.458/2 = 50.06,
    # clipped to the 0..100 scale
    assert result.satisfaction is not None
    assert result.satisfaction.index == 68.75 and result.satisfaction.respondents == 4
    assert result.satisfaction.interval is not None
    assert (result.satisfaction.interval.low, result.satisfaction.interval.high) == pytest.approx(
        (18.69, 100.0), abs=0.01
    )


def test_participation_per_channel_and_day_and_progress_against_the_target_come_with_the_analysis() -> None:
    result = analysed(SURVEY, SURVEY_ROWS)
    assert result.by_channel == {"e-survey": 1, "website": 3}
    assert result.by_day == {"2025-07-10": 4}  # 08:00 UTC is 12:00 in Muscat
    assert [k.actual for k in result.kpis] == [k.actual for k in result.kpis if k.actual <= 4]


def ballots(*names: str) -> list[dict]:
    return [record("students", {"preferred-name": n}) for n in names]


@pytest.mark.parametrize(
    ("ties", "winner"),
    [
        ("declare", None),  # a tie is reported, nobody wins
        ("plan-order", "mueen"),  # mueen is listed before daleel in the plan
    ],
)
def test_vote_tally_turnout_and_tie_rules(ties: str, winner: str | None) -> None:
    plan = changed(VOTE, analysis={"vote": {"question": "preferred-name", "eligible": 10, "ties": ties}})
    vote = analysed(plan, ballots("daleel", "mueen", "rafeeq", "mueen", "daleel")).vote
    assert vote is not None
    assert vote.tally == {"mueen": 2, "daleel": 2, "rafeeq": 1, "sanad": 0}
    assert vote.cast == 5 and vote.turnout == 0.5  # 5 of 10 eligible
    assert vote.tied == ("mueen", "daleel") and vote.winner == winner


LOT = changed(VOTE, analysis={"vote": {"question": "preferred-name", "ties": "lot"}})


@pytest.mark.parametrize(
    ("seed", "winner"),
    [
        # the tied daleel and mueen in the order of their ids are 0 daleel, 1 mueen: an even seed draws daleel
        ("0" * 63 + "a", "daleel"),  # 10 mod 2 = 0
        ("f" * 64, "mueen"),  # an odd number: 1
    ],
)
def test_a_tie_drawn_by_lot_takes_the_tied_option_at_the_seed_modulo_their_count(seed: str, winner: str) -> None:
    vote = analysed(LOT, ballots("mueen", "daleel", "sanad", "mueen", "daleel"), seed).vote
    assert vote is not None and vote.tied == ("mueen", "daleel") and vote.winner == winner
    assert vote.lot_seed == seed  # the outputs state the seed the draw used


def test_three_tied_options_are_drawn_by_the_seed_modulo_three() -> None:
    seed = "0" * 62 + "0b"  # 11 mod 3 = 2: of daleel, mueen, sanad (by id), sanad
    vote = analysed(LOT, ballots("mueen", "daleel", "sanad"), seed).vote
    assert vote is not None and vote.winner == "sanad"


def test_the_lot_seed_is_the_digest_of_the_ingested_batches_rows_digests_one_per_line() -> None:
    first, second = "1" * 64, "2" * 64
    assert analyse.lot_seed([first, second]) == hashlib.sha256(f"{first}\n{second}".encode()).hexdigest()
    assert analyse.lot_seed([first]) != analyse.lot_seed([first, second])  # one more batch: another seed


def test_a_tie_to_draw_by_lot_without_a_seed_is_refused_not_drawn() -> None:
    with pytest.raises(MissingInputs, match=r"analyse\.lot_seed"):
        analysed(LOT, ballots("mueen", "daleel"))
    clear = analysed(LOT, ballots("mueen", "mueen", "daleel")).vote  # no tie: nothing to draw
    assert clear is not None and clear.winner == "mueen" and clear.lot_seed is None


def test_a_clear_winner_needs_no_tie_rule_and_turnout_falls_back_to_the_contributions_target() -> None:
    plan = changed(VOTE, analysis={"vote": {"question": "preferred-name"}})
    vote = analysed(plan, ballots("sanad", "sanad", "rafeeq")).vote
    assert vote is not None and vote.winner == "sanad" and vote.tied == ()
    target = next(k.target for k in VOTE.kpis if k.measure == "contributions")
    assert vote.eligible == target and vote.turnout == round(3 / target, 4)


def budget_plan(
    options: list[dict], total: float, rule: str, vote_type: str = "approval", **extra: object
) -> CampaignPlan:
    question = {"id": "projects", "type": "ballot", "title": {"ar": "المشاريع", "en": "Projects"}, "options": options}
    return changed(
        SATISFACTION,
        kind="participatory-budget",
        instrument=[question],
        kpis=[],
        analysis={"budget": {"question": "projects", "total": total, "rule": rule, "vote_type": vote_type, **extra}},
    )


def project(pid: str, cost: float) -> dict:
    return {"id": pid, "label": {"ar": pid, "en": pid}, "cost": cost}


def test_budget_reports_every_project_with_cost_support_and_both_rules_outcomes() -> None:
    # budget 10; six voters approve a1 and a2 (cost 5 each), four approve b (cost 4):
    # greedy funds a1, a2 (10 spent); equal shares funds a1 and b (9 spent), see test_pabulib
    plan = budget_plan([project("a1", 5), project("a2", 5), project("b", 4)], 10, "equal-shares")
    rows = [record("students", {"projects": ["a1", "a2"]})] * 6 + [record("students", {"projects": ["b"]})] * 4
    result = analysed(plan, rows).budget
    assert result is not None
    assert [(p.id, p.cost, p.supporters) for p in result.projects] == [("a1", 5, 6), ("a2", 5, 6), ("b", 4, 4)]
    assert result.greedy == ("a1", "a2") and result.greedy_cost == 10
    assert result.equal_shares == ("a1", "b") and result.equal_shares_cost == 9
    assert result.outcome == ("a1", "b") and result.ballots == 10


def test_cumulative_budget_counts_points_and_funds_by_points() -> None:
    # budget 6; x costs 4, y costs 3, z costs 2. Points: voter 1 {x:3, y:1}, voter 2 {y:4}, voter 3 {z:2, x:1}
    # totals x 4, y 5, z 2 -> greedy: y (3), then x does not fit in 3 left... x costs 4 > 3, z (2) fits: y, z
    plan = budget_plan([project("x", 4), project("y", 3), project("z", 2)], 6, "greedy", "cumulative")
    rows = [
        record("students", {"projects": {"x": 3, "y": 1}}),
        record("students", {"projects": {"y": 4}}),
        record("students", {"projects": {"z": 2, "x": 1}}),
    ]
    result = analysed(plan, rows).budget
    assert result is not None
    assert {p.id: (p.supporters, p.points) for p in result.projects} == {"x": (2, 4), "y": (2, 5), "z": (1, 2)}
    assert result.outcome == result.greedy == ("y", "z")


@pytest.mark.parametrize(("rule", "outcome"), [("equal-shares", ("b",)), ("equal-shares-comparison", ("a",))])
def test_a_plan_may_compare_equal_shares_with_greedy_and_take_what_more_voters_prefer(
    rule: str, outcome: tuple[str, ...]
) -> None:
    # budget 10; a costs 10, b and c 5 each; three voters approve a, two approve b and c. Equal shares funds b:
    # with shares raised to 3 each, b's two supporters pay its 5 and cannot pay for c, while a's three hold 9;
    # at 4 each a and b would both be bought, 15 over the budget, so the completion keeps {b}. Greedy funds a.
    # Three voters have more funded under greedy, two under equal shares: the comparison takes greedy's.
    plan = budget_plan([project("a", 10), project("b", 5), project("c", 5)], 10, rule, ties="plan-order")
    rows = [record("students", {"projects": ["a"]})] * 3 + [record("students", {"projects": ["b", "c"]})] * 2
    result = analysed(plan, rows).budget
    assert result is not None
    assert result.equal_shares == ("b",) and result.greedy == ("a",)
    assert result.outcome == outcome


def test_real_pabulib_instance_analysed_as_a_campaign_matches_the_official_selection() -> None:
    path = DATA / "pabulib" / "Netherlands_Assen_2024.pb"
    instance = pabulib.parse(path.read_text(encoding="utf-8"), path.name)
    plan = budget_plan([project(p.id, p.cost) for p in instance.projects], instance.budget, "equal-shares")
    rows = [record("students", {"projects": list(v.ballot)}) for v in instance.votes]
    result = analysed(plan, rows).budget
    assert result is not None
    assert set(result.outcome) == {p.id for p in instance.projects if p.selected}


THEMED = changed(
    SATISFACTION,
    analysis={
        "themes": [
            {"id": "uploads", "name": {"ar": "الرفع", "en": "Uploads"}, "keywords": ["upload", "رفع"]},
            {"id": "speed", "name": {"ar": "السرعة", "en": "Speed"}, "keywords": ["slow", "بطيء"]},
        ],
        "stop_words": ["please"],
        "top_terms": 3,
    },
)


def test_comments_are_counted_per_theme_with_repeats_and_frequent_terms() -> None:
    comments = [
        "Upload is slow, please fix the upload",  # uploads, speed
        "upload is SLOW, please fix the upload!",  # the same once normalised: an exact repeat
        "رفع المستندات بطيء",  # uploads, speed
        "رَفْعُ المستنداتِ بطيءٌ",  # tashkeel only: an exact repeat once normalised
        "the site is fine",
    ]
    result = analysed(THEMED, [record("students", {"improve": c}) for c in comments])
    (improve,) = result.texts
    assert improve.answered == 5
    assert improve.themes == {"uploads": 4, "speed": 4}
    assert (improve.exact_duplicates, improve.repeated_texts) == (2, 2)
    # terms count once per answer; "is", "the" are stop words, "please" a plan stop word. Shown as written:
    # upload 3 times and Upload once, slow and SLOW once each (a tie goes to the lower case); the tashkeel of
    # رَفْعُ المستنداتِ بطيءٌ is left out
    assert improve.terms_en == {"upload": 2, "slow": 2, "fix": 2}
    assert improve.terms_ar == {"رفع": 2, "المستندات": 2, "بطيء": 2}


def test_frequent_terms_are_counted_by_their_normalised_form_and_shown_as_most_often_written() -> None:
    comments = ["الخدمة ممتازة", "الخدمه ممتازه", "الخدمة ممتازة!", "خدمة إلكترونية", "خدمه الكترونيه"]
    result = analysed(SATISFACTION, [record("students", {"improve": c}) for c in comments])
    (improve,) = result.texts
    # الخدمة x2 and الخدمه x1 -> 3 answers, shown الخدمة; خدمة/خدمه and إلكترونية/الكترونيه are written
    # once each way: the tie goes to the lowest code point (ة U+0629 before ه U+0647, إ U+0625 before ا U+0627)
    assert improve.terms_ar == {"الخدمة": 3, "ممتازة": 3, "إلكترونية": 2, "خدمة": 2}


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["الخدمة ممتازة", "الخدمه ممتازه", "الخدمة ممتازة"], {"الخدمه": "الخدمة", "ممتازه": "ممتازة"}),
        (["رَفْعُ المستنداتِ", "رفعُ"], {"رفع": "رفع", "المستندات": "المستندات"}),  # tashkeel left out
        (
            ["جمـيلة جداً", "في عام ١٤٤٥هـ"],
            {"جميله": "جميلة", "جدا": "جدا", "في": "في", "عام": "عام", "1445هـ": "١٤٤٥هـ"},
        ),
        (["Upload, SMS!", "SMS upload", "sms"], {"upload": "upload", "sms": "SMS"}),
        ([], {}),
    ],
)
def test_spellings_map_each_normalised_word_to_its_most_used_written_form(
    texts: list[str], expected: dict[str, str]
) -> None:
    assert text.spellings(pd.Series(texts, dtype=object)) == expected


def test_near_duplicates_are_texts_that_differ_by_a_little_but_not_word_for_word() -> None:
    normalised = text.normalise_all(
        pd.Series(
            [
                "the registration portal keeps logging me out before I can submit the form",
                "the registration portal keeps logging me out before I can submit the forms",  # one letter more
                "the registration portal keeps logging me out before I can submit the form",  # exact repeat
                "a completely different comment about scholarships",
            ]
        )
    )
    assert text.exact_duplicates(normalised) == (1, 1)
    assert text.near_duplicates(normalised, 0.8) == (1, 1)  # the "forms" variant, one group


def test_a_near_repeat_written_many_times_counts_once_as_near_and_its_copies_as_exact() -> None:
    original = "the registration portal keeps logging me out before I can submit the form"
    normalised = text.normalise_all(pd.Series([original] + [original + "s"] * 5))
    # six answers, two things said: the "forms" text's four extra copies repeat it word for word, and it
    # nearly repeats the first; 4 + 1 = 6 answers - 1 group of near repeats
    assert text.exact_duplicates(normalised) == (4, 1)
    assert text.near_duplicates(normalised, 0.8) == (1, 1)
    assert text.clusters(normalised, 0.8) == 1


REVIEWS = DATA / "reviews" / "saudi_tourism_reviews_ar.csv"


def test_arabic_normalisation_on_real_reviews_keeps_the_hijri_abbreviation() -> None:
    reviews = pd.read_csv(REVIEWS, sep=";", encoding="utf-8-sig")["div_text"]
    assert len(reviews) == 3894
    hijri = reviews[reviews.str.contains("26 هـ", regex=False)].iloc[0]
    assert "هـ" in text.normalise(hijri) and "26 هـ" in text.normalise(hijri)
    assert text.normalise("في عام ١٤٤٥هـ") == "في عام 1445هـ"
    # alef variants, alef maksura, ta marbuta, tashkeel, tatweel, as in the reviews ("ميناءً لمكة", "جداً")
    assert text.normalise("إلى آخر أيامٍ ٱلمدينة جمـيلة جداً") == "الي اخر ايام المدينه جميله جدا"
    assert text.normalise("هـذا") == "هذا"  # a decorative tatweel after a word-initial ha goes
    normalised = text.normalise_all(reviews)
    assert normalised.map(text.normalise).tolist() == normalised.tolist()  # vectorised = single text; idempotent
    assert normalised.str.contains("هـ").sum() == reviews.str.contains("هـ").sum()


def test_real_reviews_duplicates_include_every_verbatim_and_space_only_repeat() -> None:
    reviews = pd.read_csv(REVIEWS, sep=";", encoding="utf-8-sig")["div_text"]
    assert reviews.duplicated().sum() == 222  # as the file's documentation says
    trimmed_repeats = int(reviews.str.strip().duplicated().sum())
    exact, _ = text.exact_duplicates(text.normalise_all(reviews))
    assert exact >= trimmed_repeats > 222
    arabic, _ = text.terms(text.normalise_all(reviews), top=10)
    assert "في" not in arabic and "من" not in arabic  # stop words are left out
    assert "المكان" in arabic  # the reviews are about places


def test_each_area_funds_its_own_projects_from_its_own_budget() -> None:
    # north (budget 5): n1 costs 4, n2 costs 3; south (budget 4): s1 costs 4, s2 costs 2.
    # Voter 1 chooses n1, s2; voter 2 n1, n2; voter 3 s1 alone; voter 4 n2, s1.
    # north ballots: {n1}, {n1, n2}, {n2}: n1 and n2 2 votes each, the tie to the cheaper: n2 (3, 2 left);
    # n1 (4) no longer fits.
    # south ballots: {s2}, {s1}, {s1}: s1 2 votes (4, 0 left), s2 no longer fits.
    options = [
        {**project("n1", 4), "area": "north", "category": "roads"},
        {**project("n2", 3), "area": "north"},
        {**project("s1", 4), "area": "south"},
        {**project("s2", 2), "area": "south"},
    ]
    areas = [
        {"id": "north", "name": {"ar": "الشمال", "en": "North"}, "total": 5, "max_projects": 2},
        {"id": "south", "name": {"ar": "الجنوب", "en": "South"}, "total": 4},
    ]
    plan = budget_plan(options, 9, "greedy", areas=areas)
    rows = [
        record("students", {"projects": ["n1", "s2"]}),
        record("students", {"projects": ["n1", "n2"]}),
        record("students", {"projects": ["s1"]}),
        record("students", {"projects": ["n2", "s1"]}),
    ]
    result = analysed(plan, rows).budget
    assert result is not None
    north, south = result.areas
    assert (north.area, north.ballots, north.outcome, north.greedy_cost, north.max_projects) == (
        "north",
        3,
        ("n2",),
        3,
        2,
    )
    assert (south.area, south.ballots, south.outcome, south.greedy_cost) == ("south", 3, ("s1",), 4)
    assert result.outcome == ("n2", "s1") and result.ballots == 4
    assert [(p.id, p.area, p.supporters) for p in north.projects] == [("n1", "north", 2), ("n2", "north", 2)]
    assert north.projects[0].category == "roads"


def test_ranked_budget_ballots_score_by_position() -> None:
    # budget 5, x and y cost 5 each. Two voters rank x then y (x 2, y 1 each); one ranks y alone (y 1).
    # x 4 points, y 3: x funded; read as approvals, y (3 ballots) would lead x (2).
    plan = budget_plan([project("x", 5), project("y", 5)], 5, "greedy", "ordinal")
    rows = [record("students", {"projects": ["x", "y"]})] * 2 + [record("students", {"projects": ["y"]})]
    result = analysed(plan, rows).budget
    assert result is not None
    assert {p.id: p.points for p in result.projects} == {"x": 4, "y": 3}
    assert result.outcome == ("x",)
