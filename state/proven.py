"""Who proved, in this command, that they are the person it acts as, with which key (`flows.engine.identity`).

The events they cause carry their signature as well as the engine's (`state.log.append`). Kept apart, and
light, so the CLI can clear it at the start of every command without importing the database layer.
"""

from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlmodel import Session

# records the registry that holds the person's key in the log, when it does not hold it yet (flows.engine.gates)
Recorder = Callable[["Session", datetime], object]


class Proven(NamedTuple):
    """A person, the key that proved it is them, and how the registry holding that key is recorded."""

    person: str
    key: "Ed25519PrivateKey"
    record: Recorder | None = None


PROVEN: ContextVar[Proven | None] = ContextVar("proven_person", default=None)


def prove_person(person: str, key: "Ed25519PrivateKey", record: Recorder | None = None) -> None:
    """From now on in this command, events whose actor is `person` are signed with `key` too; `record` is called
    before each, so that the registry holding the key is in the log for an auditor to check it against."""
    PROVEN.set(Proven(person, key, record))


def forget_person() -> None:
    """A new command: nobody has proven who they are yet."""
    PROVEN.set(None)
