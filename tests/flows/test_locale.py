"""One way to show times and numbers to people: in the reader's language, from Babel's locale data, times in the
campaign's zone with the zone named; counts in the language's grammar; amounts with the locale's currency."""

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from musharaka.flows.render import locale
from musharaka.flows.render.documents import environment, page
from musharaka.state.settings import get_settings
from tests.conftest import Workspace, forget_settings
from tests.flows.samples import CAMPAIGN, LESSONS
from tests.flows.test_lifecycle import ok, to_conduct
from tests.flows.test_programme_views import held_decided_not_published

FIVE_UTC = datetime(2025, 6, 21, 5, 0, tzinfo=UTC)  # 09:00 in Muscat (UTC+4, no daylight saving)


@pytest.mark.parametrize(
    ("lang", "digits", "shown"),
    [
        ("ar", "latn", "\u206721 يونيو 2025، 9:00 ص (توقيت عُمان)\u2069"),
        ("ar", "arab", "\u2067٢١ يونيو ٢٠٢٥، ٩:٠٠ ص (توقيت عُمان)\u2069"),
        ("en", "latn", "21 June 2025, 09:00 (Oman Time)"),
        ("en", "arab", "21 June 2025, 09:00 (Oman Time)"),  # the setting is for Arabic only
    ],
)
def test_a_time_is_shown_in_the_zone_in_the_readers_language_with_the_zone_named(
    lang: str, digits: locale.Digits, shown: str
) -> None:
    assert locale.moment(FIVE_UTC, "Asia/Muscat", lang, digits=digits) == shown


def test_a_time_is_shown_in_the_zone_it_is_given() -> None:
    assert locale.moment(FIVE_UTC, "Asia/Riyadh", "en") == "21 June 2025, 08:00 (Arabian Time)"


@pytest.mark.parametrize(
    ("days", "arabic", "english"),
    [(1.0, "يوم", "1 day"), (2.0, "يومان", "2 days"), (3, "3 أيام", "3 days"), (11, "11 يومًا", "11 days"),
     (59.96, "59.96 يوم", "59.96 days")],
)  # fmt: skip
def test_days_follow_each_languages_plural_rules_and_whole_days_have_no_decimals(
    days: float, arabic: str, english: str
) -> None:
    assert (locale.measure(days, "duration-day", "ar"), locale.measure(days, "duration-day", "en")) == (arabic, english)


@pytest.mark.parametrize(
    ("n", "shown"),
    [(0, "0 محاولة"), (1, "محاولة واحدة"), (2, "محاولتان"), (3, "3 محاولات"), (10, "10 محاولات"),
     (11, "11 محاولة"), (100, "100 محاولة"), (103, "103 محاولات"), (1234, "1,234 محاولة")],
)  # fmt: skip
def test_a_count_takes_the_arabic_form_the_catalogues_plural_rule_chooses(n: int, shown: str) -> None:
    counted = '{{ ngettext("%(n)s attempt", "%(n)s attempts", n, n=n | number) }}'
    assert environment(get_settings().templates_dir, "ar").from_string(counted).render(page("ar"), n=n) == shown
    english = environment(get_settings().templates_dir, "en").from_string(counted).render(page("en"), n=n)
    assert english == ("1 attempt" if n == 1 else f"{n:,} attempts")


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [(3, "latn", "3"), (3, "arab", "٣"), (1234.5, "latn", "1,234.5"), (1234.5, "arab", "١٬٢٣٤٫٥"), (4.0, "latn", "4")],
)
def test_arabic_numbers_use_western_digits_unless_the_setting_asks_for_arabic_indic(
    value: float, digits: locale.Digits, shown: str
) -> None:
    assert locale.number(value, "ar", digits=digits) == shown


def test_amounts_carry_the_currency_babel_writes_for_the_language() -> None:
    amounts = "{{ 12000 | money('OMR') }}|{{ 50 | money('AED') }}"
    arabic = environment(get_settings().templates_dir, "ar").from_string(amounts).render(page("ar"))
    assert arabic == "\u200f12,000.000\xa0ر.ع.\u200f|\u200f50.00\xa0د.إ.\u200f"
    assert (
        environment(get_settings().templates_dir, "en").from_string(amounts).render(page("en"))
        == "OMR12,000.000|AED50.00"
    )


def documents_of(ws: Workspace, stage: str, *, now: str) -> dict[str, str]:
    """The stage's documents (its main one), by language, as the log records them."""
    history = json.loads(ok(ws, "history", CAMPAIGN, "--json", now=now))
    [done] = [e for e in history if e["type"] == "stage.completed" and e["payload"]["stage"] == stage]
    return {d["lang"]: (ws.out / d["path"]).read_text(encoding="utf-8") for d in done["payload"]["documents"]}


@pytest.mark.prefect
def test_a_document_gives_the_time_it_was_made_in_the_campaigns_zone_in_its_language(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-21T05:00Z")  # prepare runs at once: 09:00 in Muscat
    written = documents_of(ws, "prepare", now="2025-06-22T09:00+04:00")
    assert "21 يونيو 2025، 9:00 ص (توقيت عُمان)" in written["ar"]
    assert "21 June 2025, 09:00 (Oman Time)" in written["en"]
    assert "+04" not in written["ar"] + written["en"] and "05:00" not in written["en"]


@pytest.mark.prefect
def test_with_arabic_indic_digits_the_arabic_document_writes_its_numbers_so(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUSHARAKA_DIGITS", "arab")
    forget_settings()
    ok(ws, "start", CAMPAIGN, now="2025-06-13T09:30+04:00")
    written = documents_of(ws, "prepare", now="2025-06-14T09:00+04:00")
    assert "١٣ يونيو ٢٠٢٥، ٩:٣٠ ص" in written["ar"]  # ٣ for 3
    assert "13 June 2025, 09:30 (Oman Time)" in written["en"]


def table_after(html: str, heading: str) -> str:
    """The table that follows a heading of a document."""
    found = re.search(rf"<h2>{heading}</h2>\s*<table>(.*?)</table>", html, re.S)
    assert found, heading
    return found.group(1)


@pytest.mark.prefect
def test_evaluate_counts_days_and_attempts_in_arabic_grammar(ws: Workspace) -> None:
    held_decided_not_published(ws)  # announce starts when analyse is approved, 2025-08-18 10:00
    ok(ws, "approve", CAMPAIGN, "announce", *ws.key("dg.planning"), now="2025-08-20T10:00+04:00")  # two days on
    ok(ws, "submit", CAMPAIGN, "evaluate", str(ws.write("l.yaml", LESSONS)), now="2025-08-25T09:00+04:00")
    ok(ws, "advance", CAMPAIGN, now="2025-08-25T09:05+04:00")
    written = documents_of(ws, "evaluate", now="2025-08-26T09:00+04:00")
    arabic, english = table_after(written["ar"], "المدة في كل مرحلة"), table_after(written["en"], "Time in each stage")
    # prepare 15 June 09:00 to 16 June 09:00; plan to 17 June; conduct to 16 August (60 days); announce 2 days
    assert '<td>الإعداد</td><td class="num">يوم</td><td class="num">محاولة واحدة</td>' in arabic
    assert '<td>التنفيذ</td><td class="num">60 يومًا</td>' in arabic
    assert '<td>الإعلان</td><td class="num">يومان</td><td class="num">محاولة واحدة</td>' in arabic
    assert '<td>Announce</td><td class="num">2 days</td><td class="num">1 attempt</td>' in english
    assert ".0 " not in arabic and "المحاولات" not in arabic and "أيام" not in arabic


class WhatColumn(HTMLParser):
    """The "what and why" cells of the audit report, without what people wrote in another language (marked
    with its `lang`)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._column = -1
        self._quoted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._column = -1
        elif tag == "td":
            self._column += 1
            if self._column == 4:
                self.cells.append("")
        elif tag == "span" and dict(attrs).get("lang", "ar") != "ar":
            self._quoted += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._quoted:
            self._quoted -= 1

    def handle_data(self, data: str) -> None:
        if self._column == 4 and not self._quoted:
            self.cells[-1] += data


ISOLATED = re.compile("\u2068(.*?)\u2069")
NAMED = re.compile(r"[0-9a-f]{12}|[a-z][a-z0-9]*(?:[.\-][a-z0-9]+)+(?:\.[a-z]+)?|[a-z]+(?:-[a-z]+)*")


@pytest.mark.prefect
def test_the_arabic_audit_report_says_what_happened_in_arabic(ws: Workspace, tmp_path: Path) -> None:
    to_conduct(ws)  # prepare approved with the comment "go"
    bundle = tmp_path / "bundle"
    ok(ws, "audit", "export", "--campaign", CAMPAIGN, str(bundle), now="2025-06-21T05:00Z")
    arabic = (bundle / "report.ar.html").read_text(encoding="utf-8")
    column = WhatColumn()
    column.feed(arabic)
    assert len(column.cells) >= 10
    for cell in column.cells:
        names = ISOLATED.findall(cell)  # ids, digests, file names and codes, each set apart
        assert all(NAMED.fullmatch(name) for name in names), (cell, names)
        assert not re.search("[A-Za-z]", ISOLATED.sub("", cell)), cell
    approved = 'وافق \u2068dg.planning\u2069 على مرحلة الإعداد في المحاولة 1: <span lang="en" dir="ltr">go</span>'
    assert approved in arabic  # the comment as written, marked as English
    assert "أُعدّ في \u206721 يونيو 2025، 9:00 ص (توقيت عُمان)\u2069" in arabic
    assert "15 يونيو 2025، 9:00 ص (توقيت عُمان)" in arabic  # the campaign started then
    english = (bundle / "report.en.html").read_text(encoding="utf-8")
    assert "prepare attempt 1 approved by dg.planning: go" in english
    assert "15 June 2025, 09:00 (Oman Time)" in english


@pytest.mark.prefect
def test_the_english_history_command_names_times_in_the_campaigns_zone(ws: Workspace) -> None:
    to_conduct(ws)
    shown = ok(ws, "history", CAMPAIGN, now="2025-06-18T09:00+04:00")
    assert "prepare gate opened, due 21 June 2025, 00:00 (Oman Time)" in shown  # recorded as 2025-06-20T20:00Z
    assert "prepare attempt 1 approved by dg.planning: go" in shown
