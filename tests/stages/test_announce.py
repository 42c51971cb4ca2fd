"""The announcement pack: the collecting channels, each channel's limit, and what every piece says."""

from datetime import UTC, datetime

import pytest

from musharaka.flows.render.documents import render
from musharaka.stages import analyse, announce, conduct
from musharaka.stages.common import MissingInputs
from musharaka.stages.plans import Bilingual
from tests.stages.plans_fixture import SATISFACTION
from tests.stages.test_conduct import CLOSES, PLANNED, contribution

NOW = datetime(2025, 8, 20, tzinfo=UTC)
TOPIC = Bilingual(ar="التصميم الجديد للموقع", en="The new website design")
LONG = analyse.Decision(
    summary=Bilingual(
        ar="تبسيط خطوة رفع المستندات في خدمات القبول والمعادلة والبعثات " * 4,
        en="Simplify the document-upload step of the admission, equivalency and scholarship services " * 4,
    ),
    rationale=Bilingual(
        ar="أشار المشاركون إلى أن رفع المستندات هو الخطوة الأصعب في كل الخدمات " * 3,
        en="Participants named the upload step as the hardest part of every service " * 3,
    ),
    not_adopted=Bilingual(
        ar="طلب الدعم عبر الدردشة يحتاج إلى ميزانية العام القادم " * 3,
        en="Chat support needs next year's budget and a new contract " * 3,
    ),
    based_on_contributions=True,
)


def announced(
    channels: tuple[str, ...], contributions: tuple[conduct.Contribution, ...], title: str = ""
) -> announce.Outputs:
    plan = SATISFACTION.model_copy(update={"channels": channels})
    if title:
        plan = plan.model_copy(update={"title": Bilingual(ar=title, en=title)})
    frame = conduct.frame_of(contributions)
    counted = conduct.run(conduct.Inputs(plan=PLANNED, contributions=frame), plan, CLOSES)
    decided = analyse.run(analyse.Inputs(conduct=counted, contributions=frame, decision=LONG), plan, NOW)
    return announce.run(announce.Inputs(analyse=decided, conduct=counted, next_topics=(TOPIC,)), plan, NOW)


def test_posts_go_to_the_channels_that_collected_contributions_in_both_languages() -> None:
    outputs = announced(("website", "e-survey", "x"), (contribution("students"), contribution("students", "x")))
    assert outputs.channels == ("website", "x")  # no one answered by e-survey
    assert [(p.channel, p.lang) for p in outputs.posts] == [
        ("website", "ar"),
        ("website", "en"),
        ("x", "ar"),
        ("x", "en"),
    ]


def test_x_posts_fit_280_as_x_counts_them_and_keep_every_part() -> None:
    outputs = announced(("x",), (contribution("students", "x"),))
    for post in outputs.posts:
        assert post.shortened and post.limit == 280
        assert announce.x_length(post.text) == post.length <= 280
        lang = post.lang
        assert getattr(LONG.summary, lang)[:20] in post.text
        assert getattr(LONG.rationale, lang)[:20] in post.text
        assert getattr(LONG.not_adopted, lang)[:20] in post.text
        assert getattr(outputs.thanks, lang) in post.text
        assert getattr(TOPIC, lang)[:10] in post.text
        not_adopted = {"ar": "لماذا لم نأخذ بكل الآراء", "en": "Not every opinion could be adopted"}[lang]
        assert not_adopted in post.text and "…" in post.text


def test_website_posts_are_not_cut() -> None:
    (ar, en) = announced(("website",), (contribution("students"),)).posts
    assert not en.shortened and LONG.summary.en in en.text and LONG.not_adopted.ar in ar.text


def test_x_counts_links_as_23_and_wide_characters_as_2() -> None:
    assert announce.x_length("مرحبا") == 5
    assert announce.x_length("see https://moheri.gov.om/a/very/long/path/to/the/announcement") == 4 + 23
    assert announce.x_length("中文") == 4 and announce.x_length("e\u0301") == 1  # NFC: é is one


def test_a_post_that_cannot_fit_fails_the_stage_naming_the_channel() -> None:
    with pytest.raises(MissingInputs, match=r"announce\.posts\.x\.ar: the post cannot fit the channel's 280"):
        announced(("x",), (contribution("students", "x"),), title="عنوان طويل جداً " * 20)


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("piece", [None, "press-release", "web-page"])
def test_every_document_states_decision_reasons_not_adopted_thanks_and_next_topics(
    piece: str | None, lang: str
) -> None:
    outputs = announced(("website", "x"), (contribution("students"), contribution("students", "x")))
    html = render("announce", outputs, SATISFACTION, attempt=1, lang=lang, now=NOW, piece=piece)
    for text in (LONG.summary, LONG.rationale, LONG.not_adopted, outputs.thanks, TOPIC):
        assert getattr(text, lang).strip().replace("'", "&#39;") in html
    assert ('dir="rtl"' in html) == (lang == "ar")
