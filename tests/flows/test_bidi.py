"""Bidirectional text done right, measured in Chromium: in an Arabic page an English sentence keeps its full
stop at its own end, a link reads as written, an English list item keeps its bullet at its own start; the PDF
keeps the link whole. Screenshots of each page go to build/test-artifacts/."""

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from musharaka.flows.render import reports
from musharaka.flows.render.documents import environment, page, write_pdf
from musharaka.flows.views.outcomes import DecisionView, UpdateView
from musharaka.stages.plans import Bilingual
from musharaka.state.settings import get_settings
from tests.conftest import Workspace
from tests.web.browser import person, screenshot

pytestmark = pytest.mark.browser

NOTE = "Upload step redesigned; testing with students."  # written in English only
LINK = "https://www.moheri.gov.om/services/"
AT = datetime(2025, 9, 18, 6, 0, tzinfo=UTC)

# The horizontal place of characters on the page: a Range over one character of the first text node that
# holds the text, its left edge in CSS pixels.
WHERE = """([selector, text, index]) => {
  const walker = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const range = document.createRange();
    const i = at + (index < 0 ? text.length + index : index);
    range.setStart(node, i); range.setEnd(node, i + 1);
    return range.getBoundingClientRect().left;
  }
  return null;
}"""


# each item: its direction, and the left and right edges of its box and of its text
LIST_ITEMS = """[...document.querySelectorAll('#l li')].map(li => {
  const range = document.createRange(); range.selectNodeContents(li);
  const box = li.getBoundingClientRect(), text = range.getBoundingClientRect();
  return [getComputedStyle(li).direction, [box.left, box.right], [text.left, text.right]];
})"""


def page_with_a_note_and_a_link(ws: Workspace) -> list[Path]:
    view = DecisionView(
        campaign="moheri-2025-q3-satisfaction",
        title=Bilingual(ar="استطلاع حول رضا المستفيدين", en="Beneficiaries' satisfaction"),
        summary=Bilingual(ar="تبسيط خطوة رفع المستندات", en="Simplify the upload step"),
        rationale=Bilingual(ar="أشار المشاركون إلى صعوبة الرفع.", en="Participants found uploading hard."),
        based_on_contributions=True,
        participants=1234,
        approved_at=AT,
        status="in-progress",
        percent=40,
        updates=[UpdateView(at=AT, actor="planning.team", status="in-progress", percent=40, note=NOTE, evidence=LINK)],
    )
    return reports.write_you_said_we_did(view, now=AT, zone="Asia/Muscat")


def test_an_english_sentence_and_a_link_read_as_written_in_an_arabic_page(ws: Workspace, chromium: Any) -> None:
    arabic = next(p for p in page_with_a_note_and_a_link(ws) if p.name.endswith(".ar.html"))
    reader = person(chromium, authenticator=False)
    reader.page.goto(arabic.as_uri())
    screenshot(reader.page, "bidi-you-said-we-did-ar")

    def left(selector: str, text: str, index: int) -> float:
        found = reader.page.evaluate(WHERE, [selector, text, index])
        assert found is not None, (selector, text)
        return float(found)

    # the sentence runs left to right and its full stop is its last character, at its right
    assert left("#updates", NOTE, 0) < left("#updates", NOTE, -2) < left("#updates", NOTE, -1)
    # the link reads "https://…/": its first letter at the left, its closing slash at the right
    assert left("#updates a", LINK, 0) < left("#updates a", LINK, 8) < left("#updates a", LINK, -1)
    # the page itself runs right to left: the table's first column (when) stands right of the note
    assert left("#updates", "2025", 0) > left("#updates", NOTE, -1)


def test_an_english_list_item_keeps_its_bullet_at_its_own_start(chromium: Any, tmp_path: Path) -> None:
    # the plan's key messages, as plan.html.j2 lists them, one Arabic and one written in English
    template = (get_settings().templates_dir / "plan.html.j2").read_text(encoding="utf-8")
    [items] = [line for line in template.splitlines() if "o.key_messages" in line]
    html = (
        environment(get_settings().templates_dir, "ar")
        .from_string('<html lang="ar" dir="rtl"><body><div id="l">' + items + "</div></body></html>")
        .render(page("ar"), o={"key_messages": [{"ar": "خدمة الدردشة"}, {"ar": "Live chat support."}]})
    )
    document = tmp_path / "list.html"
    document.write_text(html, encoding="utf-8")
    reader = person(chromium, authenticator=False)
    reader.page.goto(document.as_uri())
    screenshot(reader.page, "bidi-list-ar")
    found = reader.page.evaluate(LIST_ITEMS)
    (arabic_dir, arabic_box, arabic_text), (english_dir, english_box, english_text) = found
    assert (arabic_dir, english_dir) == ("rtl", "ltr")
    # each item's text starts at its own side: the Arabic at the right, the English at the left
    assert arabic_box[1] - arabic_text[1] < 2 and english_text[0] - english_box[0] < 2


def test_the_pdf_keeps_the_link_and_the_sentence_whole(ws: Workspace, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("needs pdftotext (Debian's poppler-utils)")
    arabic = next(p for p in page_with_a_note_and_a_link(ws) if p.name.endswith(".ar.html"))
    pdf = tmp_path / "page.pdf"
    write_pdf(arabic, pdf)
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines = text.splitlines()  # the narrow column wraps both, each in its own order
    assert LINK in "".join(lines) and "/https" not in text
    assert NOTE in " ".join(lines) and ".Upload" not in text
