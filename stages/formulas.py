"""A programme's own indicator as a formula over the half-year's figures: `100 * published / analysed`.

Read with Python's `ast` parser and then walked by hand: only numbers, names, + - * /, unary minus and
parentheses are accepted, and nothing is ever evaluated by Python itself, so a programme file cannot run code.
"""

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}

EXPECTED = "numbers, figure names, + - * / and parentheses"


class FormulaError(ValueError):
    """A formula that is not one: says what was expected and what was found."""


class DivisionByZero(Exception):
    """A divisor was zero: `divisor` is its text in the formula."""

    def __init__(self, divisor: str) -> None:
        super().__init__(divisor)
        self.divisor = divisor


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr

    def names(self) -> tuple[str, ...]:
        """The figure names it uses, in the order written, each once."""
        found = [node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name)]
        return tuple(dict.fromkeys(sorted(found, key=lambda n: self.text.find(n))))

    def value(self, figures: Mapping[str, float]) -> float:
        """Its value over `figures`; DivisionByZero naming the divisor, KeyError for a name not among them."""
        return self._value(self.tree, figures)

    def _value(self, node: ast.expr, figures: Mapping[str, float]) -> float:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, int | float)  # parse() lets no other constant through
            return float(node.value)
        if isinstance(node, ast.Name):
            return float(figures[node.id])
        if isinstance(node, ast.UnaryOp):
            operand = self._value(node.operand, figures)
            return -operand if isinstance(node.op, ast.USub) else operand
        assert isinstance(node, ast.BinOp)  # parse() lets nothing else through
        left, right = self._value(node.left, figures), self._value(node.right, figures)
        if isinstance(node.op, ast.Div) and right == 0:
            raise DivisionByZero(ast.get_source_segment(self.text, node.right) or "?")
        return _OPERATORS[type(node.op)](left, right)


def parse(text: str) -> Formula:
    """The formula written in `text`; FormulaError saying what is not allowed, and where."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise FormulaError(
            f"expected a formula of {EXPECTED}, found {text.strip()!r}, which does not read as one"
            f" (at character {error.offset})"
        ) from None
    formula = Formula(text.strip(), tree.body)
    _check(formula, tree.body)
    return formula


def _check(formula: Formula, node: ast.expr) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        _check(formula, node.left)
        _check(formula, node.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(formula, node.operand)
    elif not (isinstance(node, ast.Name) or (isinstance(node, ast.Constant) and type(node.value) in (int, float))):
        found = ast.get_source_segment(formula.text, node) or type(node).__name__
        raise FormulaError(f"expected only {EXPECTED}, found {found!r}")
