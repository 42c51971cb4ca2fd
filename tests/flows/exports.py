"""Exports of one small satisfaction survey, written as each tool writes them (../shared/data/EXPORT-FORMATS.md).

Every file holds the same four responses (plus, where a test wants it, bad ones): a student who used
admission and "Scholarships, grants and loans" (an option with a comma in it), a researcher who answers in
Arabic with an Arabic-Indic digit, an innovator, and an education institution.
"""

from datetime import datetime
from pathlib import Path

from ruamel.yaml import YAML

from tests.conftest import Workspace

CAMPAIGN = "moheri-2025-q3-satisfaction"

OVERALL = "Overall, how satisfied are you with the ministry's digital services?"
SERVICES = "Which digital services have you used in the past year?"
EASE = "How easy was it to complete your request online?"
IMPROVE = "What would you suggest to improve the digital services?"
ROLE = "Which best describes you?"


def prepare_plan(ws: Workspace) -> None:
    """The satisfaction plan as a team would set it up for real exports: who answers is a question, the
    channel is the e-survey, the governorate is kept, and one option's label has a comma in it."""
    yaml = YAML()
    path = ws.plans / "campaigns" / f"{CAMPAIGN}.yaml"
    plan = yaml.load(path)
    services = next(q for q in plan["instrument"] if q["id"] == "services-used")
    services["options"][2]["label"]["en"] = "Scholarships, grants and loans"
    plan["instrument"].append(
        {
            "id": "role",
            "type": "single",
            "required": False,
            "title": {"ar": "أي مما يلي يصفك؟", "en": ROLE},
            "options": [{"id": a["id"], "label": dict(a["name"])} for a in plan["audiences"]],
        }
    )
    plan["ingest"] = {
        "channel": "e-survey",
        "audience_question": "role",
        "segments": [{"id": "governorate", "columns": ["Governorate", "المحافظة", "governorate"]}],
        "identity": ["Civil number"],
    }
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(plan, handle)


def csv_text(rows: list[list[str]], separator: str = ",", quote_all: bool = False, crlf: bool = False) -> str:
    def cell(value: str) -> str:
        if quote_all or any(c in value for c in f'{separator}"\n\r'):
            return '"' + value.replace('"', '""') + '"'
        return value

    end = "\r\n" if crlf else "\n"
    return "".join(separator.join(cell(v) for v in row) + end for row in rows)


GOOGLE_HEADER = ["Timestamp", "Email Address", OVERALL, SERVICES, EASE, IMPROVE, ROLE, "Governorate"]
GOOGLE_ROWS = [
    ["7/6/2025 9:03:45", "Salim.AlHarthi@example.om", "5", "Unified admission, Scholarships, grants and loans",
     "Easy", "", "Students", "Muscat"],
    ["7/7/2025 14:10:02", "fatma.albalushi@example.om", "٤", "معادلة المؤهلات", "مقبولة",
     "أتمنى تبسيط رفع المستندات", "الباحثون", "Dhofar"],
    ["7/20/2025 13:00:00", "khalid@example.om", "2", "Research funding", "Hard", "The upload step times out",
     "Innovators", "Muscat"],
    ["8/14/2025 23:59:59", "registrar@college.example.om", "3", "Qualification equivalency", "Acceptable", "",
     "Education institutions", "Al Batinah North"],
]  # fmt: skip


def google_forms(ws: Workspace, rows: list[list[str]] | None = None, name: str = "google.csv") -> Path:
    """Google Sheets' CSV download: quoted only where needed, CRLF line ends, a byte-order mark."""
    text = csv_text([GOOGLE_HEADER, *(rows or GOOGLE_ROWS)], crlf=True)
    path = ws.root / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    return path


def ms_forms(ws: Workspace) -> Path:
    """A Microsoft Forms workbook: sheet Form1, ID and times first, `;`-joined choices ending in `;`."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Form1"
    sheet.append(["ID", "Start time", "Completion time", "Email", "Name", "Last modified time",
                  OVERALL, SERVICES, EASE, IMPROVE, ROLE, "Total points", "Points - " + OVERALL])  # fmt: skip
    sheet.append([1, datetime(2025, 7, 6, 9, 1), datetime(2025, 7, 6, 9, 3, 45), "salim.alharthi@example.om",
                  "Salim Al Harthi", None, 5, "Unified admission;Scholarships, grants and loans;", "Easy", None,
                  "Students", None, None])  # fmt: skip
    sheet.append([2, datetime(2025, 7, 7, 14, 5), datetime(2025, 7, 7, 14, 10, 2), "anonymous", None, None,
                  4, "معادلة المؤهلات;", "مقبولة", "أتمنى تبسيط رفع المستندات", "الباحثون", None, None])  # fmt: skip
    path = ws.root / "ms-forms.xlsx"
    book.save(path)
    return path


def kobo(ws: Workspace) -> Path:
    """KoboToolbox: `;`, every field quoted, CRLF, a row of HXL tags, select-multiple as names plus 1/0 columns."""
    header = ["start", "end", "overall", "services-used", "services-used/admission", "services-used/equivalency",
              "services-used/scholarships", "services-used/research-funding", "ease", "improve", "role", "governorate",
              "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by", "_tags",
              "_index"]  # fmt: skip
    tags = ["", "", "#indicator", "#sector", "", "", "", "", "", "", "", "#adm1", "", "", "", "", "", "", "", "", ""]
    rows = [
        ["2025-07-08T10:01:02.000+04:00", "2025-07-08T10:15:30.123+04:00", "4", "admission research-funding", "1", "0",
         "0", "1", "easy", "", "researchers", "Muscat", "101", "6f1c2a7e-1d7b-4c55-9f0e-1b2a3c4d5e6f",
         "2025-07-08T06:15:35", "", "", "submitted_via_web", "enumerator1", "", "1"],
        ["2025-07-09T18:00:00.000+04:00", "", "5", "equivalency", "0", "1", "0", "0", "acceptable", "", "students",
         "Dhofar", "102", "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d", "2025-07-09T14:20:00", "", "",
         "submitted_via_web", "", "", "2"],
    ]  # fmt: skip
    path = ws.root / "kobo.csv"
    path.write_text(csv_text([header, tags, *rows], separator=";", quote_all=True, crlf=True), encoding="utf-8")
    return path


def odk(ws: Workspace) -> Path:
    """ODK Central's submissions.csv: group names joined with `-`, select-multiple space-separated, UTC times."""
    header = ["SubmissionDate", "start", "end", "today", "deviceid", "g1-overall", "g1-services-used", "g1-ease",
              "g2-improve", "g2-role", "meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
              "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]  # fmt: skip
    rows = [
        ["2025-07-10T06:15:30.123Z", "2025-07-10T10:01:00.000+04:00", "2025-07-10T10:15:00.000+04:00", "2025-07-10",
         "collect:abc", "3", "admission scholarships", "hard", "Chat support", "students",
         "uuid:1b3c5d7e-0000-4000-8000-000000000001", "uuid:1b3c5d7e-0000-4000-8000-000000000001", "7",
         "Field team 3", "0", "0", "", "approved", "collect:abc", "0", "2025070101"],
    ]  # fmt: skip
    path = ws.root / "submissions.csv"
    path.write_text(csv_text([header, *rows]), encoding="utf-8")
    return path


def surveymonkey(ws: Workspace) -> Path:
    """SurveyMonkey: two header rows; a question over several columns has its text in the first only."""
    first = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
             "Last Name", "Custom Data 1", OVERALL, SERVICES, "", "", "", EASE, IMPROVE, ROLE]  # fmt: skip
    second = ["", "", "", "", "", "", "", "", "", "Response", "Unified admission", "Qualification equivalency",
              "Scholarships, grants and loans", "Research funding", "Response", "Open-Ended Response",
              "Response"]  # fmt: skip
    rows = [
        ["114226731020", "405286173", "07/11/2025 09:12:33 AM", "07/11/2025 09:15:01 AM", "192.0.2.10",
         "mona@example.om", "Mona", "Al Said", "", "4", "Unified admission", "", "Scholarships, grants and loans",
         "", "Easy", "", "Students"],
        ["114226731021", "405286173", "07/12/2025 08:00:00 PM", "07/12/2025 08:04:10 PM", "192.0.2.11", "", "", "",
         "", "2", "", "", "", "Research funding", "Hard", "Faster replies", "Researchers"],
    ]  # fmt: skip
    path = ws.root / "surveymonkey.csv"
    path.write_text(csv_text([first, second, *rows]), encoding="utf-8")
    return path


def json_lines(ws: Workspace) -> Path:
    """A generic export: one JSON object a line, lists for multiple choices."""
    lines = [
        '{"submitted_at": "2025-07-15T10:00:00+04:00", "channel": "website", "audience": "students", '
        '"overall": 5, "services-used": ["admission", "equivalency"], "ease": "easy", "improve": null}',
        '{"submitted_at": "2025-07-16T11:30:00", "channel": "e-survey", "audience": "researchers", '
        '"overall": "٣", "services-used": ["research-funding"], "ease": "acceptable", "improve": "More help text"}',
    ]
    path = ws.root / "responses.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
