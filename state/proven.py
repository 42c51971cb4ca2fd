"""Who proved, in this command, that they are the person it acts as, with which key (`flows.engine.identity`).

The events they cause carry their signature as well as the engine's (`state.log.append`). Kept apart, and
light, so the CLI can clear it at the start of every command without importing the database layer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PROVEN: "ContextVar[tuple[str, Ed25519PrivateKey] | None]" = ContextVar("proven_person", default=None)


def prove_person(person: str, key: "Ed25519PrivateKey") -> None:
    """From now on in this command, events whose actor is `person` are signed with `key` too."""
    PROVEN.set((person, key))


def forget_person() -> None:
    """A new command: nobody has proven who they are yet."""
    PROVEN.set(None)


@contextmanager
def proven(person: str, key: "Ed25519PrivateKey") -> Iterator[None]:
    """Events of `person` appended inside the block carry their signature."""
    token = PROVEN.set((person, key))
    try:
        yield
    finally:
        PROVEN.reset(token)
