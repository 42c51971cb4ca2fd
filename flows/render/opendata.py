"""A closed campaign's open data written to a folder: the CSV tables, `datapackage.json` and a README in Arabic
and English, validated with `frictionless` before the folder is put in place, whole or not at all."""

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from musharaka.flows.render.documents import environment
from musharaka.stages import datapackage, opendata
from musharaka.stages.i18n import N_
from musharaka.state.settings import get_settings

DESCRIPTOR = "datapackage.json"
README = "README.md"


class BadFolder(Exception):
    """The folder given cannot take the package; nothing was written. The message is in the catalogue, with
    `folder` for its placeholder, so the command says it in its reader's language."""

    def __init__(self, message: str, folder: Path) -> None:
        super().__init__(message % {"folder": folder})
        self.message, self.folder = message, folder


class InvalidPackage(Exception):
    """The package written does not validate: a bug, never published."""


@dataclass(frozen=True)
class Written:
    folder: Path
    files: tuple[str, ...]
    replaced: bool  # a previous package of the campaign was there


def files(facts: opendata.Facts) -> dict[str, bytes]:
    """Every file of the package by name: the same facts always give the same bytes."""
    found = [(table, datapackage.csv_bytes(table)) for table in opendata.tables(facts)]
    content = opendata.descriptor(facts, found)
    written = {f"{table.name}.csv": data for table, data in found}
    written[DESCRIPTOR] = datapackage.descriptor_bytes(content)
    written[README] = readme(facts, content, [table for table, _ in found])
    return dict(sorted(written.items()))


def readme(facts: opendata.Facts, content: dict[str, Any], tables: list[datapackage.Table]) -> bytes:
    """The package's README, Arabic first then English, rendered from `open_data_readme.md.j2`."""
    parts = []
    for lang in ("ar", "en"):
        env = environment(get_settings().templates_dir, lang).overlay(autoescape=False)
        resources = [
            {
                "path": f"{t.name}.csv",
                "title": getattr(datapackage.bilingual(t.title), lang),
                "description": getattr(datapackage.bilingual(t.description), lang),
                "rows": len(t.rows),
            }
            for t in tables
        ]
        parts.append(
            env.get_template("open_data_readme.md.j2").render(
                lang=lang,
                f=facts,
                title=getattr(facts.title, lang),
                publisher=getattr(facts.publisher, lang) if facts.publisher else None,
                summary=getattr(facts.analysis.decision.summary, lang),
                rationale=getattr(facts.analysis.decision.rationale, lang),
                licence=content["licenses"][0],
                resources=resources,
                closed=facts.closed_at.astimezone(ZoneInfo(facts.timezone)).date().isoformat(),
            )
        )
    return "\n\n".join(part.strip() for part in parts).encode("utf-8") + b"\n"


def previous_package(folder: Path, campaign_id: str) -> bool:
    """Whether `folder` holds a package of this campaign written before, and nothing else (it is replaced
    whole, so a file of anyone else's in it would be lost)."""
    try:
        content = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))
        ours = {DESCRIPTOR, README, *(r["path"] for r in content["resources"])}
        return content["name"] == campaign_id and all(p.is_file() and p.name in ours for p in folder.iterdir())
    except (OSError, ValueError, TypeError, KeyError):
        return False


def check_folder(folder: Path, campaign_id: str) -> None:
    """A new folder, an empty one, or a previous package of the campaign; BadFolder otherwise."""
    if not folder.exists():
        above = next((p for p in folder.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise BadFolder(N_("%(folder)s: expected a folder to write the package in, found a file above it"), folder)
        return
    if not folder.is_dir():
        raise BadFolder(N_("%(folder)s: expected a folder to write the package in, found a file"), folder)
    if any(folder.iterdir()) and not previous_package(folder, campaign_id):
        raise BadFolder(
            N_(
                "%(folder)s: expected an empty folder or this campaign's package published before, "
                "found a folder holding other files"
            ),
            folder,
        )


def validate(folder: Path) -> list[str]:
    """What `frictionless` finds wrong with the package in `folder` (nothing, for a valid one)."""
    import frictionless  # loaded by this command alone: the others start without it

    report = frictionless.validate(str(folder / DESCRIPTOR))
    return [
        f"{task or 'package'}: {kind}: {note}" for task, kind, note in report.flatten(["resourcePath", "type", "note"])
    ]


def write_package(facts: opendata.Facts, folder: Path) -> Written:
    """Write the package to a new folder beside `folder`, validate it, then put it in `folder`'s place."""
    check_folder(folder, facts.campaign)
    content = files(facts)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    staging.chmod(0o755)  # open data: readable by all, as a folder made with mkdir would be
    try:
        for name, data in content.items():
            (staging / name).write_bytes(data)
        problems = validate(staging)
        if problems:
            raise InvalidPackage("; ".join(problems))
        replaced = folder.exists()
        if replaced:
            old = folder.with_name(f".{folder.name}.previous")
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
            staging.rename(folder)
            shutil.rmtree(old)
        else:
            staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Written(folder, tuple(content), replaced)
