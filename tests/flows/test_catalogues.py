"""The engine's words come from gettext catalogues, and the Arabic catalogue has every one of them."""

import re

from babel.messages.catalog import Catalog

from musharaka.flows.render import catalogue
from musharaka.stages.i18n import words


def test_every_message_the_code_and_templates_use_has_an_arabic_translation() -> None:
    assert catalogue.problems("ar") == []


def test_the_extraction_finds_the_messages_of_templates_code_and_markers() -> None:
    used = catalogue.extract()
    assert used.get("Participation window") is not None  # a template's _() and the calendar's
    assert used.get("planned", "implementation") is not None  # a marker with a context, NC_()
    assert used.get("%(n)s attempt") is not None  # a plural, ngettext()
    places = {file for message in used for file, _ in message.locations}
    assert {"templates/plan.html.j2", "templates/web/gate.html.j2", "flows/views/summaries.py"} <= places


def test_arabic_plural_forms_and_contexts_come_from_the_catalogue() -> None:
    arabic = words("ar")
    forms = [arabic.ngettext("%(n)s event", "%(n)s events", n) % {"n": n} for n in (0, 1, 2, 5, 11, 100)]
    assert forms == ["0 حدث", "حدث واحد", "حدثان", "5 أحداث", "11 حدثًا", "100 حدث"]
    assert arabic.pgettext("implementation", "planned") == "مخطط للتنفيذ"
    assert arabic.gettext("planned") == "مخطط"  # the programme table's status, the same English word
    assert not re.search("[A-Za-z]", arabic.gettext("The stage's documents"))


def test_a_missing_translation_is_named_with_the_place_that_uses_it(tmp_path, monkeypatch) -> None:
    source = catalogue.catalogue_file("ar").read_text(encoding="utf-8")
    emptied = source.replace('msgstr "وثائق المرحلة"', 'msgstr ""')
    assert emptied != source
    copy = tmp_path / "ar" / "LC_MESSAGES" / "musharaka.po"
    copy.parent.mkdir(parents=True)
    copy.write_text(emptied, encoding="utf-8")
    monkeypatch.setattr(catalogue, "catalogue_file", lambda lang: tmp_path / lang / "LC_MESSAGES" / "musharaka.po")
    [problem] = catalogue.problems("ar")
    assert (
        problem.startswith("templates/web/gate.html.j2:")
        and 'no ar translation for "The stage\'s documents"' in problem
    )


def test_a_message_the_extractor_cannot_see_is_a_problem_too() -> None:
    # Babel reads no call inside an f-string; the check reads the code with Python's parser as well, so a
    # message it finds in the code and not in the extraction is named (here: every one, against no extraction)
    unseen = catalogue._unseen(Catalog())
    assert any(line.startswith("stages/announce.py:") and "'Next topics' is not extracted" in line for line in unseen)
    assert any(line.startswith("flows/views/summaries.py:") for line in unseen)
