"""Side-effect tasks: which of their failures are worth another try, and how long to wait before it.

A database that is busy (SQLite's write lock held past its wait, a PostgreSQL serialization failure or
deadlock) or a connection that dropped clears up on its own; a refusal, a bad file or a bug does not, and
trying again would only make the person wait longer for the same answer.
"""

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import httpx
from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff
from sqlalchemy.exc import DBAPIError

RETRIES = 3
# 0.5, 1 and 2 s, each up to 20% longer at random, so that two processes that collided do not collide again
RETRY_DELAYS = exponential_backoff(backoff_factor=0.5)(RETRIES)
JITTER = 0.2

# PostgreSQL's error classes that another try may clear: 08 connection exception, 40 transaction rollback
# (serialization failure, deadlock), and the server shutting down or restarting
_TRANSIENT_CLASSES = ("08", "40")
_TRANSIENT_CODES = ("57P01", "57P02", "57P03")


def transient_error(error: BaseException) -> bool:
    """Whether `error` says the database or the network was briefly unavailable."""
    if isinstance(error, httpx.TransportError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    code = getattr(error.orig, "sqlstate", None)  # psycopg's
    if isinstance(code, str):
        return code[:2] in _TRANSIENT_CLASSES or code in _TRANSIENT_CODES
    said = str(error.orig).lower()
    return "database is locked" in said or "database table is locked" in said or "busy" in said  # SQLite


def _retry_when_transient(_task: Task[..., Any], _run: TaskRun, state: State[Any]) -> bool:
    try:
        state.result()
    except Exception as error:  # what the task raised
        return transient_error(error)
    return False


P = ParamSpec("P")
R = TypeVar("R")


def side_effect(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task that reads or writes the database: never cached (a cached result would be a stale one), and
    tried again after a transient failure."""
    return task(
        name=name,
        cache_policy=NO_CACHE,
        retries=RETRIES,
        retry_delay_seconds=RETRY_DELAYS,
        retry_jitter_factor=JITTER,
        retry_condition_fn=_retry_when_transient,
    )
