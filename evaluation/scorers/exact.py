import re
import string

from evaluation.scorers.base import Item, Result, Scorer

_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")


class ExactScorer(Scorer):
    """The output equals the expected output, after the normalisations asked for."""

    kind = "exact"
    options = {"ignore_case": bool, "normalize_whitespace": bool, "strip_punctuation": bool}

    def setup(self, ignore_case=False, normalize_whitespace=True, strip_punctuation=False):
        self.ignore_case, self.whitespace, self.punctuation = ignore_case, normalize_whitespace, strip_punctuation

    def normalised(self, value: str) -> str:
        if self.punctuation:
            value = _PUNCTUATION.sub("", value)
        if self.whitespace:
            value = " ".join(value.split())
        if self.ignore_case:
            value = value.casefold()
        return value

    def score_batch(self, items: list[Item]) -> list[Result]:
        results = []
        for item in items:
            same = self.normalised(item.output_text) == self.normalised(item.expected_text)
            results.append(Result(1.0 if same else 0.0, same))
        return results
