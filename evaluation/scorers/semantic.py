import numpy as np

from core.embedder import embed_texts
from evaluation.scorers.base import Item, Result, Scorer, ScorerConfigError


class SemanticScorer(Scorer):
    """Cosine similarity of output and expected output under the project's embedder (the clustering model)."""

    kind = "semantic"
    options = {"threshold": (int, float)}
    uses_model = True

    def setup(self, threshold=0.8):
        if not -1 <= threshold <= 1:
            raise ScorerConfigError("'threshold' must be between -1 and 1.")
        self.threshold = float(threshold)

    def score_batch(self, items: list[Item]) -> list[Result]:
        if not items:
            return []
        outputs = [item.output_text for item in items]
        expected = [item.expected_text for item in items]
        # One encode call per batch, each distinct text once (expected outputs often repeat across examples).
        unique = list(dict.fromkeys(outputs + expected))
        vectors = embed_texts(unique)
        index = {value: row for row, value in enumerate(unique)}
        a = vectors[[index[value] for value in outputs]]
        b = vectors[[index[value] for value in expected]]
        cosines = np.einsum("ij,ij->i", a, b)  # unit vectors: the dot product is the cosine
        return [Result(round(float(c), 6), bool(c >= self.threshold)) for c in cosines]
