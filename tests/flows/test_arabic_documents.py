"""The Arabic documents are whole in Arabic: no run of Latin letters but a value marked as not translated
(inside an element with lang="en"), an identifier, a URL, a digest or a code, or a name the ministry's
own Arabic text writes in Latin letters (a product's name in a campaign's Arabic title)."""

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import Workspace
from tests.flows.test_documents_browser import run_lifecycle

pytestmark = pytest.mark.prefect  # runs flows on Prefect's server

LATIN = re.compile(r"[A-Za-z][A-Za-z'’.\-]*(?:\s+[A-Za-z][A-Za-z'’.\-]*)*")
ALLOWED = [
    re.compile(r"https?://\S+"),  # a link reads as written
    re.compile(r"\b[a-z0-9]+(?:[.\-_][a-z0-9]+)+\b"),  # ids: moheri-2025-q3-satisfaction, dg.planning
    re.compile(r"\b[0-9a-f]{8,}\b"),  # digests
    re.compile(r"\bSHA-256\b|\bUTC\b|\bWCAG\b|\bCSV\b|\bPDF\b"),  # codes and standards' names
]


class ArabicText(HTMLParser):
    """The visible text of a document outside elements marked as another language, scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self._stack: list[bool] = []  # per open element: whether its text is excused

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "link", "br", "img", "hr", "input"):
            return
        marked = dict(attrs).get("lang", "ar") != "ar" or tag in ("script", "style", "title", "code")
        self._stack.append(marked or (bool(self._stack) and self._stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("meta", "link", "br", "img", "hr", "input") and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self._stack and self._stack[-1]):
            self.text.append(data)


def arabic_texts(value: Any) -> list[str]:
    """Every Arabic text of a plan file (the `ar` of its bilingual fields)."""
    if isinstance(value, dict):
        own = [value["ar"]] if isinstance(value.get("ar"), str) else []
        return own + [text for item in value.values() for text in arabic_texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in arabic_texts(item)]
    return []


def written_in_arabic_text(plans: Path) -> set[str]:
    """The Latin runs the plans' Arabic texts themselves hold."""
    texts = [text for path in plans.rglob("*.yaml") for text in arabic_texts(YAML(typ="safe").load(path))]
    return {run.strip(" .-") for text in texts for run in LATIN.findall(text)}


def latin_runs(html: str) -> list[str]:
    parser = ArabicText()
    parser.feed(html)
    text = " ".join(parser.text)
    for allowed in ALLOWED:
        text = allowed.sub(" ", text)
    return sorted({run.strip(" .-") for run in LATIN.findall(text) if run.strip(" .-")})


def test_the_arabic_documents_have_no_english_but_what_is_marked(ws: Workspace) -> None:
    documents = [d for d in run_lifecycle(ws) if ".ar." in d.name]
    assert len(documents) >= 8
    prepare = next(d for d in documents if d.name.startswith("prepare-")).read_text(encoding="utf-8")
    assert "الربع الثالث 2025" in prepare  # the quarter as a reader writes it, the year without a separator
    theirs = written_in_arabic_text(ws.plans)
    found = {
        d.name: runs
        for d in documents
        if (runs := [r for r in latin_runs(d.read_text(encoding="utf-8")) if r not in theirs])
    }
    assert found == {}, found
