"""Ingesting what the tools ministries use export: every source with its quirks, nothing duplicated or lost,
no one's e-mail or phone number stored."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from sqlalchemy import text
from sqlmodel import Session, SQLModel, col, select

from musharaka.state.db import get_engine
from musharaka.state.events import as_utc
from musharaka.state.tables import Contribution
from tests.conftest import Workspace
from tests.flows import exports
from tests.flows.exports import CAMPAIGN, GOOGLE_ROWS
from tests.flows.test_lifecycle import ok, to_conduct

NOW = "2025-08-15T08:00+04:00"


@pytest.fixture
def conduct(ws: Workspace) -> Workspace:
    """The satisfaction survey set up for real exports, collecting."""
    exports.prepare_plan(ws)
    to_conduct(ws)
    return ws


def stored(ws: Workspace) -> list[dict[str, object]]:
    """The contribution rows as the database holds them (times as UTC text)."""
    with Session(get_engine(ws.db_url)) as session:
        rows = session.exec(select(Contribution).order_by(col(Contribution.submitted_at))).all()
    return [
        {
            **row.model_dump(),
            "submitted_at": as_utc(row.submitted_at).strftime("%Y-%m-%d %H:%M:%S.%f"),
            "answers": json.loads(row.answers),
            "segments": json.loads(row.segments),
        }
        for row in rows
    ]


def sql(ws: Workspace, statement: str) -> None:
    """What a rogue administrator would do: change the database behind the engine's back."""
    with get_engine(ws.db_url).begin() as connection:
        connection.execute(text(statement))


def everything_stored(ws: Workspace) -> bytes:
    """Every value of every table, and for SQLite the database files' bytes too (free pages, the WAL)."""
    database = get_engine(ws.db_url)
    values = []
    with database.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                values.extend(str(value) for value in row)
    data = "\n".join(values).encode()
    if ws.db_url.startswith("sqlite:///"):
        path = Path(ws.db_url.removeprefix("sqlite:///"))
        data += b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return data


def ingest(ws: Workspace, path: Path, *extra: str, now: str = NOW) -> str:
    return ok(ws, "ingest", CAMPAIGN, str(path), *extra, now=now)


@pytest.mark.prefect
def test_google_forms_csv_is_read_with_its_quirks(conduct: Workspace) -> None:
    out = ingest(conduct, exports.google_forms(conduct))
    assert "4 rows read = 4 stored + 0 quarantined + 0 duplicates (google.csv, Google Forms (CSV))" in out
    rows = stored(conduct)
    first, second = rows[0], rows[1]
    # 7/6/2025 9:03:45 in the form's zone (Muscat, +04:00) is 05:03:45 UTC
    assert str(first["submitted_at"]).startswith("2025-07-06 05:03:45")
    # "Scholarships, grants and loans" has a comma, yet is one option
    assert first["answers"]["services-used"] == ["admission", "scholarships"]
    assert (first["channel"], first["audience"], first["source"]) == ("e-survey", "students", "google-forms")
    assert first["segments"] == {"governorate": "Muscat"}
    # Arabic labels and an Arabic-Indic digit
    assert second["answers"] == {
        "ease": "acceptable",
        "improve": "أتمنى تبسيط رفع المستندات",
        "overall": 4.0,
        "role": "researchers",
        "services-used": ["equivalency"],
    }
    assert second["audience"] == "researchers"
    assert len({r["participant"] for r in rows}) == 4 and all(len(str(r["participant"])) == 64 for r in rows)


@pytest.mark.prefect
def test_reingesting_a_file_adds_nothing(conduct: Workspace) -> None:
    path = exports.google_forms(conduct)
    ingest(conduct, path)
    out = ingest(conduct, path, now="2025-08-15T08:05+04:00")
    assert "4 rows read = 0 stored + 0 quarantined + 4 duplicates" in out
    assert len(stored(conduct)) == 4


SOURCES: dict[str, tuple[Callable[[Workspace], Path], str, int]] = {
    "ms-forms": (exports.ms_forms, "Microsoft Forms (XLSX)", 2),
    "kobo": (exports.kobo, "KoboToolbox (CSV)", 2),
    "odk": (exports.odk, "ODK Central (CSV)", 1),
    "surveymonkey": (exports.surveymonkey, "SurveyMonkey (CSV, two header rows)", 2),
    "jsonl": (exports.json_lines, "JSON Lines (one object per response)", 2),
}


@pytest.mark.prefect
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_source_is_detected_stored_and_not_duplicated(conduct: Workspace, source: str) -> None:
    make, label, count = SOURCES[source]
    path = make(conduct)
    out = ingest(conduct, path)
    assert f"{count} rows read = {count} stored + 0 quarantined + 0 duplicates ({path.name}, {label})" in out
    again = ingest(conduct, path, now="2025-08-15T08:05+04:00")
    assert f"{count} rows read = 0 stored + 0 quarantined + {count} duplicates" in again
    assert {r["source"] for r in stored(conduct)} == {source}


@pytest.mark.prefect
def test_microsoft_forms_choices_ending_in_a_semicolon_and_its_ids(conduct: Workspace) -> None:
    ingest(conduct, exports.ms_forms(conduct))
    rows = stored(conduct)
    assert rows[0]["answers"]["services-used"] == ["admission", "scholarships"]
    assert rows[0]["row_key"] == "ms-forms:1"
    assert str(rows[0]["submitted_at"]).startswith("2025-07-06 05:03:45")
    assert rows[1]["participant"] == ""  # "anonymous" is no one in particular


@pytest.mark.prefect
def test_kobo_takes_the_device_time_with_its_offset_else_the_server_time_in_utc(conduct: Workspace) -> None:
    out = ingest(conduct, exports.kobo(conduct))
    assert "columns not used" not in out  # the 1/0 option columns and the _ columns are the tool's own
    first, second = stored(conduct)
    assert str(first["submitted_at"]).startswith("2025-07-08 06:15:30.123")
    assert str(second["submitted_at"]).startswith("2025-07-09 14:20:00")
    assert first["answers"]["services-used"] == ["admission", "research-funding"]
    assert first["row_key"] == "kobo:6f1c2a7e-1d7b-4c55-9f0e-1b2a3c4d5e6f"
    assert first["segments"] == {"governorate": "Muscat"}


@pytest.mark.prefect
def test_odk_group_prefixes_and_utc_times(conduct: Workspace) -> None:
    ingest(conduct, exports.odk(conduct))
    (row,) = stored(conduct)
    assert row["answers"]["services-used"] == ["admission", "scholarships"]
    assert row["answers"]["improve"] == "Chat support"
    assert str(row["submitted_at"]).startswith("2025-07-10 06:15:30.123")


@pytest.mark.prefect
def test_surveymonkey_columns_per_option_make_one_answer(conduct: Workspace) -> None:
    ingest(conduct, exports.surveymonkey(conduct))
    first, second = stored(conduct)
    assert first["answers"]["services-used"] == ["admission", "scholarships"]
    assert second["answers"]["services-used"] == ["research-funding"]
    assert second["answers"]["improve"] == "Faster replies"
    # 07/11/2025 09:15:01 AM in Muscat
    assert str(first["submitted_at"]).startswith("2025-07-11 05:15:01")


@pytest.mark.prefect
def test_bad_rows_are_quarantined_with_row_numbers_and_reasons(conduct: Workspace) -> None:
    bad = [
        ["7/8/2025 10:00:00", "a@example.om", "7", "Unified admission", "Easy", "", "Students", "Muscat"],
        ["7/9/2025 10:00:00", "b@example.om", "4", "Library", "Easy", "", "Students", "Muscat"],
        ["yesterday", "c@example.om", "4", "Unified admission", "Easy", "", "Students", "Muscat"],
        ["8/15/2025 0:00:00", "d@example.om", "4", "Unified admission", "Easy", "", "Students", "Muscat"],
        ["7/10/2025 10:00:00", "e@example.om", "4", "Unified admission", "", "", "Students", "Muscat"],
        ["7/11/2025 10:00:00", "f@example.om", "4", "Unified admission", "Easy", "", "Visitors", "Muscat"],
    ]
    path = exports.google_forms(conduct, [*GOOGLE_ROWS, *bad], name="with-bad-rows.csv")
    out = ingest(conduct, path)
    assert "10 rows read = 4 stored + 6 quarantined + 0 duplicates" in out
    held = ok(conduct, "contributions", CAMPAIGN, "--quarantined", now=NOW)
    assert "with-bad-rows.csv:6: overall: expected a whole number from 1 to 5, found '7'" in held
    assert "with-bad-rows.csv:7: services-used: expected options among" in held and "['Library']" in held
    assert "with-bad-rows.csv:8: Timestamp: expected a date and time (m/d/Y H:M:S), found 'yesterday'" in held
    assert (
        "with-bad-rows.csv:9: Timestamp: expected a time inside the participation window 2025-07-06 to 2025-08-14 "
        "(Asia/Muscat), found '8/15/2025 0:00:00'" in held
    )
    assert "with-bad-rows.csv:10: ease: expected an answer (the question is required), found none" in held
    assert "with-bad-rows.csv:11: role: expected one of" in held and "found 'Visitors'" in held
    assert "6 row(s) quarantined" in held
    again = ingest(conduct, path, now="2025-08-15T08:05+04:00")
    assert "10 rows read = 0 stored + 0 quarantined + 10 duplicates" in again
    listing = json.loads(ok(conduct, "contributions", CAMPAIGN, "--quarantined", "--json", now=NOW))
    assert [item["row"] for item in listing] == [6, 7, 8, 9, 10, 11]
    assert listing[0]["cells"]["Email Address"] != "a@example.om" and len(listing[0]["cells"]["Email Address"]) == 64


@pytest.mark.prefect
def test_no_raw_email_or_phone_reaches_the_database_file(conduct: Workspace) -> None:
    rows = [row[:] for row in GOOGLE_ROWS]
    rows.append(["7/12/2025 10:00:00", "quarantined.person@example.om", "9", "Library", "Easy", "", "Students", ""])
    path = exports.google_forms(conduct, rows, name="people.csv")
    text = path.read_text(encoding="utf-8-sig").replace("Governorate", "Civil number").replace("Muscat", "96551234")
    text = text.replace('"Email Address"', "Email Address")
    path.write_text(text, encoding="utf-8")
    ingest(conduct, path)
    ingest(conduct, exports.surveymonkey(conduct))
    ingest(conduct, exports.ms_forms(conduct))
    data = everything_stored(conduct)
    for raw in ("Salim.AlHarthi@example.om", "salim.alharthi", "quarantined.person", "96551234", "mona@example.om",
                "Salim Al Harthi", "192.0.2.10", "Al Said"):  # fmt: skip
        assert raw.encode() not in data, raw
    # the same person, in two tools, is the same pseudonym
    people = [r["participant"] for r in stored(conduct)]
    assert len(people) - len(set(people)) >= 1


@pytest.mark.prefect
def test_a_file_no_tool_wrote_is_refused_whole(conduct: Workspace) -> None:
    path = conduct.write("export.csv", "when,what\n2025-07-08,hello\n")
    before = conduct.run("history", CAMPAIGN, "--json").output
    result = conduct.run("ingest", CAMPAIGN, str(path), now=NOW)
    assert result.exit_code == 2
    assert f"{path}:1: header: expected the columns of a known tool" in result.stderr
    assert "--source" in result.stderr and "nothing was changed" in result.stderr
    assert conduct.run("history", CAMPAIGN, "--json").output == before


@pytest.mark.prefect
def test_a_file_missing_a_required_question_is_refused_whole(conduct: Workspace) -> None:
    text = exports.google_forms(conduct).read_text(encoding="utf-8-sig").replace(exports.EASE, "Ease?")
    path = conduct.write("renamed.csv", text)
    result = conduct.run("ingest", CAMPAIGN, str(path), now=NOW)
    assert result.exit_code == 2
    assert f"{path}:1: header: expected a column for question 'ease'" in result.stderr
    assert stored(conduct) == []


@pytest.mark.prefect
def test_semicolon_separated_generic_csv_with_arabic_digits_in_dates(conduct: Workspace) -> None:
    text = (
        "submitted_at;channel;audience;overall;services-used;ease;improve\r\n"
        "٢٠٢٥-٠٧-١٥T10:00:00+04:00;website;students;٥;admission|equivalency;easy;\r\n"
    )
    path = conduct.write("semicolons.csv", text)
    assert "1 rows read = 1 stored" in ingest(conduct, path)
    (row,) = stored(conduct)
    assert str(row["submitted_at"]).startswith("2025-07-15 06:00:00")
    assert row["answers"]["overall"] == 5.0 and row["channel"] == "website"


@pytest.mark.prefect
def test_audit_verify_names_a_changed_quarantined_row(conduct: Workspace) -> None:
    bad = [["7/8/2025 10:00:00", "a@example.om", "7", "Unified admission", "Easy", "", "Students", "Muscat"]]
    ingest(conduct, exports.google_forms(conduct, [*GOOGLE_ROWS, *bad]))
    assert conduct.run("audit", "verify").exit_code == 0
    sql(conduct, "update quarantined_row set reasons = 'nothing wrong'")
    result = conduct.run("audit", "verify")
    assert result.exit_code == 1
    assert "quarantined 1 rows; 1 are there now and they do not match the sealed digest" in result.output


# a real file, its source and licence in SOURCES.md beside it
PABULIB = Path(__file__).resolve().parents[1] / "data" / "pabulib"


def pb_campaign(ws: Workspace) -> str:
    """The Gdańsk district budget of 2019 as a campaign: its three projects are the ballot's options."""
    yaml = YAML()
    plan = yaml.load(ws.plans / "campaigns" / f"{CAMPAIGN}.yaml")
    plan["id"] = "gdansk-2019-przerobka"
    plan["kind"], plan["level"], plan["quarter"] = "participatory-budget", "decision-making", "2019-Q3"
    plan["window"] = {"opens": "2019-09-09", "closes": "2019-09-23", "timezone": "Europe/Warsaw"}
    plan["audiences"] = [{"id": "residents", "name": {"ar": "السكان", "en": "Residents"}}]
    plan["channels"] = ["website"]
    plan["kpis"] = []
    projects = [("1", 42000), ("2", 5900), ("3", 8000)]
    plan["instrument"] = [
        {
            "id": "projects",
            "type": "ballot",
            "title": {"ar": "المشاريع", "en": "Projects"},
            "options": [{"id": i, "label": {"ar": f"مشروع {i}", "en": f"Project {i}"}, "cost": c} for i, c in projects],
        }
    ]
    plan["analysis"] = {
        "budget": {
            "question": "projects",
            "total": 242800,
            "currency": "PLN",
            "vote_type": "cumulative",
            "rule": "greedy",
        }
    }
    plan["ingest"] = {"segments": [{"id": "age", "columns": ["age"]}, {"id": "sex", "columns": ["sex"]}]}
    with (ws.plans / "campaigns" / "gdansk-2019-przerobka.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(plan, handle)
    return "gdansk-2019-przerobka"


def test_a_real_pabulib_file_is_one_row_per_vote_with_points_and_segments(ws: Workspace) -> None:
    campaign = pb_campaign(ws)
    ok(ws, "start", campaign, "--no-advance", now="2019-09-01T09:00+02:00")
    path = PABULIB / "pabulib_checker_example_valid_gdansk_2020_przerobka.pb"
    out = ok(ws, "ingest", campaign, str(path), now="2019-09-24T09:00+02:00")
    assert "182 rows read = 182 stored + 0 quarantined + 0 duplicates" in out and "Pabulib (.pb)" in out
    rows = {r["row_key"]: r for r in stored(ws)}
    first = rows["pabulib:290"]  # voter 290: 1 point to project 1, aged 35
    assert first["answers"] == {"projects": {"1": 1.0}}
    assert first["segments"] == {"age": "35", "sex": "F"}
    # every vote is dated by the close of voting, 23.09.2019, at midnight in Warsaw
    assert first["submitted_at"] == "2019-09-22 22:00:00.000000"
    # the file's own vote counts and scores, recomputed from what was stored
    votes = {p: sum(1 for r in rows.values() if p in r["answers"]["projects"]) for p in ("1", "2", "3")}
    score = {p: sum(r["answers"]["projects"].get(p, 0) for r in rows.values()) for p in ("1", "2", "3")}
    assert votes == {"3": 120, "1": 73, "2": 22} and score == {"3": 433, "1": 198, "2": 61}
    again = ok(ws, "ingest", campaign, str(path), now="2019-09-24T09:05+02:00")
    assert "182 rows read = 0 stored + 0 quarantined + 182 duplicates" in again


def area_budget(ws: Workspace) -> str:
    """A district budget in two areas: north (budget 5) funds n1 (cost 4) or n2 (3), south (4) s1 (4) or s2 (2)."""
    yaml = YAML()
    plan = yaml.load(ws.plans / "campaigns" / f"{CAMPAIGN}.yaml")
    plan["id"] = "district-budget-2025"
    plan["kind"], plan["level"], plan["kpis"], plan["ingest"] = "participatory-budget", "decision-making", [], {}
    projects = [("n1", 4, "north"), ("n2", 3, "north"), ("s1", 4, "south"), ("s2", 2, "south")]
    plan["instrument"] = [
        {
            "id": "projects",
            "type": "ballot",
            "title": {"ar": "المشاريع", "en": "Projects"},
            "options": [
                {"id": i, "label": {"ar": f"مشروع {i}", "en": f"Project {i}"}, "cost": c, "area": a}
                for i, c, a in projects
            ],
        }
    ]
    areas = [
        {"id": "north", "name": {"ar": "الشمال", "en": "North"}, "total": 5},
        {"id": "south", "name": {"ar": "الجنوب", "en": "South"}, "total": 4},
    ]
    plan["analysis"] = {
        "budget": {"question": "projects", "total": 9, "vote_type": "approval", "rule": "greedy", "areas": areas}
    }
    with (ws.plans / "campaigns" / "district-budget-2025.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(plan, handle)
    return "district-budget-2025"


def test_budget_ballots_from_csv_and_json_lines_are_counted_per_area(ws: Workspace) -> None:
    from musharaka.flows.engine import records
    from tests.stages.test_analysis import analysed

    campaign = area_budget(ws)
    ok(ws, "start", campaign, "--no-advance", now="2025-06-15T09:00+04:00")
    # two voters in the CSV format (projects joined with |), two in JSON Lines (a list)
    csv = ws.write(
        "ballots.csv",
        "submitted_at,channel,audience,projects\n"
        "2025-07-10T10:00:00+04:00,website,students,n1|s2\n"
        "2025-07-10T11:00:00+04:00,website,students,n1|n2\n",
    )
    jsonl = ws.write(
        "ballots.jsonl",
        '{"submitted_at": "2025-07-11T10:00:00+04:00", "channel": "website", "audience": "students", '
        '"projects": ["s1"]}\n'
        '{"submitted_at": "2025-07-11T11:00:00+04:00", "channel": "website", "audience": "students", '
        '"projects": ["n2", "s1"]}\n',
    )
    assert "2 rows read = 2 stored + 0 quarantined" in ok(
        ws, "ingest", campaign, str(csv), now="2025-07-12T09:00+04:00"
    )
    assert "2 rows read = 2 stored + 0 quarantined" in ok(
        ws, "ingest", campaign, str(jsonl), now="2025-07-12T09:05+04:00"
    )
    rows = stored(ws)
    assert sorted(tuple(r["answers"]["projects"]) for r in rows) == [("n1", "n2"), ("n1", "s2"), ("n2", "s1"), ("s1",)]
    # north ballots {n1}, {n1, n2}, {n2}: n1 and n2 2 votes each, the tie to the cheaper n2 (3 of 5), then n1 (4)
    # no longer fits; south ballots {s2}, {s1}, {s1}: s1 2 votes (4 of 4), then s2 no longer fits
    plan = records.load_plan_set().campaigns[campaign]
    contributions = [
        {"submitted_at": r["submitted_at"] + "+00:00", "channel": r["channel"], "audience": r["audience"],
         "answers": r["answers"], "segments": r["segments"]}
        for r in rows
    ]  # fmt: skip
    result = analysed(plan, contributions).budget
    assert result is not None
    north, south = result.areas
    assert (north.area, north.ballots, north.outcome) == ("north", 3, ("n2",))
    assert (south.area, south.ballots, south.outcome) == ("south", 3, ("s1",))
    assert result.outcome == ("n2", "s1")


def test_a_json_lines_ballot_with_points_is_read_as_points(ws: Workspace) -> None:
    campaign = area_budget(ws)
    path = ws.plans / "campaigns" / f"{campaign}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("vote_type: approval", "vote_type: cumulative"), "utf-8")
    ok(ws, "start", campaign, "--no-advance", now="2025-06-15T09:00+04:00")
    jsonl = ws.write(
        "points.jsonl",
        '{"submitted_at": "2025-07-11T10:00:00+04:00", "channel": "website", "audience": "students", '
        '"projects": {"n1": 3, "s2": 2}}\n',
    )
    assert "1 rows read = 1 stored" in ok(ws, "ingest", campaign, str(jsonl), now="2025-07-12T09:00+04:00")
    [row] = stored(ws)
    assert row["answers"] == {"projects": {"n1": 3.0, "s2": 2.0}}


def test_a_ballot_choosing_more_projects_than_allowed_is_quarantined_with_the_limit(ws: Workspace) -> None:
    campaign = area_budget(ws)
    path = ws.plans / "campaigns" / f"{campaign}.yaml"
    text = path.read_text(encoding="utf-8")
    # at most 3 projects a ballot, and 1 in the north
    text = text.replace("    rule: greedy\n", "    rule: greedy\n    max_projects: 3\n")
    text = text.replace("    total: 5\n", "    total: 5\n      max_projects: 1\n", 1)
    path.write_text(text, encoding="utf-8")
    assert ws.run("validate", str(ws.plans)).exit_code == 0
    ok(ws, "start", campaign, "--no-advance", now="2025-06-15T09:00+04:00")
    csv = ws.write(
        "ballots.csv",
        "submitted_at,channel,audience,projects\n"
        "2025-07-10T10:00:00+04:00,website,students,n1|s1\n"  # one in each area: taken
        "2025-07-10T11:00:00+04:00,website,students,n1|n2\n"  # two in the north
        "2025-07-10T12:00:00+04:00,website,students,n1|s1|s2|n2\n",  # four on the ballot
    )
    out = ok(ws, "ingest", campaign, str(csv), now="2025-07-12T09:00+04:00")
    assert "3 rows read = 1 stored + 2 quarantined + 0 duplicates" in out
    held = ok(ws, "contributions", campaign, "--quarantined", now="2025-07-12T09:05+04:00")
    assert "ballots.csv:3: projects: expected at most 1 project of the area north on a ballot, found 2" in held
    assert "ballots.csv:4: projects: expected at most 3 projects on a ballot, found 4" in held
