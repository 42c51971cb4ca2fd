"""The KPI report and the "you said, we did" page as Arabic and English HTML documents."""

from datetime import datetime
from pathlib import Path
from typing import Any

from musharaka.flows.render.documents import LANGS, environment, labels
from musharaka.flows.views.outcomes import DecisionView, KpiReport
from musharaka.stages import followup
from musharaka.state.settings import get_settings


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path


def _context(lang: str) -> dict[str, Any]:
    words = labels(get_settings().templates_dir)
    return {
        "lang": lang,
        "dir": "rtl" if lang == "ar" else "ltr",
        "t": {key: text[lang] for key, text in words.items()},
        "words": {k: v[lang] for k, v in followup.WORDS.items()},
    }


def write_kpi_report(report: KpiReport, *, now: datetime) -> list[Path]:
    """out/kpis/<period>.<lang>.html, Arabic and English."""
    settings = get_settings()
    template = environment(settings.templates_dir).get_template("kpi_report.html.j2")
    folder = settings.output_dir / "kpis"
    return [
        _write(
            folder / f"{report.period}.{lang}.html",
            template.render({**_context(lang), "r": report, "generated": now.isoformat(timespec="minutes")}),
        )
        for lang in LANGS
    ]


def write_you_said_we_did(view: DecisionView, *, now: datetime) -> list[Path]:
    """out/<campaign>/you-said-we-did.<lang>.html: what participants said, what was decided, what was done."""
    settings = get_settings()
    template = environment(settings.templates_dir).get_template("you_said_we_did.html.j2")
    return [
        _write(
            settings.output_dir / view.campaign / f"you-said-we-did.{lang}.html",
            template.render({**_context(lang), "d": view, "generated": now.isoformat(timespec="minutes")}),
        )
        for lang in LANGS
    ]
