"""The web workspace served for a test, and a real Chromium with a virtual passkey authenticator.

The app runs in the test's process on a uvicorn thread, at http://localhost:PORT (a passkey's relying
party is a host name, never an IP address). Chromium is the system's, driven by Playwright through
`executable_path`; each person's browser gets a virtual authenticator over the DevTools protocol
that verifies its user (as a fingerprint or PIN would).
"""

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from musharaka.flows.web.app import clock, create_app
from tests.conftest import require

REPOSITORY = Path(__file__).resolve().parents[2]
AXE = REPOSITORY / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPOSITORY / "build" / "test-artifacts"  # screenshots of the pages, kept by CI
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(monkeypatch: pytest.MonkeyPatch, runs: Any = None, now: Callable[[], datetime] = clock) -> Iterator[str]:
    """The web app on a free port of this machine, for as long as the block runs; its base URL.

    `now` is the app's clock: the real one, or a test's own to move (the service itself has no other)."""
    port = free_port()
    url = f"http://localhost:{port}"
    monkeypatch.setenv("MUSHARAKA_PUBLIC_URL", url)
    from musharaka.state.settings import get_settings

    get_settings.cache_clear()
    server = uvicorn.Server(uvicorn.Config(create_app(runs, now=now), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the web app did not start within 30 s"
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def launched() -> Iterator[Any]:
    """A headless Chromium, the system's, for as long as the block runs (the session's `chromium` fixture)."""
    require(Path(CHROMIUM).exists(), f"Chromium is not installed ({CHROMIUM}): apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@dataclass
class Person:
    """One person's browser: a context (cookies) and a page with their own virtual authenticator."""

    context: Any
    page: Any
    authenticator: str | None

    def credentials(self) -> list[dict[str, Any]]:
        cdp = self.context.new_cdp_session(self.page)
        return list(cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator})["credentials"])


def person(
    browser: Any, *, authenticator: bool = True, cookies: list[dict[str, Any]] | None = None, audit: bool = False
) -> Person:
    """A browser of the person's own; with `audit`, one that lets axe-core be injected past the pages' CSP."""
    context = browser.new_context(locale="ar-OM", bypass_csp=audit)
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(15_000)
    authenticator_id = None
    if authenticator:
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }
        authenticator_id = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]
    return Person(context, page, authenticator_id)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """What axe-core finds against WCAG 2.0 and 2.1, levels A and AA, on the page as it is now."""
    require(AXE.exists(), f"axe-core is not installed ({AXE}): npm install --prefix .venv/npm axe-core")
    page.add_script_tag(path=str(AXE))
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags)
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"][:160] for n in v["nodes"][:3]]}
        for v in result["violations"]
    ]


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
