import re

from evaluation.scorers.base import Item, Result, Scorer, ScorerConfigError


class RegexScorer(Scorer):
    """The output matches `pattern` (re.search; `full_match` for the whole output)."""

    kind = "regex"
    options = {"pattern": str, "ignore_case": bool, "full_match": bool}
    required = ("pattern",)

    def setup(self, pattern, ignore_case=False, full_match=False):
        try:
            self.pattern = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise ScorerConfigError(f"'pattern' is not a valid regular expression: {exc}.") from exc
        self.match = self.pattern.fullmatch if full_match else self.pattern.search

    def score_batch(self, items: list[Item]) -> list[Result]:
        results = []
        for item in items:
            found = self.match(item.output_text) is not None
            results.append(Result(1.0 if found else 0.0, found))
        return results
