"""The one settings object: every knob comes from MUSHARAKA_* environment variables."""

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseModel):
    """Where plans, state and documents live; relative paths are taken from `home`."""

    model_config = ConfigDict(extra="forbid")

    home: Path = PROJECT_ROOT
    plans_dir: Path = Path("plans")
    output_dir: Path = Path("out")
    templates_dir: Path = PROJECT_ROOT / "templates"
    database_url: str = ""
    engine_key_file: Path = Path("var/engine-key.pem")
    # the secret of the keyed hash that pseudonymises people's e-mails, phones and ids; when empty,
    # a random one is made on first use in `pseudonym_key_file` (owner-only)
    pseudonym_key: str = ""
    pseudonym_key_file: Path = Path("var/pseudonym.key")
    timezone: str = "Asia/Muscat"
    debug: bool = False

    @model_validator(mode="after")
    def _anchor_paths(self) -> "Settings":
        # Paths are anchored at `home`, never at the current directory.
        self.plans_dir = self.home / self.plans_dir
        self.output_dir = self.home / self.output_dir
        self.engine_key_file = self.home / self.engine_key_file
        self.pseudonym_key_file = self.home / self.pseudonym_key_file
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'var' / 'musharaka.db'}"
        return self


ENV_PREFIX = "MUSHARAKA_"


class SettingsError(ValueError):
    """An environment variable the settings cannot use; the message names it."""


@lru_cache
def get_settings() -> Settings:
    """The settings, read once per process from MUSHARAKA_<FIELD> variables (MUSHARAKA_DATABASE_URL, ...)."""
    # A plain model over the environment: pydantic-settings would add a twentieth of a second to
    # every command's start for nothing this needs.
    names = {f"{ENV_PREFIX}{name.upper()}": name for name in Settings.model_fields}
    try:
        return Settings.model_validate({names[key]: value for key, value in os.environ.items() if key in names})
    except ValidationError as error:
        first = error.errors()[0]
        variable = f"{ENV_PREFIX}{str(first['loc'][0]).upper()}" if first["loc"] else "the settings"
        raise SettingsError(f"{variable}: {first['msg'].lower()}, found {first['input']!r}") from None
