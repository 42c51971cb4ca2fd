"""A long log split among processes: the campaigns in spans of about as many events, each span read and worked
through in a forked process of its own (verification, replay), the parent doing the first span itself.

Only a process that runs no other thread may fork (the command line does; the service does not split).
Every process reads in a snapshot of its own, on a connection of its own: the parent's are neither used nor
closed by the children.
"""

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import func
from sqlalchemy import select as select_core
from sqlmodel import Session

from musharaka.state.events import REGISTRY_CHAIN, EventRow
from musharaka.state.tables import Event

Span = tuple[str | None, str | None]  # the campaigns from the first (included) to the second (excluded); None: open
EVERY: Span = (None, None)
PARALLEL_FROM = 20_000  # events: below, a process of its own costs more than it saves
T = TypeVar("T")


def within(table: Any, campaign: str | None, span: Span) -> list[Any]:
    """The conditions that keep one campaign's rows of a table, or a span's (in the database's order of names)."""
    column = table.c.campaign_id
    found = [column == campaign] if campaign is not None else []
    found += [column >= span[0]] if span[0] is not None else []
    return found + ([column < span[1]] if span[1] is not None else [])


def span_events(session: Session, campaign: str | None, span: Span) -> Iterator[EventRow]:
    """The events of the span's campaigns (or of one campaign) besides the registry's, in log order, streamed."""
    table = Event.__table__  # type: ignore[attr-defined]
    where = [table.c.campaign_id != REGISTRY_CHAIN, *within(table, campaign, span)]
    query = select_core(*(table.c[name] for name in EventRow._fields)).where(*where)
    rows = session.execute(query.order_by(table.c.campaign_id, table.c.seq).execution_options(yield_per=5000))
    return (EventRow(*row) for row in rows)


def spans_of(session: Session, parts: int) -> list[Span]:
    """The campaigns (besides the registry's) in at most `parts` spans of about as many events each, in the
    database's order of their names; one span when the log is too short to be worth splitting."""
    event = Event.__table__  # type: ignore[attr-defined]
    query = (
        select_core(event.c.campaign_id, func.count())
        .where(event.c.campaign_id != REGISTRY_CHAIN)
        .group_by(event.c.campaign_id)
        .order_by(event.c.campaign_id)
    )
    if parts < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [EVERY]
    counts = session.execute(query).all()
    total = sum(n for _, n in counts)
    if total < PARALLEL_FROM:
        return [EVERY]
    bounds: list[str | None] = [None]
    seen = 0
    for name, n in counts:
        if seen >= total * len(bounds) / parts:
            bounds.append(name)
        seen += n
    bounds.append(None)
    return list(pairwise(bounds))


class Forked(Generic[T]):
    """`work(session, span)` done in a forked process, on a connection of its own; `result()` waits for it."""

    def __init__(self, session: Session, work: Callable[[Session, Span], T], span: Span) -> None:
        url = session.get_bind().engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("fork")
        self.receive, send = context.Pipe(duplex=False)
        self.process = context.Process(target=self._run, args=(url, work, span, send), daemon=True)
        self.process.start()
        send.close()

    @staticmethod
    def _run(url: str, work: Callable[[Session, Span], T], span: Span, send: Any) -> None:
        from musharaka.state.db import new_engine, read_scope  # the database module imports the log's

        try:
            with read_scope(new_engine(url)) as session:
                send.send(("ok", work(session, span)))
        except BaseException:  # the parent raises it: a worker's failure is the command's
            send.send(("failed", traceback.format_exc()))

    def result(self) -> T:
        try:
            outcome, value = self.receive.recv()
        except EOFError:
            outcome, value = "failed", f"the process ended with code {self.process.exitcode}"
        self.process.join()
        if outcome != "ok":
            raise RuntimeError(f"working through a span of the log failed in its process:\n{value}")
        return cast(T, value)  # what the function returned, sent back through the pipe
