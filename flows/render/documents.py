"""The one renderer: stage outputs into Arabic (right-to-left) and English HTML documents."""

import hashlib
from datetime import date, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from musharaka.flows.render import locale
from musharaka.flows.render.prose import isolated, say
from musharaka.flows.render.terms import TERMS, term
from musharaka.stages.common import StageModel
from musharaka.stages.i18n import words
from musharaka.stages.plans import CampaignPlan, Stage
from musharaka.stages.registry import definition
from musharaka.state.events import Document
from musharaka.state.settings import get_settings

if TYPE_CHECKING:
    from musharaka.flows.views.risks import RegisterView

LANGS = ("ar", "en")


@lru_cache
def environment(templates_dir: Path, lang: str) -> Environment:
    """Jinja2 for the reader of `lang`: the engine's words from its catalogue (`_()`, `ngettext()`, `term()`),
    and StrictUndefined, so a missing value is an error, never an empty string."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(words(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(term=partial(term, lang=lang), terms=TERMS)
    env.filters.update(local=_local_time, number=_number, percent=_percent, money=_money, measure=_measure)
    env.filters.update(quarter=_quarter, day=_day)
    env.filters["css_string"] = css_string
    env.filters.update(say=say, bdi=isolated)
    return env


def css_string(value: str) -> Markup:
    """A quoted CSS string (for the printed page header): quotes, backslashes and `<` escaped."""
    escaped = "".join(c if c.isalnum() or c in " -—·:,()'." else f"\\{ord(c):x} " for c in value)
    return Markup(f'"{escaped}"')


def page(lang: str) -> dict[str, Any]:
    """What every template is rendered with: the reader's language, its direction and its digits."""
    return {"lang": lang, "dir": "rtl" if lang == "ar" else "ltr", "digits": get_settings().digits}


# The filters write for the reader of the page being rendered: its `lang` and `digits` (see `page`).


@pass_context
def _local_time(context: Context, value: str | datetime, zone: str) -> str:
    """`{{ x | local(zone) }}`: a time for people, in `zone`, with the zone named."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return locale.moment(moment, zone, context["lang"], digits=context["digits"])


@pass_context
def _number(context: Context, value: float) -> str:
    return locale.number(value, context["lang"], digits=context["digits"])


@pass_context
def _percent(context: Context, share: float) -> str:
    return locale.percent(share, context["lang"], digits=context["digits"])


@pass_context
def _money(context: Context, value: float, currency: str) -> str:
    """`{{ amount | money("OMR") }}`: "12,000.000 ر.ع." in Arabic."""
    return locale.money(value, currency, context["lang"], digits=context["digits"])


@pass_context
def _measure(context: Context, value: float, unit: str) -> str:
    """`{{ days | measure("duration-day") }}`: a CLDR unit in the language's grammar ("يومان")."""
    return locale.measure(value, unit, context["lang"], digits=context["digits"])


@pass_context
def _quarter(context: Context, value: str) -> str:
    """`{{ "2025-Q3" | quarter }}`: "الربع الثالث 2025", "Q3 2025"."""
    names = {f"Q{n}": term(f"quarter_Q{n}", context["lang"]) for n in range(1, 5)}
    return locale.quarter(value, names, context["lang"], digits=context["digits"])


@pass_context
def _day(context: Context, value: date) -> str:
    """`{{ window.opens | day }}`: a calendar day written for the reader."""
    return locale.day(value, context["lang"], digits=context["digits"])


def render(
    stage: Stage,
    outputs: StageModel,
    plan: CampaignPlan,
    *,
    attempt: int,
    lang: str,
    now: datetime,
    piece: str | None = None,
    risks: "RegisterView | None" = None,
) -> str:
    """One stage document in one language (or one of the stage's other `DOCUMENTS`, the `piece`), with the
    risk register as it stands when given (never in a piece: those are for the public)."""
    settings = get_settings()
    name = f"{stage}-{piece}" if piece else stage
    template = environment(settings.templates_dir, lang).get_template(f"{name}.html.j2")
    context: dict[str, Any] = {
        **page(lang),
        "stage": stage,
        "attempt": attempt,
        "plan": plan,
        "o": outputs,
        "activities": definition(stage).titles,
        "generated": locale.moment(now, plan.window.timezone, lang, digits=settings.digits),
        "zone": plan.window.timezone,
        "audiences": {a.id: getattr(a.name, lang) for a in plan.audiences},
        # the plan's own channels, tools and sectors (its programme's) by their names, the built-in ones as ever
        "term": partial(term, lang=lang, vocabulary=plan.vocabulary),
    }
    if risks is not None and piece is None:
        context["risks"] = risks
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
    risks = _register(campaign_id, now)
    pieces: tuple[str | None, ...] = (None, *definition(stage).documents)
    for piece, lang in ((piece, lang) for piece in pieces for lang in LANGS):
        data = render(stage, outputs, plan, attempt=attempt, lang=lang, now=now, piece=piece, risks=risks).encode()
        sha = hashlib.sha256(data).hexdigest()
        name = f"{stage}-{piece}" if piece else stage
        path = folder / f"{name}-{attempt}.{lang}.{sha[:12]}.html"
        if not path.exists():
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(path)  # whole or not at all
        documents.append(Document(lang=lang, path=path.relative_to(root).as_posix(), digest=sha))
    return documents


def _register(campaign_id: str, now: datetime) -> "RegisterView":
    """The risk register as the gate opens, for the approvers who read the stage's document there."""
    from musharaka.flows.engine.records import load_plan_set
    from musharaka.flows.views.risks import risk_view
    from musharaka.state.db import read_scope

    with read_scope() as session:
        return risk_view(load_plan_set(), campaign_id, now, session=session)


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
