"""YAML read within bounds: a hostile or broken file is refused in a fraction of a second, located.

Three things in YAML can make a small file cost without limit: nesting (the parser recurses once per level),
aliases (`*a` repeats what `&a` names, so ten lines can stand for a billion values, or for themselves), and
values the constructor cannot make (a date that is not in the calendar raises from deep inside it). Nesting
is measured on the token stream, before anything recursive reads the file; aliases are measured on the tree
as it would be expanded, each shared part counted once; an impossible date or time is kept as the text it
was, so the model's validation names its field.
"""

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import (
    AliasToken,
    BlockEndToken,
    BlockMappingStartToken,
    BlockSequenceStartToken,
    FlowMappingEndToken,
    FlowMappingStartToken,
    FlowSequenceEndToken,
    FlowSequenceStartToken,
)

MAX_DEPTH = 40  # levels of nesting; a campaign plan uses 6
MAX_VALUES = 100_000  # values once every alias is expanded; the shipped programme has about 1,500

Located = tuple[int, int, str]  # line, column (from 1), what is wrong
_OPEN = (BlockMappingStartToken, BlockSequenceStartToken, FlowMappingStartToken, FlowSequenceStartToken)
_CLOSE = (BlockEndToken, FlowMappingEndToken, FlowSequenceEndToken)


class _Constructor(RoundTripConstructor):
    """Dates and times that do not exist (2025-02-30, 25:00) stay text, for the model to refuse by field."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return node.value


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def load(text: str) -> tuple[Any, Located | None]:
    """The YAML tree of `text`, or the first reason it cannot be read, located."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        first_alias = _scan(YAML(typ="rt"), text)
        tree = yaml.load(text)
    except _TooDeep as deep:
        return None, deep.located
    except MarkedYAMLError as error:
        return None, _located(error)
    except (YAMLError, AssertionError) as error:  # ruamel asserts on unsupported %YAML versions
        reason = str(error).splitlines()[0] if str(error) else error.__class__.__name__
        return None, (1, 1, f"expected valid YAML, {reason}")
    if first_alias is not None:
        problem = _expanded(tree)
        if problem:
            return None, (*first_alias, problem)
    return tree, None


class _TooDeep(Exception):
    def __init__(self, located: Located) -> None:
        self.located = located


def _scan(yaml: YAML, text: str) -> tuple[int, int] | None:
    """Check the nesting on the tokens (a streaming pass that stops at the first level too deep); return
    where the first alias is, if there is one."""
    depth, first_alias = 0, None
    for token in yaml.scan(text):
        if isinstance(token, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                mark = token.start_mark
                message = f"expected at most {MAX_DEPTH} levels of nesting, found more from here"
                raise _TooDeep((mark.line + 1, mark.column + 1, message))
        elif isinstance(token, _CLOSE):
            depth -= 1
        elif isinstance(token, AliasToken) and first_alias is None:
            first_alias = (token.start_mark.line + 1, token.start_mark.column + 1)
    return first_alias


def _expanded(tree: Any) -> str:
    """Why the tree is too big or never ends once its aliases are expanded ("" when it is fine): its size and
    depth, each shared node measured once, without recursion."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(tree, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_nodes.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if size[key] > MAX_VALUES:
                return f"expected at most {MAX_VALUES:,} values once aliases are expanded, found more"
            if depth[key] > MAX_DEPTH:
                return f"expected at most {MAX_DEPTH} levels of nesting once aliases are expanded, found more"
            continue
        if key in size:
            continue
        if key in open_nodes:
            return "expected aliases that end, found one that contains itself"
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in size)
    return ""


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [*node.keys(), *node.values()]
    if isinstance(node, list):
        return list(node)
    return []


def _located(error: MarkedYAMLError) -> Located:
    """Where a YAML error is: where the unclosed thing opens, when the file ends inside it."""
    unclosed = "end of stream" in (error.problem or "") and error.context_mark is not None
    mark = error.context_mark if unclosed else (error.problem_mark or error.context_mark)
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if unclosed:
        what = (error.context or "").removeprefix("while scanning ").removeprefix("while parsing ")
        return line, column, f"expected valid YAML, {what} that starts here and is never closed"
    return line, column, f"expected valid YAML, {error.problem or 'malformed YAML'}"
