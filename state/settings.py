"""The one settings object: every knob comes from MUSHARAKA_* environment variables."""

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def package_folder(package: str) -> Path:
    """A folder shipped inside the installed package (templates, the sample plans), as a path on disk.

    Installed wheels are unpacked, so the folder is a real directory; it is only ever read.
    """
    return Path(str(resources.files(package)))


ENV_PREFIX = "MUSHARAKA_"
DEFAULT_PUBLIC_URL = "http://localhost:8400"  # `musharaka serve` on its default port


class Settings(BaseSettings):
    """Where plans, state and documents live; relative paths are taken from `home`, the workspace:
    MUSHARAKA_HOME, else the folder the command runs in (never the installed code)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)

    home: Path = Field(default_factory=Path.cwd)
    plans_dir: Path = Path("plans")
    output_dir: Path = Path("out")
    templates_dir: Path = Field(default_factory=lambda: package_folder("musharaka.templates"))
    database_url: str = ""
    engine_key_file: Path = Path("var/engine-key.pem")
    # the secret of the keyed hash that pseudonymises people's e-mails, phones and ids; when empty,
    # a random one is made on first use in `pseudonym_key_file` (owner-only)
    pseudonym_key: str = ""
    pseudonym_key_file: Path = Path("var/pseudonym.key")
    timezone: str = "Asia/Muscat"
    # the digits of numbers in Arabic documents and pages: "latn" Western (0-9), "arab" Arabic-Indic (٠-٩)
    digits: Literal["latn", "arab"] = "latn"
    debug: bool = False
    # `--now` moves a command's clock: allowed only to `demo`, `replay` and where this is set on purpose
    # (the test suite). Anything else acts at the clock's time, and the service always does.
    allow_now: bool = False
    # the running service (`musharaka serve`) writes its address here for CLI commands to find it
    service_file: Path = Path("var/service.json")
    # where a command's flow runs go when PREFECT_API_URL names a Prefect server: to its deployments'
    # workers (the default), or, when set, into the command's own process, recorded on that server as
    # the service records its runs (no worker needed; the server's UI still shows every run)
    run_flows_here: bool = False
    # the address people open the service at; its host is the passkeys' relying party (never an IP).
    # Empty: http://localhost and the port `musharaka serve` listens on.
    public_url: str = ""
    session_idle_minutes: int = 30
    # how long a write on SQLite waits for another process's write lock before it fails (and its task is
    # tried again, flows/retries.py)
    lock_wait_seconds: float = Field(default=30, gt=0, le=600)

    @field_validator("database_url")
    @classmethod
    def _readable_url(cls, url: str) -> str:
        if url:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                make_url(url).port  # noqa: B018  (reading the port is the check: SQLAlchemy parses it lazily)
            except (ArgumentError, ValueError):
                raise ValueError(
                    "expected a database URL such as postgresql+psycopg://user:password@host:5432/name "
                    "or sqlite:///path/to/file.db"
                ) from None
        return url

    @model_validator(mode="after")
    def _anchor_paths(self) -> "Settings":
        # Paths are anchored at `home`, never at the current directory.
        self.home = self.home.absolute()
        self.plans_dir = self.home / self.plans_dir
        self.output_dir = self.home / self.output_dir
        self.engine_key_file = self.home / self.engine_key_file
        self.pseudonym_key_file = self.home / self.pseudonym_key_file
        self.service_file = self.home / self.service_file
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'var' / 'musharaka.db'}"
        return self


def shown_url(url: str) -> str:
    """A database URL fit to print or log: its password masked, as SQLAlchemy renders it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # a URL SQLAlchemy cannot read (a port that is no number): by its shape
        return _USERINFO.sub(lambda m: m[1] + (":***@" if m[2] else "@"), url)


_USERINFO = re.compile(r"(//[^/@:]*)(:[^/@]*)?@")


def without_secrets(text: str) -> str:
    """`text` with the configured database password, wherever it appears in it, masked: drivers and URL
    parsers may quote the connection string in what they raise."""
    try:
        url = get_settings().database_url
    except SettingsError:
        return text
    found = _USERINFO.search(url)
    password = found[2][1:] if found and found[2] else ""
    if len(password) >= 4:  # masking a shorter one would mask letters all over the text; the URL is masked below
        text = text.replace(password, "***")
        text = text.replace(quote(password, safe=""), "***")
        text = text.replace(unquote(password), "***")
    return text.replace(url, shown_url(url))


class SettingsError(ValueError):
    """An environment variable the settings cannot use; the message names it."""


@lru_cache
def get_settings() -> Settings:
    """The settings, read once per process; a value that cannot be used is named by its variable."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        variable = f"{ENV_PREFIX}{str(first['loc'][0]).upper()}" if first["loc"] else "the settings"
        found = first["input"]
        if first["loc"] == ("database_url",):  # never its password
            found = shown_url(str(found))
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{variable}: {message[:1].lower() + message[1:]}, found {found!r}") from None
