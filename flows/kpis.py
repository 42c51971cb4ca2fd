"""The `kpi-report` flow: the ministry's half-yearly table and the programme's status, as HTML documents."""

from datetime import UTC, datetime
from pathlib import Path

from prefect import flow

from musharaka.flows.engine import records
from musharaka.flows.render import reports
from musharaka.flows.retries import side_effect
from musharaka.flows.views import outcomes
from musharaka.stages.kpis import period_just_ended
from musharaka.state.db import read_scope
from musharaka.state.settings import get_settings


@side_effect("kpi-figures")
def kpi_figures(period: str, now: datetime) -> outcomes.KpiReport:
    plans = records.load_plan_set()
    with read_scope() as session:
        return outcomes.kpi_report(plans, period, now=now, session=session)


@side_effect("write-kpi-report")
def write_report(report: outcomes.KpiReport, now: datetime) -> list[Path]:
    return reports.write_kpi_report(report, now=now)


@flow(name="kpi-report", flow_run_name="kpi-report-{period}")
def kpi_report(period: str | None = None, now: datetime | None = None) -> list[str]:
    """Render out/kpis/<period>.<lang>.html; without a period, the half-year that has just ended."""
    moment = now or datetime.now(UTC)  # a scheduled run reads the clock here, at the edge
    chosen = period or period_just_ended(moment, get_settings().timezone)
    report = kpi_figures(chosen, moment)
    return [str(path) for path in write_report(report, moment)]
