"""Reading an export's head: the sample that names the tool may end inside a character, with or without a BOM."""

import codecs
from pathlib import Path

import pytest

from musharaka.flows.ingest.sources import UnreadableFile, open_export

SAMPLE = 256 * 1024  # what `open_export` reads to find the header and the separator
HEADER = "Timestamp,Email Address,What would you suggest?\r\n"
COMMENT = "نرجو تبسيط رفع المستندات وتمديد المهلة"  # 2-byte letters (and spaces)
ROWS = 8_000  # about 560 KB: past the sample


def export_cut_inside_a_letter(path: Path, bom: bool) -> list[list[str]]:
    """A Google Sheets export whose byte SAMPLE falls on the second byte of an Arabic letter; returns its rows."""
    rows = [[f"7/{1 + i % 28}/2025 9:03:45", f"p{i}@example.om", f"{COMMENT} {i}"] for i in range(ROWS)]
    while True:  # the first e-mail lengthened a byte at a time until the cut falls inside a letter
        text = HEADER + "".join(",".join(row) + "\r\n" for row in rows)
        data = (codecs.BOM_UTF8 if bom else b"") + text.encode()
        if _cut_inside(data):
            path.write_bytes(data)
            return rows
        rows[0][1] = "x" + rows[0][1]


def _cut_inside(data: bytes) -> bool:
    try:
        data[:SAMPLE].removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= SAMPLE - 4
    return False


@pytest.mark.parametrize("bom", [True, False], ids=["with a BOM", "without a BOM"])
def test_a_sample_ending_inside_a_letter_is_read_whole(tmp_path: Path, bom: bool) -> None:
    path = tmp_path / "google.csv"
    written = export_cut_inside_a_letter(path, bom)
    assert _cut_inside(path.read_bytes())  # the premise: the sample's last byte is half a letter

    export = open_export(path)

    assert export.tool.name == "google-forms"
    assert export.header == ["Timestamp", "Email Address", "What would you suggest?"]
    rows = [row for chunk in export.chunks for row in chunk.values.tolist()]
    assert len(rows) == ROWS and rows == written


@pytest.mark.parametrize("bom", [True, False], ids=["with a BOM", "without a BOM"])
def test_a_byte_that_is_not_utf8_is_named_as_it_is(tmp_path: Path, bom: bool) -> None:
    path = tmp_path / "latin.csv"
    # "é" as Windows-1252 writes it: 0xe9, then a comma where UTF-8 wants a continuation byte
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + HEADER.encode() + b"7/6/2025 9:03:45,caf\xe9,ok\r\n")

    with pytest.raises(UnreadableFile) as refused:
        open_export(path)

    assert str(refused.value) == f"{path}: expected UTF-8 text (as the tools export it), found byte 0xe9"
