"""Every document a ministry publishes or reads meets WCAG 2.1 AA: axe-core finds nothing, in Arabic and in
English. The documents are those of a whole campaign (every stage, the announcement pack, the audit report)."""

from typing import Any

import pytest

from tests.conftest import Workspace
from tests.flows.test_documents_browser import run_lifecycle
from tests.web.browser import axe_violations, person

pytestmark = pytest.mark.browser


def test_every_document_passes_axe_in_both_languages(ws: Workspace, chromium: Any) -> None:
    documents = run_lifecycle(ws)
    reader = person(chromium, authenticator=False, audit=True)
    found = {}
    for document in documents:
        reader.page.goto(document.as_uri())
        violations = axe_violations(reader.page)
        if violations:
            found[document.name] = violations
    assert {d.name.split(".")[1] for d in documents} == {"ar", "en"}
    assert found == {}, found
