import json
from typing import Any

from evaluation.scorers.base import Item, Result, Scorer


def parsed(output: Any) -> tuple[Any, str]:
    """The output as JSON: an object or array as posted, or a string that parses. (value, error)."""
    if isinstance(output, dict | list):
        return output, ""
    if isinstance(output, str):
        try:
            return json.loads(output), ""
        except ValueError as exc:
            return None, f"The output is not valid JSON: {exc}."
    return output, ""


class JsonValidScorer(Scorer):
    """The output is JSON: an object or array, or a string that parses as JSON."""

    kind = "json_valid"

    def score_batch(self, items: list[Item]) -> list[Result]:
        results = []
        for item in items:
            _, error = parsed(item.output)
            results.append(Result(0.0 if error else 1.0, not error, error))
        return results
