"""Tables as a Frictionless data package: CSV files and their Table Schemas, with bilingual descriptions.

Pure and byte-for-byte reproducible: the same tables always give the same bytes (UTF-8, line feeds, numbers
written one way, times in UTC, the descriptor's keys sorted), so a digest of a package is worth comparing.
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from musharaka.stages.i18n import words
from musharaka.stages.plans import Bilingual

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
Cell = str | int | float | bool | date | datetime | None
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Column:
    name: str
    type: FieldType
    description: str  # English, in the catalogue; the descriptor gives it in Arabic too
    required: bool = False


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    title: str  # English, in the catalogue
    description: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()


def column(name: str, kind: FieldType, description: str, required: bool = False) -> Column:
    return Column(name, kind, description, required)


def bilingual(message: str) -> Bilingual:
    """A message of the catalogue in both languages."""
    return Bilingual(en=message, ar=words("ar").gettext(message))


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(TIME_FORMAT)
    if isinstance(value, float):
        shown = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if shown in ("-0", "") else shown
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_bytes(table: Table) -> bytes:
    """The table as CSV (UTF-8, a header, line feeds): the same rows always give the same bytes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(c.name for c in table.columns)
    writer.writerows([_text(value) for value in row] for row in table.rows)
    return out.getvalue().encode("utf-8")


def joined(text: Bilingual, between: str = "\n") -> str:
    return f"{text.en}{between}{text.ar}"


def schema(table: Table) -> dict[str, Any]:
    fields = []
    for c in table.columns:
        field: dict[str, Any] = {"name": c.name, "type": c.type, "description": joined(bilingual(c.description))}
        if c.type == "datetime":
            field["format"] = TIME_FORMAT
        if c.required:
            field["constraints"] = {"required": True}
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": list(k.fields), "reference": {"resource": k.resource, "fields": list(k.reference)}}
            for k in table.foreign_keys
        ]
    return schema


def resource(table: Table, data: bytes) -> dict[str, Any]:
    """A table's entry in the descriptor: its file, schema, size and SHA-256."""
    return {
        "name": table.name,
        "path": f"{table.name}.csv",
        "profile": "tabular-data-resource",
        "title": joined(bilingual(table.title), " — "),
        "description": joined(bilingual(table.description)),
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": len(data),
        "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
        "schema": schema(table),
    }


def descriptor_bytes(content: dict[str, Any]) -> bytes:
    """The descriptor as JSON with sorted keys: the same package always gives the same bytes."""
    return (json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
