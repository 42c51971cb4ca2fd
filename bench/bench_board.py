"""The programme board over 1,000 campaigns, in the warm service, against the rows `musharaka status` reads.

    .venv/bin/python bench/bench_board.py            # [--campaigns 1000] [--repeat 20] [--keep]

A workspace of its own in a temporary folder (the sample plans, and the satisfaction survey's plan copied under
1,000 new ids, all of the 2025 programme's year), SQLite under its var/. The 1,000 campaigns are written as
synthetic events at an open prepare gate (as `bench_service.py` writes them: chained as `append` does,
projected by `rebuild`), their due dates then spread over 250 days in the projection, as a year's gates fall
due on different days. `musharaka serve` runs as a process of its own; planning.team signs in over HTTP with a
software passkey and reads, on one connection kept alive as a browser keeps it, alternated:
  baseline   the same rows as `musharaka status --json`: `overview.status_rows` and pydantic's JSON, in this
             process against the same database (the view function the board's rows start from);
  health     GET /api/health, a bare round trip to the same server;
  board      GET /programme, the whole page (1,006 rows by quarter, who may decide each gate, by name);
  rows       GET /programme/rows, the live part alone, as the page re-reads it when the log moves on.
It also counts the SQL statements the board's rows take on the empty database and over the 1,000 campaigns:
the same number, or the board has an N+1 query.
"""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/ and tests/ are not installed: their helpers come from the checkout this script runs in
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bench_service import free_port, open_gates, service, sign_in, timed, workspace  # noqa: E402

READER = "planning.team"  # a planner: the board is their page


def statements(work: Callable[[], Any]) -> int:
    """How many SQL statements `work` sends to the database."""
    from sqlalchemy import event

    from musharaka.state.db import get_engine
    from musharaka.state.settings import get_settings

    engine = get_engine(get_settings().database_url)
    sent: list[str] = []

    def count(*_: Any) -> None:
        sent.append("")

    event.listen(engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)


def spread_due_dates(days: int = 250) -> None:
    """The gates' due dates spread over `days` days, as a year's gates fall due on different days (the synthetic
    gates all opened at once): the board then writes as many different due times as a programme's would."""
    from sqlmodel import col, select

    from musharaka.state.db import session_scope
    from musharaka.state.tables import Gate

    with session_scope() as session:
        for n, gate in enumerate(session.exec(select(Gate).order_by(col(Gate.campaign_id)))):
            gate.due_at = gate.due_at + timedelta(days=n % days)
            session.add(gate)


def board_rows_now() -> int:
    from musharaka.flows.engine import records
    from musharaka.flows.web.board import board_rows
    from musharaka.state.db import session_scope

    plans = records.load_plan_set()
    with session_scope() as session:
        return len(board_rows(plans, 2025, "ar", now=datetime.now(UTC), session=session))


def status_json() -> None:
    """The baseline: what `musharaka status --json` computes and writes, in process."""
    from pydantic import TypeAdapter

    from musharaka.flows.engine import records
    from musharaka.flows.views import overview
    from musharaka.state.db import session_scope

    plans = records.load_plan_set()
    with session_scope() as session:
        rows = overview.status_rows(plans, now=datetime.now(UTC), session=session)
    TypeAdapter(list[overview.StatusRow]).dump_json(rows, indent=2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=1000, help="campaigns at an open gate, written as events")
    parser.add_argument("--repeat", type=int, default=20, help="requests of each kind, alternated")
    parser.add_argument("--keep", action="store_true", help="keep the workspace; print its folder")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="musharaka-bench-board-"))
    port = free_port()
    for name in [n for n in os.environ if n.startswith(("MUSHARAKA_", "PREFECT_"))]:
        del os.environ[name]
    os.environ.update(
        MUSHARAKA_HOME=str(home),
        MUSHARAKA_PUBLIC_URL=f"http://localhost:{port}",  # passkeys are made for a host name, never an IP
        PREFECT_HOME=str(home / "prefect"),
    )
    from musharaka.state.settings import get_settings

    get_settings.cache_clear()
    try:
        run(args, home, port)
    finally:
        if args.keep:
            print(f"kept: MUSHARAKA_HOME={home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace, home: Path, port: int) -> None:
    workspace(home, [f"inbox-{n:05d}" for n in range(args.campaigns)])  # open_gates' ids, with plan files
    board_rows_now()  # once first: the schema checked, the plans cached
    few = statements(board_rows_now)  # the six campaigns of the sample programme, none started
    began = time.perf_counter()
    open_gates(args.campaigns, datetime.now(UTC))
    spread_due_dates()
    written = time.perf_counter() - began
    listed = board_rows_now()
    many = statements(board_rows_now)
    assert many == few, f"the board's rows take {few} statements for 6 campaigns but {many} for {listed}: N+1"
    timings: dict[str, list[float]] = {}
    load = os.getloadavg()[0]
    with service(home, port, dict(os.environ)) as (found, up_in), httpx.Client(base_url=found.url, timeout=60) as web:
        from tests.web.software_passkey import SoftwarePasskey

        key = SoftwarePasskey(READER, "localhost", get_public_url())
        key.enrol(datetime.now(UTC))
        sign_in(web, key)
        for _ in range(3):  # warm: templates, plans, Babel's locales
            status_json()
            web.get("/programme")
            web.get("/programme/rows")
        rows = 0
        for _ in range(args.repeat):  # alternated: a burst of the machine's other load falls on all alike
            began = time.perf_counter()
            status_json()
            timings.setdefault("baseline", []).append(time.perf_counter() - began)
            timings.setdefault("health", []).append(timed(web.get, "/api/health")[0])
            elapsed, page = timed(web.get, "/programme")
            timings.setdefault("board", []).append(elapsed)
            rows = len(re.findall(r'<tr data-campaign="', page.text))
            timings.setdefault("rows", []).append(timed(web.get, "/programme/rows")[0])
    assert rows == listed, f"the board lists {rows} rows, the view {listed}"
    loads = f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores)"
    print(
        f"{args.campaigns:,} campaigns at an open gate written in {written:.1f} s; service up in {up_in:.1f} s; "
        f"{loads}\nSQL statements for the board's rows: {few} for the 6 campaigns of the programme, "
        f"{many} for {listed:,}\n"
    )
    base = statistics.median(timings["baseline"])
    print(f"{'measured, milliseconds':<62} {'median':>8} {'max':>8} {'ratio':>7}")
    for label, name in (
        ("baseline: status --json's rows and JSON, in process", "baseline"),
        ("GET /api/health (a round trip)", "health"),
        (f"GET /programme, the board ({rows:,} rows)", "board"),
        ("GET /programme/rows, the live part alone", "rows"),
    ):
        values = timings[name]
        middle = statistics.median(values)
        print(f"{label:<62} {middle * 1000:>8.1f} {max(values) * 1000:>8.1f} {middle / base:>6.1f}x")


def get_public_url() -> str:
    from musharaka.state.settings import get_settings

    return get_settings().public_url or ""


if __name__ == "__main__":
    main()
