"""Schema migrations (Alembic): the state database's revision, upgrades, and the check at start-up.

The migrations ship inside the package (state/migrations). An empty database is brought to the head
revision on first use, so the embedded SQLite default just works; a database that holds tables at an
older revision is refused until an operator runs `musharaka db upgrade` (after a backup).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
# The newest revision in state/migrations (a test holds it to Alembic's head). Every command checks
# the database against it with one query; Alembic itself, a tenth of a second to import, loads only
# when there is something to migrate.
HEAD = "0004"
# One number for every Musharaka process: whoever takes it first upgrades, the others wait and find it done.
_PG_LOCK = 7_310_461


class SchemaOutOfDate(Exception):
    """The database's schema is not the one this version of the engine works with."""


@dataclass(frozen=True)
class Revision:
    """Where a database stands against the migrations this version ships."""

    current: str | None
    head: str
    has_tables: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def _config(connection: Connection | None = None) -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, "the migrations folder has no revision"
    return revision


def _revision(connection: Connection) -> Revision:
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(connection).get_current_revision()
    tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
    return Revision(current, head(), bool(tables))


def revision(engine: Engine) -> Revision:
    with engine.connect() as connection:
        return _revision(connection)


def _lock(connection: Connection) -> None:
    # SQLite's transactions already begin with the write lock (state.db); PostgreSQL needs its own.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})


def upgrade(engine: Engine, target: str = "head") -> tuple[Revision, Revision]:
    """Bring the database to `target`; returns where it stood before and after.

    A database created before migrations existed (tables, no revision) is adopted at the first revision.
    """
    from alembic import command

    with engine.begin() as connection:
        _lock(connection)
        before = _revision(connection)
        config = _config(connection)
        if before.current is None and before.has_tables:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, target)
        after = _revision(connection)
    return before, after


def _recorded(engine: Engine) -> str | None:
    """The revision the database records, read with one query; None when it records none."""
    from musharaka.state.db import READ_ONLY  # every command checks: a read, never queued behind a writer

    with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_current(engine: Engine) -> None:
    """Upgrade an empty database to head; refuse one whose tables are at another revision."""
    if _recorded(engine) == HEAD:
        return
    state = revision(engine)
    if state.up_to_date:
        return
    if not state.has_tables:
        upgrade(engine)  # a fresh database; under the lock a concurrent first start finds the work done
        return
    found = state.current or "none (created before migrations)"
    raise SchemaOutOfDate(
        f"the state database {engine.url.render_as_string(hide_password=True)} is at schema revision {found}, "
        f"this version works with {state.head}: back it up, then run `musharaka db upgrade`"
    )


def reset(engine: Engine) -> None:
    """Drop every table, the revision too, and build the schema again from the migrations."""
    from sqlmodel import SQLModel

    import musharaka.state.tables  # noqa: F401

    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)
