"""No one's personal data is stored, not even where a row fails: columns that identify people under the
headers real forms give them, in English and Arabic, are pseudonymised; every other column is dropped, and
one whose cells look like e-mails, phone numbers or national ids is named in the ingestion's summary."""

import json
import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from musharaka.flows.ingest.columns import identity_kind
from musharaka.flows.ingest.contributions import looks_like
from musharaka.state.db import get_engine
from musharaka.state.tables import QuarantinedRow
from tests.conftest import Workspace
from tests.flows import exports
from tests.flows.exports import CAMPAIGN, EASE, IMPROVE, OVERALL, ROLE, SERVICES, csv_text
from tests.flows.test_ingest import everything_stored, ingest, stored
from tests.flows.test_lifecycle import ok, to_conduct

NOW = "2025-08-15T08:00+04:00"
PSEUDONYM = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def conduct(ws: Workspace) -> Workspace:
    exports.prepare_plan(ws)
    to_conduct(ws)
    return ws


# A Google Form whose owner added their own questions for contact details, under their own titles, and a
# free "Contact" question: Google Sheets' CSV (byte-order mark, CRLF, quoted where needed).
HEADER = ["Timestamp", "Your e-mail", "Mobile No.", "National ID Number", "اسم المشارك", "Contact",
          OVERALL, SERVICES, EASE, IMPROVE, ROLE, "Governorate"]  # fmt: skip
ROWS = [
    ["7/6/2025 9:03:45", "salim.alharthi@example.om", "+968 9123 4567", "12345678", "سالم الحارثي",
     "salim.home@example.net", "5", "Unified admission", "Easy", "", "Students", "Muscat"],
    ["7/7/2025 14:10:02", "", "٩٩٨٨٧٧٦٦", "", "فاطمة البلوشي", "+968 9988 7766", "4", "معادلة المؤهلات", "مقبولة",
     "", "الباحثون", "Dhofar"],
    ["7/20/2025 13:00:00", "", "", "", "Khalid", "784-1990-1234567-1", "2", "Research funding", "Hard", "",
     "Innovators", "Muscat"],
    # quarantined: an answer out of range; another: a time outside the window
    ["7/8/2025 10:00:00", "quarantined.person@example.om", "+968 9555 1234", "87654321", "Mona Al Said",
     "mona.private@example.net", "7", "Unified admission", "Easy", "", "Students", "Muscat"],
    ["8/15/2025 0:00:00", "", "00968 9444 3322", "", "نور", "94443322", "4", "Unified admission", "Easy", "",
     "Students", "Muscat"],
]  # fmt: skip
RAW = ["salim.alharthi", "9123 4567", "91234567", "12345678", "سالم", "salim.home", "٩٩٨٨٧٧٦٦", "99887766",
       "فاطمة", "Khalid", "784-1990-1234567-1", "quarantined.person", "9555 1234", "95551234", "87654321",
       "Mona Al Said", "mona.private", "9444 3322", "94443322", "نور"]  # fmt: skip


def google_export(ws: Workspace, name: str = "contacts.csv") -> Path:
    path = ws.root / name
    path.write_bytes(b"\xef\xbb\xbf" + csv_text([HEADER, *ROWS], crlf=True).encode())
    return path


def quarantined_cells(ws: Workspace) -> list[dict[str, str]]:
    with Session(get_engine(ws.db_url)) as session:
        rows = session.exec(select(QuarantinedRow).order_by(QuarantinedRow.row)).all()
    return [json.loads(row.cells) for row in rows]


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Mobile No.", "phone"),
        ("Your e-mail", "email"),
        ("E-Mail Address", "email"),
        ("National ID Number", "national-id"),
        ("Civil ID", "national-id"),
        ("Passport No", "national-id"),
        ("Tel.", "phone"),
        ("Full Name", "other"),
        ("اسم المشارك", "other"),
        ("الاسـم", "other"),  # with a tatweel
        ("البريد الإلكتروني", "email"),
        ("البريد الالكتروني", "email"),  # the hamza left out, as people type it
        ("رقم الهاتف", "phone"),
        ("الجوال", "phone"),
        ("الرقم المدني", "national-id"),
        ("رقم البطاقة", "national-id"),
        ("رقم الهويّة", "national-id"),  # with a shadda
        ("Suggest a name for the chatbot", None),
        ("How easy was it to complete your request online?", None),
        ("Governorate", None),
        ("ID", None),  # Microsoft Forms' response id
    ],
)
def test_headers_that_identify_people_are_known_in_their_common_forms(header: str, kind: str | None) -> None:
    assert identity_kind(header) == kind


@pytest.mark.prefect
def test_a_form_with_its_own_contact_questions_stores_no_one_raw_not_even_in_quarantine(conduct: Workspace) -> None:
    out = ingest(conduct, google_export(conduct))
    assert "5 rows read = 3 stored + 2 quarantined + 0 duplicates" in out
    data = everything_stored(conduct)
    for raw in RAW:
        assert raw.encode() not in data, raw
    # a quarantined row keeps the columns the campaign uses, people's ids as pseudonyms, and nothing else
    first, second = quarantined_cells(conduct)
    assert set(first) == {"Timestamp", "Your e-mail", "Mobile No.", "National ID Number", OVERALL, SERVICES, EASE,
                          IMPROVE, ROLE, "Governorate"}  # fmt: skip
    assert all(PSEUDONYM.fullmatch(first[h]) for h in ("Your e-mail", "Mobile No.", "National ID Number"))
    assert first[OVERALL] == "7" and first["Timestamp"] == "7/8/2025 10:00:00"
    assert second["Your e-mail"] == "" and PSEUDONYM.fullmatch(second["Mobile No."])
    listing = json.loads(ok(conduct, "contributions", CAMPAIGN, "--quarantined", "--json", now=NOW))
    assert "Contact" not in listing[0]["cells"] and "اسم المشارك" not in listing[0]["cells"]
    assert conduct.run("audit", "verify").exit_code == 0


@pytest.mark.prefect
def test_the_summary_names_unused_columns_that_hold_peoples_data(conduct: Workspace) -> None:
    out = ingest(conduct, google_export(conduct))
    # the Contact column: two e-mails, a number dialled as a phone (+968 …), an Emirates ID, a bare number
    assert "columns not used: Contact" in out
    assert (
        "people's data in columns not used (not stored): 'Contact' holds cells that look like 2 e-mail addresses, "
        "1 national ids, 1 phone numbers, 1 phone numbers or national ids"
    ) in out, out


@pytest.mark.prefect
def test_a_phone_under_an_arabic_header_makes_the_same_participant_as_under_an_english_one(
    conduct: Workspace,
) -> None:
    ingest(conduct, google_export(conduct))
    # KoboToolbox, its columns labelled in Arabic: the second person of the Google form answers again
    header = ["end", "overall", "services-used", "ease", "improve", "role", "اسم المشارك", "رقم الهاتف",
              "الرقم المدني", "_id", "_uuid", "_submission_time"]  # fmt: skip
    row = ["2025-07-21T10:15:30.000+04:00", "3", "research-funding", "easy", "", "researchers", "فاطمة البلوشي",
           "99887766", "", "103", "5e0b3c1d-1111-4a3b-8c1d-0e9f8a7b6c5d", "2025-07-21T06:15:35"]  # fmt: skip
    kobo = conduct.root / "kobo-ar.csv"
    kobo.write_text(csv_text([header, row], separator=";", quote_all=True, crlf=True), encoding="utf-8")
    assert "1 rows read = 1 stored" in ingest(conduct, kobo)
    people = [r["participant"] for r in stored(conduct)]
    assert len(people) == 4 and len(set(people)) == 3  # the same number, in two tools, is one participant
    assert "فاطمة".encode() not in everything_stored(conduct)


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("salim@example.om", "e-mail addresses"),
        ("Salim <salim@example.om>", "e-mail addresses"),
        ("+968 9123 4567", "phone numbers"),
        ("00968 91234567", "phone numbers"),
        ("(24) 123 456", "phone numbers"),
        ("9123 4567", "phone numbers"),
        ("784-1990-1234567-1", "national ids"),
        ("91234567", "phone numbers or national ids"),
        ("٩١٢٣٤٥٦٧", "phone numbers or national ids"),  # Arabic-Indic digits
        ("1012345678", "phone numbers or national ids"),
        ("2025-07-08", None),
        ("7/6/2025 9:03:45", None),
        ("4", None),
        ("1234567", None),  # too short for a phone number or an id
        ("Muscat", None),
    ],
)
def test_cells_that_look_like_peoples_data_are_told_apart_from_dates_and_answers(cell: str, kind: str | None) -> None:
    assert looks_like(cell) == kind


@pytest.mark.prefect
def test_surveymonkey_names_and_addresses_are_dropped_from_a_quarantined_row(conduct: Workspace) -> None:
    """SurveyMonkey's own columns: the IP address and names go; an e-mail in Custom Data 1 is named, not kept."""
    first = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address", "First Name",
             "Last Name", "Custom Data 1", OVERALL, SERVICES, "", EASE, IMPROVE, ROLE]  # fmt: skip
    second = ["", "", "", "", "", "", "", "", "", "Response", "Unified admission", "Research funding", "Response",
              "Open-Ended Response", "Response"]  # fmt: skip
    rows = [
        ["114226731030", "405286173", "07/11/2025 09:12:33 AM", "07/11/2025 09:15:01 AM", "192.0.2.30",
         "huda@example.om", "Huda", "Al Rawahi", "huda.work@example.org", "9", "Unified admission", "", "Easy", "",
         "Students"],
    ]  # fmt: skip
    path = conduct.root / "surveymonkey-bad.csv"
    path.write_text(csv_text([first, second, *rows]), encoding="utf-8")
    out = ingest(conduct, path)
    assert "1 rows read = 0 stored + 1 quarantined" in out
    assert "'Custom Data 1' holds cells that look like 1 e-mail addresses" in out
    [cells] = quarantined_cells(conduct)
    assert set(cells) == {"Respondent ID", "End Date", "Email Address", OVERALL, SERVICES, "column 12", EASE,
                          IMPROVE, ROLE}  # fmt: skip
    assert PSEUDONYM.fullmatch(cells["Email Address"])
    for raw in ("192.0.2.30", "huda@example.om", "Huda", "Rawahi", "huda.work"):
        assert raw.encode() not in everything_stored(conduct), raw
