"""The KPI report and the "you said, we did" page as Arabic and English HTML documents."""

from datetime import datetime
from pathlib import Path
from typing import Any

from musharaka.flows.render import locale
from musharaka.flows.render.documents import LANGS, environment, page
from musharaka.flows.views.outcomes import DecisionView, KpiReport
from musharaka.state.settings import get_settings


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


def _context(lang: str, zone: str, now: datetime) -> dict[str, Any]:
    return {
        **page(lang),
        "zone": zone,
        "generated": locale.moment(now, zone, lang, digits=get_settings().digits),
    }


def write_kpi_report(report: KpiReport, *, now: datetime) -> list[Path]:
    """out/kpis/<period>.<lang>.html, Arabic and English; times in the programme's zone (the settings')."""
    settings = get_settings()
    folder = settings.output_dir / "kpis"
    return [
        _write(
            folder / f"{report.period}.{lang}.html",
            environment(settings.templates_dir, lang)
            .get_template("kpi_report.html.j2")
            .render({**_context(lang, settings.timezone, now), "r": report}),
        )
        for lang in LANGS
    ]


def write_you_said_we_did(view: DecisionView, *, now: datetime, zone: str | None = None) -> list[Path]:
    """out/<campaign>/you-said-we-did.<lang>.html: what participants said, what was decided, what was done.

    Times are in `zone`, the campaign's; the programme's (the settings') when the caller does not name it.
    """
    settings = get_settings()
    return [
        _write(
            settings.output_dir / view.campaign / f"you-said-we-did.{lang}.html",
            environment(settings.templates_dir, lang)
            .get_template("you_said_we_did.html.j2")
            .render({**_context(lang, zone or settings.timezone, now), "d": view}),
        )
        for lang in LANGS
    ]
