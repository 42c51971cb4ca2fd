"""Analyse, announce, evaluate: tallies and a required decision, the announcement, the lessons."""

from datetime import UTC, datetime

import pytest

from musharaka.stages import analyse, announce, conduct, evaluate
from musharaka.stages.common import MissingInputs
from musharaka.stages.plans import Bilingual, Prose
from tests.stages.plans_fixture import SATISFACTION
from tests.stages.test_conduct import CLOSES, PLANNED, RECORDS, contribution

NOW = datetime(2025, 8, 20, tzinfo=UTC)
CONTRIBUTIONS = conduct.frame_of((*RECORDS, contribution("innovators", overall=1)))
CONDUCTED = conduct.run(conduct.Inputs(plan=PLANNED, contributions=CONTRIBUTIONS), SATISFACTION, CLOSES)
DECISION = analyse.Decision(
    summary=Bilingual(ar="قرار", en="Simplify uploads"),
    rationale=Bilingual(ar="مبررات", en="Uploads were the hardest step"),
    not_adopted=Bilingual(ar="لا", en="Chat support needs budget"),
    based_on_contributions=True,
)
ANALYSED = analyse.run(
    analyse.Inputs(conduct=CONDUCTED, contributions=CONTRIBUTIONS, decision=DECISION), SATISFACTION, NOW
)


def test_analysis_tallies_each_question() -> None:
    overall, services, ease, improve = ANALYSED.results
    assert overall.counts == {"1": 1, "2": 0, "3": 0, "4": 3, "5": 0} and overall.mean == 3.25
    assert services.counts == {"admission": 4, "equivalency": 0, "scholarships": 0, "research-funding": 0}
    assert ease.counts["easy"] == 4 and improve.answered == 0


def test_analysis_without_a_decision_cannot_close() -> None:
    with pytest.raises(MissingInputs, match=r"analyse\.decision"):
        analyse.run(analyse.Inputs(conduct=CONDUCTED, contributions=CONTRIBUTIONS), SATISFACTION, NOW)


def test_decision_impact_must_name_the_plans_audiences() -> None:
    decision = DECISION.model_copy(update={"impact": (analyse.GroupImpact(audience="parents", impact="x"),)})
    with pytest.raises(MissingInputs, match="parents"):
        analyse.run(
            analyse.Inputs(conduct=CONDUCTED, contributions=CONTRIBUTIONS, decision=decision),
            SATISFACTION,
            NOW,
        )


def test_announcement_goes_out_on_the_collecting_channels_with_thanks() -> None:
    topic = Bilingual(ar="التصميم الجديد", en="The new website design")
    outputs = announce.run(announce.Inputs(analyse=ANALYSED, next_topics=(topic,)), SATISFACTION, NOW)
    assert outputs.channels == SATISFACTION.channels
    assert outputs.decision == DECISION.summary and outputs.not_adopted == DECISION.not_adopted
    assert "4 people" in outputs.thanks.en and outputs.next_topics == (topic,)


LESSONS = evaluate.Lessons(
    method_understood="yes",
    participation_drivers="banners",
    channels_served="website",
    contributions_useful="yes",
    lessons=("avoid exams",),
    improvements=("add SMS",),
)
TIMINGS = (
    evaluate.StageTiming(stage="prepare", attempts=1, days=1.0),
    evaluate.StageTiming(stage="analyse", attempts=3, days=6.5),
)


def test_evaluation_counts_reworks_and_keeps_the_lessons() -> None:
    announced = announce.run(announce.Inputs(analyse=ANALYSED), SATISFACTION, NOW)
    inputs = evaluate.Inputs(conduct=CONDUCTED, analyse=ANALYSED, announce=announced, timings=TIMINGS, lessons=LESSONS)
    outputs = evaluate.run(inputs, SATISFACTION, NOW)
    assert outputs.reworks == 2 and outputs.participants == 4 and outputs.influenced_decision
    assert outputs.improvements == (Prose(en="add SMS"),) and outputs.unanswered == ()
    assert outputs.answers["channels_served"] == Prose(en="website")


def test_evaluation_without_answers_completes_with_the_figures_and_names_the_gaps() -> None:
    announced = announce.run(announce.Inputs(analyse=ANALYSED), SATISFACTION, NOW)
    inputs = evaluate.Inputs(conduct=CONDUCTED, analyse=ANALYSED, announce=announced, timings=TIMINGS)
    outputs = evaluate.run(inputs, SATISFACTION, NOW)
    assert outputs.participants == 4 and outputs.influenced_decision and outputs.reworks == 2
    assert outputs.by_channel == CONDUCTED.by_channel and outputs.kpis == CONDUCTED.kpis
    assert outputs.unanswered == (
        "method_understood",
        "participation_drivers",
        "channels_served",
        "contributions_useful",
        "lessons",
        "improvements",
    )


def test_evaluation_with_some_answers_names_only_the_rest() -> None:
    announced = announce.run(announce.Inputs(analyse=ANALYSED), SATISFACTION, NOW)
    partial = evaluate.Lessons(channels_served="website", lessons=("avoid exams",))
    inputs = evaluate.Inputs(conduct=CONDUCTED, analyse=ANALYSED, announce=announced, timings=TIMINGS, lessons=partial)
    outputs = evaluate.run(inputs, SATISFACTION, NOW)
    assert outputs.unanswered == ("method_understood", "participation_drivers", "contributions_useful", "improvements")
