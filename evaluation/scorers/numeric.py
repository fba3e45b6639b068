import math
from typing import Any

from evaluation.scorers.base import Item, Result, Scorer, ScorerConfigError, text


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        result = float(text(value).strip().replace(",", ""))
    except ValueError:
        return None
    return result if math.isfinite(result) else None


class NumericScorer(Scorer):
    """The output is a number within `tolerance` (absolute) or `relative` (a fraction) of the expected number;
    scores 1 or 0. Text like "1,200.5" is read as a number."""

    kind = "numeric"
    options = {"tolerance": (int, float), "relative": (int, float)}

    def setup(self, tolerance=0.0, relative=0.0):
        if tolerance < 0 or relative < 0:
            raise ScorerConfigError("'tolerance' and 'relative' must not be negative.")
        self.tolerance, self.relative = float(tolerance), float(relative)

    def score_batch(self, items: list[Item]) -> list[Result]:
        results = []
        for item in items:
            got, want = number(item.output), number(item.expected)
            if want is None:
                results.append(Result(None, False, "The expected output is not a number."))
            elif got is None:
                results.append(Result(0.0, False, "The output is not a number."))
            else:
                ok = math.isclose(got, want, rel_tol=self.relative, abs_tol=self.tolerance)
                results.append(Result(1.0 if ok else 0.0, ok))
        return results
