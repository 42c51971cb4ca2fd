"""A programme's own indicator formulas: arithmetic over named figures, nothing else, never Python's eval."""

import pytest

from musharaka.stages import kpis as k
from musharaka.stages.formulas import DivisionByZero, FormulaError, parse
from musharaka.stages.plans import Bilingual
from musharaka.stages.programme import Indicator
from tests.stages.test_kpis import H1, at

FIGURES = {"contributions": 120, "campaigns_carried_out": 4, "published": 3, "analysed": 4}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("contributions / campaigns_carried_out", 30.0),
        ("100 * published / analysed", 75.0),
        ("(contributions - 20) / (campaigns_carried_out + 1)", 20.0),
        ("-published + 2.5", -0.5),
        ("7", 7.0),
    ],
)
def test_a_formula_is_arithmetic_over_the_figures(text: str, value: float) -> None:
    assert parse(text).value(FIGURES) == value


@pytest.mark.parametrize(
    "text", ["__import__('os').getcwd()", "analysed ** 2", "published.real", "published if analysed else 0", "'a'"]
)
def test_anything_but_numbers_names_and_four_operations_is_refused(text: str) -> None:
    with pytest.raises(FormulaError, match=r"expected only numbers, figure names, \+ - \* / and parentheses"):
        parse(text)


def test_a_formula_that_does_not_read_says_so() -> None:
    with pytest.raises(FormulaError, match="does not read as one"):
        parse("published / (analysed")


def test_the_names_are_listed_once_in_the_order_written() -> None:
    assert parse("published / analysed + published").names() == ("published", "analysed")


def test_division_by_zero_names_the_divisor() -> None:
    with pytest.raises(DivisionByZero) as raised:
        parse("100 * published / (analysed - 4)").value(FIGURES)
    assert raised.value.divisor == "analysed - 4"


def test_a_programmes_own_indicator_is_computed_from_the_half_years_figures() -> None:
    facts = [
        k.Facts("a", {"conduct": at(2, 1), "analyse": at(2, 10), "announce": at(2, 20)}, True, contributions=30),
        k.Facts("b", {"conduct": at(3, 1), "analyse": at(3, 10)}, True, contributions=12),
        k.Facts("c", {"conduct": at(8, 1)}, contributions=99),  # the next half-year
    ]
    name = Bilingual(ar="م", en="m")
    per = Indicator(
        id="per-campaign", name=name, target=25, unit="count", formula="contributions / campaigns_carried_out"
    )
    share = Indicator(id="published", name=name, target=100, unit="percent", formula="100 * published / analysed")
    rows = [k.kpi_row(i, indicator, facts, H1) for i, indicator in enumerate((per, share), 1)]
    # (30 + 12) / 2 = 21 against 25; one of the two analysed was published: 50% against 100%
    assert [(r.actual_text, r.gap_text) for r in rows] == [("21", "4"), ("50%", "50%")]
    assert rows[0].reason is None and rows[1].formula == "100 * published / analysed"


def test_a_formula_dividing_by_a_zero_figure_has_no_value_and_says_why() -> None:
    indicator = Indicator(
        id="x", name=Bilingual(ar="م", en="m"), target=5, unit="count", formula="contributions / analysed"
    )
    row = k.kpi_row(1, indicator, [], H1)
    assert (row.actual, row.actual_text, row.gap_text) == (None, "—", "—")
    assert row.reason is not None and row.reason.en == "no value: analysed is zero in 2025-H1"
    assert "analysed" in row.reason.ar and "2025-H1" in row.reason.ar
