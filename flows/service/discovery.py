"""How CLI commands find the running service: a small file in the workspace, readable by its owner only.

`musharaka serve` writes home/var/service.json (the `service_file` setting) when it starts listening:
its address on this machine, its process id, the bearer token its API requires and when it started.
It removes the file when it stops. A command finds the service when the file is there, the process
is alive and the address answers /api/health within a second; otherwise it works as if there were
no service (a file left by a crashed service is stale and ignored).

The token is a secret of the workspace's owner: the file is mode 0600, written atomically (a reader
never sees half a file), and the token is never printed or logged.
"""

import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from musharaka.state.files import owner_only_folder
from musharaka.state.settings import Settings

HEALTH_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Service:
    """A running service as its file describes it."""

    url: str  # e.g. http://127.0.0.1:8400, no trailing slash
    pid: int
    token: str
    started_at: str  # ISO 8601, UTC

    def headers(self) -> dict[str, str]:
        """The Authorization header the service's API requires."""
        return {"Authorization": f"Bearer {self.token}"}

    def __repr__(self) -> str:  # never show the token, even in a traceback's locals
        return f"Service(url={self.url!r}, pid={self.pid}, started_at={self.started_at!r})"


def new_token() -> str:
    """A fresh bearer token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def local_url(host: str, port: int) -> str:
    """The address a command on this machine uses for a service listening on `host`:`port`."""
    if host in ("", "0.0.0.0", "localhost"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def publish(settings: Settings, url: str, token: str) -> Service:
    """Write the service file (mode 0600, atomically) for this process; the Service it describes."""
    service = Service(url=url, pid=os.getpid(), token=token, started_at=datetime.now(UTC).isoformat())
    path = settings.service_file
    owner_only_folder(path.parent)
    # mkstemp makes the file 0600 before a byte of the token is in it; the rename is atomic
    handle, temporary = tempfile.mkstemp(prefix=".service-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(asdict(service), file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return service


def withdraw(settings: Settings, service: Service) -> None:
    """Remove the service file, if it is still this service's (a newer service may have replaced it)."""
    current = read_service_file(settings.service_file)
    if current is not None and (current.pid, current.token) == (service.pid, service.token):
        settings.service_file.unlink(missing_ok=True)


def read_service_file(path: Path) -> Service | None:
    """The service the file describes, or None when there is no file or it is not one we wrote."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Service(
            url=str(data["url"]), pid=int(data["pid"]), token=str(data["token"]), started_at=str(data["started_at"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def answers(service: Service, timeout: float = HEALTH_TIMEOUT_SECONDS) -> bool:
    """Whether the service's API answers its health check in time."""
    try:
        response = httpx.get(f"{service.url}/api/health", headers=service.headers(), timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def find_service(settings: Settings) -> Service | None:
    """The service running for this workspace, or None: no file, a dead process, or no answer in ~1 s."""
    service = read_service_file(settings.service_file)
    if service is None or not process_alive(service.pid) or not answers(service):
        return None
    return service
