"""A programme's own channels, tools and sectors, and its own indicators computed by formula, through the CLI."""

import pytest

from tests.conftest import Workspace
from tests.flows.test_lifecycle import ok
from tests.flows.test_outcomes import add_campaign, figures, kpis, to_analysed
from tests.flows.test_validate import SATISFACTION, edit, line_of, problems

PROGRAMME = "programme-2025.yaml"
VOCABULARY = """\
vocabulary:
  channels:
    - id: ministry-majlis-app
      name: {ar: تطبيق مجلس الوزارة, en: Ministry majlis app}
  tools:
    - id: town-hall
      name: {ar: لقاء مفتوح, en: Town hall}
  sectors:
    - id: higher-education
      name: {ar: التعليم العالي, en: Higher education}
"""
INDICATORS = """\
  - id: contributions-per-campaign
    name: {ar: متوسط المشاركات لكل حملة, en: Contributions per campaign carried out}
    unit: count
    target: 10
    formula: contributions / campaigns_carried_out
  - id: published-share
    name: {ar: نسبة الحملات المحللة التي نشرت نتائجها, en: Share of analysed campaigns published}
    unit: percent
    target: 100
    formula: 100 * published / analysed
"""


def with_vocabulary(ws: Workspace) -> None:
    programme = ws.plans / PROGRAMME
    programme.write_text(programme.read_text(encoding="utf-8") + VOCABULARY + "\n", encoding="utf-8")


def with_indicators(ws: Workspace) -> None:
    programme = ws.plans / PROGRAMME
    text = programme.read_text(encoding="utf-8")
    programme.write_text(text.rstrip("\n") + "\n" + INDICATORS, encoding="utf-8")


def test_a_campaign_may_name_the_new_built_in_channels(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "channels: [website, e-survey]", "channels: [website, e-survey, whatsapp, government-app]")
    edit(ws, SATISFACTION, "tools: [", "tools: [majlis, ")
    result = ws.run("validate", str(ws.plans))
    assert result.exit_code == 0, result.stderr


def test_a_campaign_may_name_the_programmes_own_channels_tools_and_sectors(ws: Workspace) -> None:
    with_vocabulary(ws)
    edit(ws, SATISFACTION, "channels: [website, e-survey]", "channels: [website, e-survey, ministry-majlis-app]")
    edit(ws, SATISFACTION, "sector: education", "sector: higher-education")
    edit(ws, SATISFACTION, "tools: [", "tools: [town-hall, ")
    result = ws.run("validate", str(ws.plans))
    assert result.exit_code == 0, result.stderr


def test_a_channel_neither_built_in_nor_the_programmes_is_located_with_a_did_you_mean(ws: Workspace) -> None:
    with_vocabulary(ws)
    edit(ws, SATISFACTION, "channels: [website, e-survey]", "channels: [website, e-survey, ministry-majlis-ap]")
    edit(ws, SATISFACTION, "sector: education", "sector: educaton")
    found = {p["field"]: p for p in problems(ws)}
    channel = found["channels.2"]
    assert channel["file"].endswith(SATISFACTION) and int(channel["line"]) == line_of(ws, SATISFACTION, "channels:")
    assert "did you mean 'ministry-majlis-app'?" in channel["message"]
    assert "found 'ministry-majlis-ap'" in channel["message"]
    assert "did you mean 'education'?" in found["sector"]["message"]


def test_a_programmes_own_id_may_not_be_a_built_in_one(ws: Workspace) -> None:
    with_vocabulary(ws)
    edit(ws, PROGRAMME, "id: ministry-majlis-app", "id: whatsapp")
    found = {p["field"]: p for p in problems(ws)}
    assert "expected an id that is not built in, found 'whatsapp'" in found["vocabulary.channels.0.id"]["message"]


def test_a_formula_naming_an_unknown_figure_or_not_arithmetic_is_located(ws: Workspace) -> None:
    with_indicators(ws)
    edit(ws, PROGRAMME, "contributions / campaigns_carried_out", "contributions / campaign_carried_out")
    edit(ws, PROGRAMME, "100 * published / analysed", "__import__('os').getcwd()")
    found = {p["field"]: p for p in problems(ws)}
    unknown = found["indicators.3.formula"]
    assert int(unknown["line"]) == line_of(ws, PROGRAMME, "campaign_carried_out")
    assert "did you mean 'campaigns_carried_out'?" in unknown["message"]
    assert "found 'campaign_carried_out'" in unknown["message"]
    assert "expected only numbers, figure names, + - * / and parentheses" in found["indicators.4.formula"]["message"]


@pytest.mark.prefect
def test_the_programmes_own_names_and_indicators_show_in_the_documents_and_the_kpi_report(ws: Workspace) -> None:
    with_indicators(ws)  # the indicators end the programme file: they go first
    with_vocabulary(ws)
    windows = {"h1-a": ("2025-Q1", "2025-01-05", "2025-01-20"), "h1-b": ("2025-Q2", "2025-04-06", "2025-04-24")}
    for campaign, (quarter, opens, closes) in windows.items():
        add_campaign(ws, campaign, quarter, opens, closes)
    edit(
        ws, "campaigns/h1-a.yaml", "channels: [website, e-survey]", "channels: [website, ministry-majlis-app, e-survey]"
    )
    for campaign, (_, opens, closes) in windows.items():
        to_analysed(ws, campaign, opens, closes)
    ok(ws, "approve", "h1-a", "announce", *ws.key("dg.planning"), now="2025-01-22T09:00+04:00")

    report = kpis(ws, "2025-H1", now="2025-07-01T08:00+04:00")

    # two campaigns carried out with the sample's 5 contributions each: 10 / 2 = 5 per campaign, gap 10 - 5;
    # both analysed, one published: 100 * 1 / 2 = 50%, gap 50%
    assert figures(report)[3:] == [("10", "5", "5"), ("100%", "50%", "50%")]
    assert report["indicators"][4]["formula"] == "100 * published / analysed"
    status = {line["campaign"]: line["channels"] for line in report["status"]}
    assert status["h1-a"] == {
        "en": "Website, Ministry majlis app, E-surveys",
        "ar": "الموقع الإلكتروني، تطبيق مجلس الوزارة، الاستبيانات الإلكترونية",
    }
    # the plan document names the programme's channel in each language
    english = next((ws.out / "h1-a").glob("plan-1.en.*.html")).read_text(encoding="utf-8")
    arabic = next((ws.out / "h1-a").glob("plan-1.ar.*.html")).read_text(encoding="utf-8")
    assert "Ministry majlis app" in english and "تطبيق مجلس الوزارة" in arabic
    assert "ministry-majlis-app" not in english + arabic

    # nothing carried out in the second half-year: contributions / campaigns_carried_out has no value, and says why
    later = kpis(ws, "2025-H2", now="2026-01-02T08:00+04:00")
    row = later["indicators"][3]
    assert (row["actual_text"], row["gap_text"]) == ("—", "—")
    assert row["reason"]["en"] == "no value: campaigns_carried_out is zero in 2025-H2"
    table = ok(ws, "kpis", "--period", "2025-H2", now="2026-01-02T08:00+04:00")
    assert "4: no value: campaigns_carried_out is zero in 2025-H2" in table
    ok(ws, "kpis", "--period", "2025-H1", "--html", now="2025-07-01T08:00+04:00")
    html = (ws.out / "kpis/2025-H1.en.html").read_text(encoding="utf-8")
    assert "<code>100 * published / analysed</code>" in html
