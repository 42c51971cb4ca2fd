"""`musharaka validate`: every problem located as file:line:column: field: expected, found; exit 2."""

import re

import pytest
from sqlalchemy import create_engine, inspect

from musharaka.flows.planfiles.loading import load_plans
from musharaka.stages.plans import Calendar
from tests.conftest import Workspace

SATISFACTION = "campaigns/moheri-2025-q3-satisfaction.yaml"
LOCATED = re.compile(r"^(?P<file>\S+):(?P<line>\d+):(?P<col>\d+): (?P<field>\S+): (?P<message>.+)$")


def edit(ws: Workspace, relative: str, old: str, new: str) -> None:
    path = ws.plans / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(ws: Workspace) -> list[dict[str, str]]:
    result = ws.run("validate", str(ws.plans))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output + result.stderr
    lines = [line for line in result.stderr.splitlines() if LOCATED.match(line)]
    assert lines, result.stderr
    return [LOCATED.match(line).groupdict() for line in lines]  # type: ignore[union-attr]


def line_of(ws: Workspace, relative: str, needle: str) -> int:
    lines = (ws.plans / relative).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, start=1) if needle in text)


def test_sample_programme_validates(ws: Workspace) -> None:
    result = ws.run("validate", str(ws.plans))
    assert result.exit_code == 0, result.stderr
    assert "6 campaign plan(s), 1 programme(s), an approvers registry" in result.output


def test_unknown_key_is_located_with_a_did_you_mean(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "decision_method: agency-decides", "decison_method: agency-decides")
    found = problems(ws)
    unknown = next(p for p in found if p["field"] == "decison_method")
    assert unknown["file"].endswith(SATISFACTION)
    assert int(unknown["line"]) == line_of(ws, SATISFACTION, "decison_method")
    assert "did you mean 'decision_method'?" in unknown["message"]
    missing = next(p for p in found if p["field"] == "decision_method")
    assert "missing" in missing["message"]


def test_wrong_type_says_what_was_expected_and_found(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "quorum: 2", "quorum: two")
    [problem] = problems(ws)
    assert problem["field"] == "gates.analyse.quorum"
    assert int(problem["line"]) == line_of(ws, SATISFACTION, "quorum: two")
    assert "expected a valid integer" in problem["message"] and "'two'" in problem["message"]


def test_literal_value_gets_a_suggestion(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "level: consultation", "level: consultaton")
    [problem] = problems(ws)
    assert problem["field"] == "level"
    assert "did you mean 'consultation'?" in problem["message"]
    assert "found 'consultaton'" in problem["message"]


def test_window_closing_before_it_opens(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "closes: 2025-08-14", "closes: 2025-07-01")
    [problem] = problems(ws)
    assert problem["field"] == "window.closes"
    assert int(problem["line"]) == line_of(ws, SATISFACTION, "closes: 2025-07-01")
    assert "on or after the opening 2025-07-06, found 2025-07-01" in problem["message"]


def test_quarter_must_contain_the_window_opening(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "opens: 2025-07-06", "opens: 2025-06-28")
    [problem] = problems(ws)
    assert problem["field"] == "window.opens"
    assert "within 2025-Q3 (2025-07-01 to 2025-09-30), found 2025-06-28" in problem["message"]


def test_duplicate_question_ids(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "- id: ease", "- id: overall")
    # the analysis section's satisfaction question `overall` now names two questions; the first is named
    problem = problems(ws)[0]
    assert problem["field"] == "instrument.2.id"
    assert "unique id, found 'overall' again" in problem["message"]


def test_duplicate_campaign_ids_across_files(ws: Workspace) -> None:
    text = (ws.plans / SATISFACTION).read_text(encoding="utf-8")
    ws.write("plans/campaigns/copy.yaml", text)
    [problem] = problems(ws)
    assert problem["file"].endswith("copy.yaml") or problem["file"].endswith(SATISFACTION)
    assert "used once" in problem["message"]


def test_gate_role_nobody_holds(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "roles: [dg-planning, director]", "roles: [dg-planing, director]")
    [problem] = problems(ws)
    assert problem["field"] == "gates.analyse.roles.0"
    assert "did you mean 'dg-planning'?" in problem["message"]
    assert "'dg-planing' which nobody holds" in problem["message"]


def test_programme_naming_a_missing_campaign(ws: Workspace) -> None:
    (ws.plans / "campaigns/moheri-2025-q4-website-design.yaml").unlink()
    [problem] = problems(ws)
    assert problem["file"].endswith("programme-2025.yaml")
    assert problem["field"].startswith("campaigns.") and problem["field"].endswith(".campaign")
    assert "'moheri-2025-q4-website-design' which no valid plan declares" in problem["message"]


PROGRAMME = "programme-2025.yaml"


def test_a_calendar_of_an_unknown_country_is_located(ws: Workspace) -> None:
    edit(ws, PROGRAMME, "country: OM", "country: XX")
    [problem] = problems(ws)
    assert problem["file"].endswith(PROGRAMME) and problem["field"] == "calendar.country"
    assert int(problem["line"]) == line_of(ws, PROGRAMME, "country: XX")
    assert "a country whose holidays are known, such as OM, AE or SA, found 'XX'" in problem["message"]


def test_a_campaign_calendar_needs_a_two_letter_country_code_and_day_names(ws: Workspace) -> None:
    path = ws.plans / SATISFACTION
    path.write_text(
        path.read_text(encoding="utf-8") + "calendar:\n  country: Oman\n  weekend: [Friday]\n", encoding="utf-8"
    )
    country, weekend = problems(ws)
    assert (country["field"], int(country["line"])) == ("calendar.country", line_of(ws, SATISFACTION, "Oman"))
    assert country["message"] == "expected a two-letter country code such as OM or AE, found 'Oman'"
    assert weekend["field"] == "calendar.weekend.0"
    assert "did you mean 'friday'?" in weekend["message"] and "found 'Friday'" in weekend["message"]


def test_a_campaign_takes_the_programmes_calendar_unless_it_names_its_own(ws: Workspace) -> None:
    path = ws.plans / "campaigns/moheri-2025-q2-gpa-poll.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "calendar: {country: AE}\n", encoding="utf-8")
    plans, found = load_plans([ws.plans])
    assert not found
    assert plans.campaigns["moheri-2025-q3-satisfaction"].calendar == Calendar(country="OM")
    assert plans.campaigns["moheri-2025-q2-gpa-poll"].calendar == Calendar(country="AE")


def test_malformed_yaml_names_the_line(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "kind: survey", "kind: [survey")
    [problem] = problems(ws)
    assert problem["field"] == "(yaml)"
    assert int(problem["line"]) >= line_of(ws, SATISFACTION, "kind: [survey")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "expected a campaign plan, found an empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "found binary data"),
        (b"id: x\ntitle: \xff\xfe\n", "found byte 0xff that is not UTF-8"),
    ],
    ids=["empty", "binary", "not-utf8"],
)
def test_unreadable_files(ws: Workspace, content: bytes, expected: str) -> None:
    (ws.plans / "campaigns/bad.yaml").write_bytes(content)
    [problem] = problems(ws)
    assert problem["file"].endswith("bad.yaml")
    assert expected in problem["message"]


def test_every_problem_in_every_file_is_reported_at_once(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "level: consultation", "level: consultaton")
    (ws.plans / "campaigns/empty.yaml").write_bytes(b"")
    assert {p["field"] for p in problems(ws)} >= {"level", "(file)"}


def test_start_with_invalid_plans_writes_nothing(ws: Workspace) -> None:
    edit(ws, SATISFACTION, "level: consultation", "level: consultaton")
    result = ws.run("start", "moheri-2025-q1-chatbot-name")
    assert result.exit_code == 2
    assert "nothing was changed" in result.stderr
    tables = inspect(create_engine(ws.db_url)).get_table_names()
    assert (
        "event" not in tables
        or create_engine(ws.db_url).connect().exec_driver_sql("select count(*) from event").scalar() == 0
    )


def test_schema_lists_the_campaign_keys(ws: Workspace) -> None:
    result = ws.run("schema")
    assert result.exit_code == 0
    assert '"decision_method"' in result.output and '"additionalProperties": false' in result.output
