"""Who proved, in this command, that they are the person it acts as, with which key (`flows.engine.identity`).

The events they cause carry their signature as well as the engine's (`state.log.append`). Kept apart, and
light, so the CLI can clear it at the start of every command without importing the database layer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from musharaka.stages.approvers import ApproversRegistry


class Proven(NamedTuple):
    """A person, the key that proved it is them, and the registry that holds that key."""

    person: str
    key: "Ed25519PrivateKey"
    registry: "ApproversRegistry | None" = None


PROVEN: ContextVar[Proven | None] = ContextVar("proven_person", default=None)


def prove_person(person: str, key: "Ed25519PrivateKey", registry: "ApproversRegistry | None" = None) -> None:
    """From now on in this command, events whose actor is `person` are signed with `key` too (and `registry`,
    which holds the key, is recorded first when the log does not hold it yet, so that an auditor finds it)."""
    PROVEN.set(Proven(person, key, registry))


def forget_person() -> None:
    """A new command: nobody has proven who they are yet."""
    PROVEN.set(None)


@contextmanager
def proven(person: str, key: "Ed25519PrivateKey", registry: "ApproversRegistry | None" = None) -> Iterator[None]:
    """Events of `person` appended inside the block carry their signature."""
    token = PROVEN.set(Proven(person, key, registry))
    try:
        yield
    finally:
        PROVEN.reset(token)
