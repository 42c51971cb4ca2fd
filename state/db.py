"""The database engine, from the one setting, and sessions over it."""

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, Table, event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from musharaka.state import migrate
from musharaka.state.events import ConcurrentWrite
from musharaka.state.files import owner_only_file
from musharaka.state.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    import numpy as np


# the execution option that makes a connection's transactions read-only (`read_scope`)
READ_ONLY = "musharaka_read_only"


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url`, by default the configured database; one per URL per process."""
    url = url or get_settings().database_url
    return _engine(url, _lock_wait(url))


def _lock_wait(url: str) -> float:
    """SQLite's wait for another process's write lock (the setting); unused by other databases."""
    if not url.startswith("sqlite"):
        return 0
    try:
        return get_settings().lock_wait_seconds
    except SettingsError:  # an engine for a URL given outright; whoever reads the settings is told what is wrong
        return Settings.model_fields["lock_wait_seconds"].default  # type: ignore[no-any-return]


def new_engine(url: str) -> Engine:
    """An engine of its own for `url`, not the process's shared one: for a forked process, which must neither
    use nor close the connections it inherited."""
    return _engine.__wrapped__(url, _lock_wait(url))


@lru_cache
def _engine(url: str, lock_wait: float) -> Engine:
    """SQLite files get their folder and WAL journaling; other databases a pre-ping pool."""
    if url.startswith("sqlite:///"):
        # made here, owner-only, before SQLite makes it with the umask's mode; SQLite gives the -wal and
        # -shm journals the mode of the database file
        path = url.removeprefix("sqlite:///").split("?")[0]
        if path and path != ":memory:":
            owner_only_file(Path(path))
        # isolation_level=None hands transaction control to the "begin" hook below
        engine = create_engine(url, connect_args={"timeout": lock_wait, "isolation_level": None})

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):  # type: ignore[no-untyped-def]
            # WAL lets readers (status, history) run while a flow writes; foreign keys on.
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):  # type: ignore[no-untyped-def]
            if connection.get_execution_options().get(READ_ONLY):
                # A reader takes no lock: on WAL it reads the last commit while a writer goes on, and
                # SQLite itself refuses it any write, so a read scope cannot become a writer unnoticed.
                connection.exec_driver_sql("PRAGMA query_only=ON")
                connection.exec_driver_sql("BEGIN")
            else:
                # A writer takes the write lock when its transaction starts, so two processes deciding the
                # same gate queue up instead of both reading the same chain head.
                connection.exec_driver_sql("PRAGMA query_only=OFF")
                connection.exec_driver_sql("BEGIN IMMEDIATE")

    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


_checked: set[str] = set()


def create_tables(engine: Engine | None = None) -> None:
    """Check the schema once per engine: an empty database is migrated to head, an old one refused."""
    engine = engine or get_engine()
    key = engine.url.render_as_string(hide_password=False)
    if key not in _checked:
        migrate.ensure_current(engine)
        _checked.add(key)


def reset_tables(engine: Engine | None = None) -> None:
    """Drop every table and build them empty from the migrations: the whole state is gone."""
    engine = engine or get_engine()
    migrate.reset(engine)
    _checked.add(engine.url.render_as_string(hide_password=False))


T = TypeVar("T")


def transaction(work: Callable[[Session], T], *, attempts: int = 5) -> T:
    """Run `work` in its own transaction, again when another writer got to the same chain first."""
    for attempt in range(1, attempts + 1):
        try:
            with session_scope() as session:
                return work(session)
        except (ConcurrentWrite, OperationalError) as error:
            if attempt == attempts or (isinstance(error, OperationalError) and "locked" not in str(error)):
                raise
            time.sleep(random.uniform(0.05, 0.2) * attempt)
    raise AssertionError("unreachable")


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    engine = engine or get_engine()
    create_tables(engine)
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reading only: one consistent snapshot, never queued behind a writer, refused any write.

    On SQLite a plain (deferred) transaction on WAL reads the last commit while another process writes;
    `session_scope` takes the write lock first, as a writer must. Other databases read without locks anyway;
    there the transaction is marked read-only too.
    """
    engine = engine or get_engine()
    create_tables(engine)
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    # closing ends the snapshot (the pool rolls the connection back) and keeps what was read, loaded, for the
    # caller to show: a rollback here would expire it
    with Session(engine.execution_options(**options)) as session:
        yield session


def bulk_insert(connection: Connection, table: Table, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert many rows through the driver's own executemany: no per-row statement work, so a million
    contributions go in at the database's speed. Times are given as naive UTC `datetime64[us]` text or
    datetimes; SQLite gets the text SQLAlchemy itself stores, other databases get UTC datetimes."""
    marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in columns)
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
    connection.exec_driver_sql(statement, list(rows))


def utc_column(moments: "np.ndarray", dialect: str) -> list[Any]:
    """Naive UTC `datetime64[us]` values as the database's driver takes them for a DateTime column."""
    import numpy as np

    if dialect == "sqlite":  # SQLAlchemy's own storage format for SQLite DATETIME
        return list(np.char.replace(np.datetime_as_string(moments, unit="us"), "T", " ").tolist())
    return [m.replace(tzinfo=UTC) for m in moments.astype("datetime64[us]").tolist()]
