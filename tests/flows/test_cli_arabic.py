"""The CLI speaks Arabic with `--lang ar` or MUSHARAKA_LANG=ar: `status`, `gates`, `history` and `kpis` read in
Arabic, times in the campaign's zone with the zone named, ids set apart; a refusal says what it means."""

import re

import pytest

from tests.conftest import Workspace
from tests.flows.samples import CAMPAIGN
from tests.flows.test_lifecycle import ok, to_conduct

RLM, FSI, RLI, PDI = "\u200f", "\u2068", "\u2067", "\u2069"
# an innermost isolate holding an id, a digest, an event type, a role list or what a person wrote in English
ISOLATED_NAME = re.compile(f"{FSI}[\\w.:|, -]*{PDI}")


def words_left(text: str) -> str:
    """The text with every isolated name taken out, innermost first."""
    while (shorter := ISOLATED_NAME.sub("", text)) != text:
        text = shorter
    return text


def line_of(text: str, campaign: str) -> str:
    [line] = [line for line in text.splitlines() if campaign in line]
    return line


@pytest.mark.prefect
def test_status_gates_and_history_read_in_arabic(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    to_conduct(ws)  # started 15 June 2025 09:00 Muscat; prepare approved with the comment "go"
    now = "2025-06-18T09:00+04:00"

    status = ok(ws, "--lang", "ar", "status", now=now)
    row = line_of(status, CAMPAIGN)
    assert row.startswith(RLM) and f"{FSI}{CAMPAIGN}{PDI}" in row  # runs right to left; the id reads as written
    for shown in ("الربع الثالث 2025", "التنفيذ", "منتظرة", "6 يوليو 2025 – 14 أغسطس 2025، لم تبدأ بعد"):
        assert f"{FSI}{shown}{PDI}" in row, shown
    assert f"تنتظر حتى {RLI}6 يوليو 2025، 12:00 ص (توقيت عُمان){PDI}" in row  # the window opens at midnight
    assert status.splitlines()[0].startswith(f"{RLM}{FSI}الحملة{PDI}")
    assert not re.search("[A-Za-z]", words_left(status)), words_left(status)

    monkeypatch.setenv("MUSHARAKA_LANG", "ar")  # the setting does what --lang does
    gates = ok(ws, "gates", now=now)
    prepare = next(line for line in gates.splitlines() if "الإعداد" in line)
    # due 2025-06-20T20:00Z is midnight of the 21st in Muscat
    for shown in ("معتمدة", "1 من dg-planning", "dg.planning", "21 يونيو 2025، 12:00 ص (توقيت عُمان)"):
        assert f"{FSI}{shown}{PDI}" in prepare, shown
    assert not re.search("[A-Za-z]", words_left(gates)), words_left(gates)

    history = ok(ws, "history", CAMPAIGN, now=now)
    assert f"وافق {FSI}dg.planning{PDI} على مرحلة الإعداد في المحاولة 1: {FSI}go{PDI}" in history
    assert "فُتحت بوابة مرحلة الإعداد، وموعد القرار" in history and "15 يونيو 2025، 9:00 ص (توقيت عُمان)" in history
    assert not re.search("[A-Za-z]", words_left(history)), words_left(history)

    monkeypatch.delenv("MUSHARAKA_LANG")
    english = ok(ws, "gates", now=now)
    assert "21 June 2025, 00:00 (Oman Time)" in english and "approved" in english


def test_the_kpi_table_reads_in_arabic(ws: Workspace) -> None:
    shown = ok(ws, "--lang", "ar", "kpis", "--period", "2025-H1", now="2025-07-01T08:00+04:00")
    lines = shown.splitlines()
    assert lines[1].startswith(f"{RLM}{FSI}م{PDI}") and f"{FSI}المؤشر{PDI}" in lines[1]
    assert "حالة البرنامج في 1 يوليو 2025، 12:00 ص (توقيت عُمان):" in shown  # as the half-year ended
    assert f"{FSI}الربع الثالث 2025{PDI}" in shown and f"{FSI}مخطط{PDI}" in shown


@pytest.mark.prefect
def test_a_refusal_in_arabic_says_what_it_means_and_keeps_the_engines_detail(ws: Workspace) -> None:
    ok(ws, "start", CAMPAIGN, now="2025-06-15T09:00+04:00")  # the prepare gate opens
    refused = ws.run(
        "--lang", "ar", "approve", CAMPAIGN, "prepare", *ws.key("legal.advisor"), now="2025-06-16T09:00+04:00"
    )
    assert refused.exit_code == 1
    meaning, detail = refused.stderr.splitlines()[:2]
    assert meaning == "لا تملك صلاحية البتّ في هذه البوابة."
    assert detail.startswith("رُفض الطلب (role-not-allowed): legal.advisor holds roles ['legal']")
