"""95% confidence intervals: Student's t for a mean, Wilson score for a proportion."""

import math

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile
# Student's t 97.5% quantiles for 1..30 degrees of freedom; above 30 the Cornish-Fisher expansion below
# is within 1e-5 of the exact value
_T95 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip


def t95(df: int) -> float:
    """Student's t 97.5% quantile (the two-sided 95% critical value) for `df` degrees of freedom."""
    if df < 1:
        raise ValueError(f"expected at least 1 degree of freedom, found {df}")
    if df <= len(_T95):
        return _T95[df - 1]
    z = Z95
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def mean_interval(mean: float, sd: float, n: int) -> tuple[float, float] | None:
    """The t-interval mean ± t(n-1) * sd / sqrt(n); None below two observations."""
    if n < 2:
        return None
    half = t95(n - 1) * sd / math.sqrt(n)
    return mean - half, mean + half


def wilson(successes: int, n: int) -> tuple[float, float] | None:
    """The Wilson score interval of the proportion successes / n; None when n is 0."""
    if n == 0:
        return None
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
