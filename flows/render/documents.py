"""The one renderer: stage outputs into Arabic (right-to-left) and English HTML documents."""

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from ruamel.yaml import YAML

from musharaka.flows.render.prose import say
from musharaka.stages.common import StageModel
from musharaka.stages.plans import CampaignPlan, Stage
from musharaka.stages.registry import MODULES
from musharaka.state.events import Document
from musharaka.state.settings import get_settings

LANGS = ("ar", "en")


@lru_cache
def environment(templates_dir: Path) -> Environment:
    """Jinja2 with StrictUndefined: a missing value is an error, never an empty string."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = _local_time
    env.filters["css_string"] = css_string
    env.filters["say"] = say
    return env


def css_string(value: str) -> Markup:
    """A quoted CSS string (for the printed page header): quotes, backslashes and `<` escaped."""
    escaped = "".join(c if c.isalnum() or c in " -—·:,()'." else f"\\{ord(c):x} " for c in value)
    return Markup(f'"{escaped}"')


@lru_cache
def labels(templates_dir: Path) -> dict[str, dict[str, str]]:
    """The words every document uses, in each language (templates/labels.yaml)."""
    loaded: dict[str, dict[str, str]] = YAML(typ="safe").load(templates_dir / "labels.yaml")
    return loaded


def _local_time(value: str | datetime, zone: str) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def render(
    stage: Stage,
    outputs: StageModel,
    plan: CampaignPlan,
    *,
    attempt: int,
    lang: str,
    now: datetime,
    piece: str | None = None,
) -> str:
    """One stage document in one language (or one of the stage's other `DOCUMENTS`, the `piece`)."""
    settings = get_settings()
    words = labels(settings.templates_dir)
    name = f"{stage}-{piece}" if piece else stage
    template = environment(settings.templates_dir).get_template(f"{name}.html.j2")
    context: dict[str, Any] = {
        "lang": lang,
        "dir": "rtl" if lang == "ar" else "ltr",
        "t": {key: text[lang] for key, text in words.items()},
        "stage": stage,
        "attempt": attempt,
        "plan": plan,
        "o": outputs,
        "activities": MODULES[stage].ACTIVITIES,
        "generated": _local_time(now, plan.window.timezone),
        "zone": plan.window.timezone,
        "audiences": {a.id: getattr(a.name, lang) for a in plan.audiences},
    }
    return template.render(context)


def write_documents(
    campaign_id: str,
    stage: Stage,
    outputs: StageModel,
    plan: CampaignPlan,
    *,
    attempt: int,
    now: datetime,
) -> list[Document]:
    """Render the stage's documents in every language, write them, and return their digests.

    Each file is named by its own digest and recorded relative to the output folder, so no run ever
    overwrites another's document (two databases, two attempts, two racing runs) and the folder can move.
    """
    root = get_settings().output_dir
    folder = root / campaign_id
    folder.mkdir(parents=True, exist_ok=True)
    documents = []
    pieces: tuple[str | None, ...] = (None, *getattr(MODULES[stage], "DOCUMENTS", ()))
    for piece, lang in ((piece, lang) for piece in pieces for lang in LANGS):
        data = render(stage, outputs, plan, attempt=attempt, lang=lang, now=now, piece=piece).encode()
        sha = hashlib.sha256(data).hexdigest()
        name = f"{stage}-{piece}" if piece else stage
        path = folder / f"{name}-{attempt}.{lang}.{sha[:12]}.html"
        if not path.exists():
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(path)  # whole or not at all
        documents.append(Document(lang=lang, path=path.relative_to(root).as_posix(), digest=sha))
    return documents


def document_path(recorded: str) -> Path:
    """Where a recorded document is: paths are relative to the output folder."""
    return get_settings().output_dir / recorded


def write_pdf(html_file: Path, pdf_file: Path) -> None:
    """An A4 PDF of a document, laid out by WeasyPrint with its print styles (Arabic shaped by pango).

    Imported here: WeasyPrint loads the system's pango when imported, and only this needs it.
    """
    try:
        import weasyprint
    except OSError as error:
        raise RuntimeError(f"PDF needs the pango library (Debian: libpango-1.0-0): {error}") from None
    partial = pdf_file.with_name(pdf_file.name + ".part")
    weasyprint.HTML(filename=str(html_file)).write_pdf(partial)
    partial.replace(pdf_file)  # whole or not at all
