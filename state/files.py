"""Files and folders only their owner may open: the workspace's `var/` (keys, the plan cache, the service
file), the SQLite database and its journals.

Modes are set explicitly after creating, never left to the umask: a umask of 022, the usual default, would
let every account on the machine read the state and the secrets beside it.
"""

import base64
import os
import tempfile
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


class KeyFileError(Exception):
    """A key or secret file that cannot be used; the message names the file and says why."""


def owner_only_folder(path: Path) -> Path:
    """`path` made, with any missing parents, mode 700 whatever the umask; folders already there are kept."""
    for folder in reversed([folder for folder in (path, *path.parents) if not folder.exists()]):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        folder.chmod(FOLDER_MODE)
    return path


def owner_only_file(path: Path) -> bool:
    """An empty file at `path`, mode 600 whatever the umask, unless there is one (then False)."""
    owner_only_folder(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return True


def open_to_others(path: Path) -> int | None:
    """The file's permission bits when its group or others may use it, else None (owner-only)."""
    mode = path.stat().st_mode & 0o777
    return mode if mode & 0o077 else None


def owner_only_bytes(path: Path, what: str) -> bytes:
    """A secret file's bytes; refused, naming the file and its mode, when others than its owner may read it."""
    try:
        loose = open_to_others(path)
        data = path.read_bytes()
    except OSError as error:
        raise KeyFileError(f"{path}: cannot read {what} file ({error.strerror})") from None
    if loose is not None:
        raise KeyFileError(f"{path}: expected {what} only its owner can read (mode 600), found mode {loose:o}")
    return data


def secret_file(path: Path, what: str) -> bytes:
    """A random secret kept in an owner-only file, made on first use; a file others may read is refused.

    It is written whole under another name and then linked into place, so a process starting at the same
    moment reads either no file or the whole secret, never an empty one.
    """
    if not path.exists():
        owner_only_folder(path.parent)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            os.fchmod(descriptor, FILE_MODE)  # mkstemp's 600 already; said here for whoever reads this
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(base64.b64encode(os.urandom(32)))
            os.link(temporary, path)
        except FileExistsError:  # another process made it first: its secret is the one
            pass
        finally:
            os.unlink(temporary)
    return owner_only_bytes(path, what).strip()
