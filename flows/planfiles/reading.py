"""Reading one plan file: YAML with line numbers, validated into a typed model, problems a planner can
act on. Every problem names `file:line:column: field.path: what was expected, what was found`.
"""

import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from musharaka.stages.approvers import B64URL, PUBLIC_KEY, ApproversRegistry
from musharaka.stages.plans import COUNTRY, CURRENCY, ID_PATTERN, QUARTER, CampaignPlan, Loc
from musharaka.stages.programme import Programme


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one plan file, located for the person who must fix it."""

    file: Path
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.field}: {self.message}"


class PlanError(Exception):
    """Plan files that do not validate; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def read_yaml(path: Path, model: type[BaseModel]) -> tuple[Any, list[Problem]]:
    what = _describe(model)
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, [Problem(path, 1, 1, "(file)", f"expected a readable file, {error.strerror}")]
    if b"\x00" in data:
        return None, [Problem(path, 1, 1, "(file)", f"expected {what} in UTF-8 text, found binary data")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, [
            Problem(
                path,
                line,
                1,
                "(file)",
                f"expected {what} in UTF-8 text, found byte 0x{data[error.start]:02x} that is not UTF-8",
            )
        ]
    if len(data) > MAX_BYTES:
        return None, [
            Problem(path, 1, 1, "(file)", f"expected {what} of at most {_size(MAX_BYTES)}, found {_size(len(data))}")
        ]
    from musharaka.flows.planfiles import bounded  # here: its import (ruamel) is a cost only reading YAML needs

    tree, problem = bounded.load(text)
    if problem is not None:
        line, column, message = problem
        return None, [Problem(path, line, column, "(yaml)", message)]
    if tree is None:
        return None, [Problem(path, 1, 1, "(file)", f"expected {what}, found an empty file")]
    if not isinstance(tree, dict):
        return None, [
            Problem(path, 1, 1, "(file)", f"expected {what} (a mapping of keys), found a {type(tree).__name__}")
        ]
    return tree, []


# A plan file is a few kilobytes (the largest shipped one is 10 KB); a megabyte is far beyond any real one
# and still read in a fraction of a second.
MAX_BYTES = 1_000_000


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count:,} bytes"


def _describe(model: type[BaseModel]) -> str:
    described = {
        ApproversRegistry: "an approvers registry",
        Programme: "an annual programme",
        CampaignPlan: "a campaign plan",
    }
    return described.get(model, f"a {model.__name__.lower()} file")


def locate(path: Path, loc: Loc, message: str) -> Problem:
    """A problem found after validation (say, against a plan), located in the file it came from."""
    tree, _ = read_yaml(path, BaseModel)
    return locate_node(path, tree, loc, message)


def load_model_file(path: Path, model: type[BaseModel]) -> tuple[BaseModel | None, list[Problem]]:
    """Read one YAML (or JSON) file into `model`, with located problems when it does not fit."""
    tree, problems = read_yaml(path, model)
    if tree is None:
        return None, problems
    return validate_tree(path, tree, model)


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain Python, for pydantic."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def validate_tree(path: Path, tree: Any, model: type[BaseModel]) -> tuple[BaseModel | None, list[Problem]]:
    try:
        return model.model_validate(_plain(tree)), []
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            loc = tuple(detail["loc"])
            problems.append(
                locate_node(path, tree, loc, _message(model, detail), key=detail["type"] == "extra_forbidden")
            )
        return None, problems


def _message(model: type[BaseModel], detail: Any) -> str:
    kind, found, loc = detail["type"], detail.get("input"), tuple(detail["loc"])
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), set(allowed))
        return f"unknown key{hint}; expected one of {', '.join(allowed)}"
    if kind == "missing":
        return "expected this key, found it missing"
    if kind == "literal_error":
        expected = detail["ctx"]["expected"]
        options = {o.strip(" '") for o in expected.replace(" or ", ", ").split(", ")}
        return f"expected one of {expected}{did_you_mean(str(found), options)}, found {found!r}"
    if kind == "string_pattern_mismatch":
        pattern = str(detail["ctx"].get("pattern"))
        return f"expected {_PATTERNS.get(pattern, 'text of the form ' + pattern)}, found {found!r}"
    message: str = detail["msg"]
    message = message.removeprefix("Value error, ")
    if message.startswith("Input should be "):
        message = "expected " + message.removeprefix("Input should be ")
    elif not message.startswith("expected"):
        message = "expected " + message[0].lower() + message[1:]
    if "found" not in message:
        message += f", found {found!r}"
    return message


# what each pattern of the models means, for the person who wrote the value
_PATTERNS = {
    QUARTER.pattern: "a quarter like 2025-Q3",
    ID_PATTERN: "an id of lower-case letters, digits, '.', '_' or '-'",
    PUBLIC_KEY: "an Ed25519 public key: 'ed25519:' then the raw key in base64 (44 characters, ending in '=')",
    B64URL: "unpadded base64url (letters, digits, '-' and '_')",
    CURRENCY: "a currency code of three capital letters (ISO 4217), such as OMR",
    COUNTRY.pattern: "a two-letter country code such as OM or AE",
}


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys a model accepts at `loc`, for did-you-mean hints on unknown keys."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else Any
        elif isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            if info is None:
                return []
            current = info.annotation
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """`X | None` as X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def did_you_mean(word: str, choices: set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def locate_node(path: Path, tree: Any, loc: Loc, message: str, *, key: bool = False) -> Problem:
    """Find the line and column of `loc` in the YAML tree; a missing key points at its parent."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    line, column = 0, 0  # ruamel counts from zero
    node = tree
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            line, column = node.lc.key(part) if key and last else node.lc.value(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, column = node.lc.item(part)
            node = node[part]
        else:
            break
    return Problem(path, line + 1, column + 1, ".".join(str(p) for p in loc) or "(file)", message)
