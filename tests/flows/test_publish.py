"""`musharaka publish`: a closed campaign's open data, end to end, checked with frictionless."""

import csv
import hashlib
from pathlib import Path

import frictionless
import pytest

from musharaka.flows.render import opendata
from musharaka.stages.plans import OpenDataSection
from tests.conftest import Workspace
from tests.flows.test_lifecycle import ok
from tests.flows.test_outcomes import closed_without_or_with_lessons
from tests.stages.test_opendata import facts

AFTER = "2025-02-01T09:00+04:00"


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def everything(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()))


@pytest.mark.prefect
def test_a_closed_campaign_publishes_a_valid_package_of_hand_worked_figures(ws: Workspace) -> None:
    # the sample's five contributions (tests/flows/samples.py), closed by the Director General
    closed_without_or_with_lessons(ws, "h1-a", None)
    ok(ws, "follow-up", "h1-a", "--status", "in-progress", "--percent", "40", "--note", "new form", now=AFTER)
    folder = ws.root / "open-data" / "h1-a"
    ok(ws, "publish", "h1-a", str(folder), now=AFTER)

    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])
    answers = {(a["question"], a["option"]): (a["respondents"], a["share"]) for a in rows(folder, "answers.csv")}
    # ease: easy in rows 1 and 4, acceptable in 2 and 5, hard in 3: 2/5, 2/5, 1/5 of the five who answered
    assert [answers["ease", o] for o in ("easy", "acceptable", "hard")] == [("2", "0.4"), ("2", "0.4"), ("1", "0.2")]
    # overall, answers 5, 4, 2, 4, 3: one 2, one 3, two 4s, one 5; mean 18 / 5 = 3.6
    assert [answers["overall", p][0] for p in "12345"] == ["0", "1", "1", "2", "1"]
    questions = {q["question"]: q for q in rows(folder, "questions.csv")}
    assert (questions["overall"]["answered"], questions["overall"]["mean"]) == ("5", "3.6")
    assert questions["improve"]["answered"] == "2"  # two comments were written
    took_part = {(p["dimension"], p["value"]): p["contributions"] for p in rows(folder, "participation.csv")}
    # website: rows 1, 3, 4; e-survey: 2, 5; students 1, 2, 5; researchers 3; innovators 4
    assert took_part["channel", "website"] == "3" and took_part["channel", "e-survey"] == "2"
    assert [took_part["audience", a] for a in ("students", "researchers", "innovators")] == ["3", "1", "1"]
    # 5 of a target of 400 is 0.0125; 3 of the students' 200 is 0.015
    assert [(k["kpi"], k["actual"], k["share"]) for k in rows(folder, "kpis.csv")] == [
        ("responses", "5", "0.0125"),
        ("student-responses", "3", "0.015"),
    ]
    decision = rows(folder, "decision.csv")[0]
    assert decision["summary_en"].startswith("Simplify the document-upload step")
    assert (decision["based_on_contributions"], decision["participants"]) == ("true", "5")
    assert [(u["status"], u["percent"], u["note"]) for u in rows(folder, "updates.csv")] == [
        ("in-progress", "40", "new form")
    ]
    # groups of 3, 1 and 1 respondents, all under the default 5: every one held back, no cell shown
    assert {g["held_back"] for g in rows(folder, "groups.csv")} == {"true"}
    assert rows(folder, "crosstabs.csv") == []

    published = everything(folder)
    for private in ("أتمنى تبسيط رفع المستندات", "The upload step times out", "planning.team", "dg.planning"):
        assert private not in published
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "البيانات الشخصية" in readme and "Personal data" in readme

    # the same log gives the same bytes, into a new folder or over the package published before
    again = ws.root / "again"
    ok(ws, "publish", "h1-a", str(again), now=AFTER)
    assert digests(again) == digests(folder)
    ok(ws, "publish", "h1-a", str(folder), now=AFTER)
    assert digests(folder) == digests(again)


@pytest.mark.prefect
def test_a_plan_that_allows_it_publishes_participants_words_blanked(ws: Workspace) -> None:
    plan = ws.plans / "campaigns/moheri-2025-q3-satisfaction.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text + "open_data:\n  licence: CC0-1.0\n  free_text: true\n  min_group: 2\n", encoding="utf-8")
    closed_without_or_with_lessons(ws, "h1-a", None)
    folder = ws.root / "h1-a-data"
    ok(ws, "publish", "h1-a", str(folder), now=AFTER)

    assert frictionless.validate(str(folder / "datapackage.json")).valid
    # the two comments in alphabetical order (Latin before Arabic), each given once
    assert [(c["question"], c["text"], c["answers"]) for c in rows(folder, "comments.csv")] == [
        ("improve", "The upload step times out", "1"),
        ("improve", "أتمنى تبسيط رفع المستندات", "1"),
    ]
    # min_group 2: researchers (1) and innovators (1) make 2 and are held back; students (3) are shown:
    # ease easy (row 1), acceptable (rows 2 and 5), hard none
    ease = [
        (c["group"], c["option"], c["respondents"]) for c in rows(folder, "crosstabs.csv") if c["question"] == "ease"
    ]
    assert sorted(ease) == [("students", "acceptable", "2"), ("students", "easy", "1"), ("students", "hard", "0")]
    assert '"name": "CC0-1.0"' in (folder / "datapackage.json").read_text(encoding="utf-8")


def test_publish_refuses_what_is_not_a_closed_campaign_or_a_folder_for_it(ws: Workspace) -> None:
    unknown = ws.run("publish", "no-such-campaign", str(ws.root / "x"), now=AFTER)
    assert unknown.exit_code == 1 and "no campaign plan has the id 'no-such-campaign'" in unknown.stderr
    not_started = ws.run("publish", "moheri-2025-q3-satisfaction", str(ws.root / "x"), now=AFTER)
    assert not_started.exit_code == 1 and "no started campaign" in not_started.stderr
    assert not (ws.root / "x").exists()

    a_file = ws.write("notes.txt", "mine")
    refused = ws.run("publish", "moheri-2025-q3-satisfaction", str(a_file), now=AFTER)
    assert refused.exit_code == 2 and "found a file" in refused.stderr
    assert a_file.read_text(encoding="utf-8") == "mine"
    other = ws.write("reports/summary.txt", "keep me").parent
    refused = ws.run("publish", "moheri-2025-q3-satisfaction", str(other), now=AFTER)
    assert refused.exit_code == 2 and "found a folder holding other files" in refused.stderr
    assert [p.name for p in other.iterdir()] == ["summary.txt"]
    in_arabic = ws.run("--lang", "ar", "publish", "moheri-2025-q3-satisfaction", str(other), now=AFTER)
    assert in_arabic.exit_code == 2 and "مجلد يضم ملفات أخرى" in in_arabic.stderr


@pytest.mark.prefect
def test_publish_refuses_a_campaign_that_is_not_closed(ws: Workspace) -> None:
    ok(ws, "start", "moheri-2025-q3-satisfaction", now="2025-06-15T09:00+04:00")
    refused = ws.run("--lang", "ar", "publish", "moheri-2025-q3-satisfaction", str(ws.root / "x"), now=AFTER)
    assert refused.exit_code == 1
    assert "لم تُغلق الحملة بعد" in refused.stderr and "is not closed (it is at prepare" in refused.stderr
    assert not (ws.root / "x").exists()


def test_a_package_that_does_not_validate_is_never_put_in_place(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    given = facts(OpenDataSection())
    folder = ws.root / "published"
    assert opendata.write_package(given, folder).files == tuple(sorted(p.name for p in folder.iterdir()))
    before = digests(folder)
    monkeypatch.setattr(opendata, "validate", lambda staged: ["answers.csv: type-error: not a number"])
    with pytest.raises(opendata.InvalidPackage, match="type-error"):
        opendata.write_package(given, folder)
    with pytest.raises(opendata.InvalidPackage):
        opendata.write_package(given, ws.root / "new")
    # the package published before is as it was, nothing was half written, no staging folder is left
    assert digests(folder) == before
    assert sorted(p.name for p in ws.root.iterdir() if "published" in p.name or "new" in p.name) == ["published"]
