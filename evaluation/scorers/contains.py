from evaluation.scorers.base import Item, Result, Scorer


class ContainsScorer(Scorer):
    """The output contains `value` (or, without one, the expected output)."""

    kind = "contains"
    options = {"value": str, "ignore_case": bool}

    def setup(self, value=None, ignore_case=True):
        self.value, self.ignore_case = value, ignore_case

    def score_batch(self, items: list[Item]) -> list[Result]:
        results = []
        for item in items:
            needle, haystack = self.value if self.value is not None else item.expected_text, item.output_text
            if self.ignore_case:
                needle, haystack = needle.casefold(), haystack.casefold()
            found = needle in haystack
            results.append(Result(1.0 if found else 0.0, found))
        return results
