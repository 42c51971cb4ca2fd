"""What every page module of the workspace shares: the app's state, refusals, and the page helpers.

`app.create_app` builds one `Kit` and hands it to each module's `routes(app, kit)`: the inbox and gates,
the programme board, the campaign page and the auditor's view. A module adds routes and templates of its
own and reaches the session, the person's duties and the page renderer only through the kit.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session

from musharaka.flows.engine import records
from musharaka.flows.planfiles.loading import PlanSet
from musharaka.flows.web.auth import RateLimit, Sessions, WebSession
from musharaka.flows.web.words import LANGS, Lang
from musharaka.stages.approvers import ApproversRegistry, Duty
from musharaka.stages.i18n import words
from musharaka.state.db import session_scope
from musharaka.state.registry import in_force
from musharaka.state.settings import DEFAULT_PUBLIC_URL, get_settings, package_folder


class Runs(Protocol):
    """Where the service runs a campaign's next stages: its Prefect-backed runner."""

    def submit(self, campaign_ids: list[str], now: datetime | None) -> dict[str, str]: ...


class Refusal(Exception):
    """A request refused with a code from `words.REFUSALS` and an HTTP status."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


def clock() -> datetime:
    """The service always acts at the clock's time (there is no `--now` here)."""
    return datetime.now(UTC)


class Workspace:
    """The app's state: sessions, the sign-in limit, the runner, and the site passkeys are made for."""

    def __init__(self, runs: Runs | None, now: Callable[[], datetime] = clock) -> None:
        settings = get_settings()
        self.runs = runs
        self.now = now
        self.sessions = Sessions(idle=timedelta(minutes=settings.session_idle_minutes))
        self.limit = RateLimit()
        address = urlsplit(settings.public_url or DEFAULT_PUBLIC_URL)
        self.origin = f"{address.scheme}://{address.netloc}"  # a WebAuthn origin has no path
        self.rp_id = address.hostname or "localhost"
        self.secure = self.origin.startswith("https://")
        folder = settings.templates_dir / "web"
        if not folder.is_dir():
            folder = package_folder("musharaka.templates") / "web"
        self.static = folder
        self.jinja = {lang: _environment(folder, lang) for lang in LANGS}

    def registry(self, plans: PlanSet, session: Session) -> ApproversRegistry:
        if plans.registry is None:
            raise records.Refused("no people registry (plans/approvers.yaml)")
        return in_force(plans.registry, session=session)


def _environment(folder: Path, lang: Lang) -> Environment:
    """The pages' Jinja2 for one language: the workspace's words from the language's catalogue (`_()`)."""
    env = Environment(
        loader=FileSystemLoader(folder), autoescape=select_autoescape(["j2"]), extensions=["jinja2.ext.i18n"]
    )
    env.install_gettext_translations(words(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


@dataclass(frozen=True)
class Kit:
    """The page helpers `create_app` defines, for the route modules."""

    ws: Workspace
    page: Callable[..., HTMLResponse]  # (request, session, template, title, *, status=200, **context)
    message: Callable[[Request, str, int], Response]  # a refusal by code, as JSON or as a page
    language: Callable[[Request], Lang]
    signed_in: Callable[[Request], WebSession]  # the signed-in session, else Refusal("signed-out")
    checked: Callable[[Request, str | None], WebSession]  # the same, its CSRF token checked
    json_body: Callable[[Request], Awaitable[dict[str, Any]]]
    names_of: Callable[[ApproversRegistry | None], dict[str, tuple[str, str]]]

    def duties(self, session: WebSession) -> tuple[Duty, ...]:
        """The signed-in person's duties in the registry in force (none if they left it)."""
        plans = records.load_plan_set()
        with session_scope() as db:
            person = self.ws.registry(plans, db).get(session.person or "")
        return person.duties if person else ()

    def requires(self, session: WebSession, *duties: Duty) -> WebSession:
        """`session`, if its person holds one of `duties`; else the refusal, before anything is read or done."""
        if not set(duties) & set(self.duties(session)):
            raise Refusal("not-your-duty", 403)
        return session
