"""The communication plan on a campaign's page: each message's due day and where it stands, before the start."""

import httpx
import pytest

from tests.conftest import Workspace
from tests.web.browser import served
from tests.web.test_campaign import clock, planner, text_of

VOTE = "moheri-2025-q1-chatbot-name"


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["The communication plan", "30 January 2025 overdue", "when its moment comes scheduled"]),
        ("ar", ["خطة التواصل", "30 يناير 2025 متأخرة", "عند حلول موعدها مجدولة"]),
    ],
)
def test_the_page_of_a_campaign_not_started_lists_its_messages_by_the_plans_dates(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, lang: str, words: list[str]
) -> None:
    # the page's clock is 15 June 2025: the vote's window (2 to 20 February) is long past and nothing was sent;
    # `vote-coming` was due on Thu 30 January (3 days before the window opened); the decision's message has no
    # day while there is no decision
    with served(monkeypatch, now=clock) as url, httpx.Client(base_url=url) as client:
        planner(client, url)
        client.cookies.set("musharaka_lang", lang)
        page = text_of(client.get(f"/campaigns/{VOTE}").text)
    for expected in words:
        assert expected in page
