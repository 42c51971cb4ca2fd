"""`musharaka serve`: one long-running process for a ministry's machine — the web workspace, the API the
CLI hands runs to, Prefect kept warm, and the sweep that advances campaigns whose gates were decided."""

import contextlib
import errno
import gc
import logging
import os
import signal
import socket
from types import FrameType

import click

from musharaka.flows.service import discovery, prefect_warm
from musharaka.state.settings import get_settings


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the process unwinds through `serve`'s clean-up."""


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # uvicorn takes SIGTERM over while it serves and raises it again once it has shut down; before and
    # after, this handler turns it into an exception, so Prefect's server is never left behind
    raise Terminated


def _read_plans() -> None:
    """The plans read before the service freezes what it holds: a programme of a thousand plan files is a quarter
    of a million objects kept for the service's life, and a full collection walking them cost a page of the
    programme board 100-300 ms. Plans with problems are read on each request, which says what is wrong."""
    from musharaka.flows.engine import records
    from musharaka.flows.planfiles.reading import PlanError

    with contextlib.suppress(PlanError):
        records.load_plan_set()


def _report_to_console() -> None:
    """What the runs and the sweep report (a failed run, a failed sweep) on this process's stderr, with
    the time; set after Prefect's own logging set-up, which would otherwise keep it quiet."""
    log = logging.getLogger("musharaka.service")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _listen(host: str, port: int) -> socket.socket:
    """The service's socket, taken before the slow start-up so a taken port is said at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns TCP_NODELAY on only for connections accepted from a socket that
    # says so, and without it a response written in two parts waits 40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = "another program listens there" if error.errno == errno.EADDRINUSE else error.strerror
        raise click.UsageError(f"cannot listen on {host}:{port}: {reason}; choose another with --port") from None
    sock.listen(2048)  # ours from now on; requests wait in the backlog until the app is up
    return sock


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8400, show_default=True, type=click.IntRange(1, 65535), help="The port.")
@click.option(
    "--sweep-every",
    "sweep_every",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="How often to advance every campaign that can move (decided gates, retries, waits).",
)
def serve(host: str, port: int, sweep_every: float) -> None:
    """Run the service: the web workspace, the API the CLI hands runs to, Prefect kept warm and the advance
    sweep, until Ctrl-C or SIGTERM. While it runs, `advance`, `start` and approvals in this workspace hand
    their lifecycle runs to it instead of starting Prefect themselves.

    Example: musharaka serve --port 8400
    """
    settings = get_settings()
    if not settings.public_url:
        # people open this very service: passkeys are made for its address by host name
        os.environ["MUSHARAKA_PUBLIC_URL"] = f"http://localhost:{port}"
        get_settings.cache_clear()
        settings = get_settings()
    running = discovery.find_service(settings)
    if running is not None:
        raise click.UsageError(f"a service already runs for {settings.home} at {running.url} (pid {running.pid})")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sock = _listen(host, port)
    try:
        click.echo(f"starting Prefect (its server's log: {settings.home / 'var' / 'prefect-server.log'}) ...")
        with prefect_warm.warm_prefect() as prefect:
            import uvicorn

            from musharaka.flows.service.api import api_router
            from musharaka.flows.service.runs import Runs
            from musharaka.flows.web.app import create_app

            _report_to_console()
            with Runs(sweep_every=sweep_every) as runs:
                runs.start_sweep()
                app = create_app(runs)
                token = discovery.new_token()
                app.include_router(api_router(runs, token))
                server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
                service = discovery.publish(settings, discovery.local_url(host, port), token)
                try:
                    click.echo(
                        f"serving {service.url} (web and API; people open {settings.public_url}), "
                        f"Prefect at {prefect.api_url}, sweep every {sweep_every:g} s; Ctrl-C stops"
                    )
                    # everything loaded so far lives as long as the service: full collections need not
                    # walk it (they took 75-150 ms of a request otherwise); the plans too, read first
                    _read_plans()
                    gc.freeze()
                    server.run(sockets=[sock])
                finally:  # first of all: commands stop handing runs to a service that is going
                    discovery.withdraw(settings, service)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (Terminated): everything above has been shut down
        pass
    finally:
        sock.close()
    click.echo("stopped")


COMMANDS = {"serve": serve}
