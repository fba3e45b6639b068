"""The statistics of a run's summary: Wilson intervals, McNemar's exact test, Wilcoxon's signed-rank test."""

import math

from scipy import stats

Z95 = 1.959963984540054


def wilson(passed: int, n: int, z: float = Z95) -> list[float] | None:
    """95% Wilson score interval of a pass rate (good at 0%, 100% and small n, unlike the normal one)."""
    if n == 0:
        return None
    p = passed / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return [round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6)]


def mcnemar(regressions: int, improvements: int) -> float:
    """Two-sided exact McNemar p-value: the discordant pairs against a fair coin."""
    discordant = regressions + improvements
    if discordant == 0:
        return 1.0
    return round(float(stats.binomtest(regressions, discordant, 0.5).pvalue), 8)


def wilcoxon(differences: list[float]) -> float | None:
    """Two-sided Wilcoxon signed-rank p-value of paired score differences (zeros already left out)."""
    if len(differences) < 2:
        return None if not differences else 1.0
    return round(float(stats.wilcoxon(differences, zero_method="wilcox").pvalue), 8)
