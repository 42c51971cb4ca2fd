"""The `gate-reminders` flow: each approver gets a file listing the gates they may decide."""

from datetime import UTC, datetime
from pathlib import Path

from prefect import flow

from musharaka.flows.engine import records
from musharaka.flows.retries import side_effect
from musharaka.flows.views import overview
from musharaka.state.db import read_scope
from musharaka.state.registry import in_force_if_any
from musharaka.state.settings import get_settings


@side_effect("reminder-texts")
def reminder_texts(now: datetime) -> dict[str, str]:
    plans = records.load_plan_set()
    with read_scope() as session:
        rows = overview.gate_rows(
            pending=True,
            overdue=False,
            now=now,
            registry=in_force_if_any(plans.registry, session=session),
            session=session,
        )
    return overview.reminder_texts(rows, now)


@side_effect("write-reminders")
def write_reminders(texts: dict[str, str], folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for approver, text in sorted(texts.items()):
        path = folder / f"{approver}.txt"
        path.write_text(text, encoding="utf-8")
        written.append(str(path))
    return written


@flow(name="gate-reminders", flow_run_name="gate-reminders")
def gate_reminders(now: datetime | None = None, out: str | None = None) -> list[str]:
    """Deployable daily: one digest per approver of the open gates they may decide, overdue first."""
    moment = now or datetime.now(UTC)  # a scheduled run reads the clock here, at the edge
    folder = Path(out) if out else get_settings().output_dir / "reminders" / f"{moment:%Y-%m-%d}"
    return write_reminders(reminder_texts(moment), folder)
