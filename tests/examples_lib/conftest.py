"""Fixtures of the golden-dataset tests: reviewed interactions and a tiny fake embedder (no model load)."""

import hashlib
import re

import numpy as np
import pytest

from feedback.models import ErrorCategory, Review
from tests.factories import FeedbackFactory, InteractionFactory

DIMENSIONS = 384


def fake_embed_texts(texts: list[str]) -> np.ndarray:
    """Bag of words hashed into 384 dimensions, unit length: texts sharing most words are near each other."""
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"\w+", text.casefold()):
            vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIMENSIONS] += 1.0
        norm = np.linalg.norm(vectors[row])
        if norm:
            vectors[row] /= norm
    return vectors


@pytest.fixture(autouse=True)
def fake_embedder(settings):
    settings.EXAMPLES_EMBEDDER = "tests.examples_lib.conftest.fake_embed_texts"


@pytest.fixture
def reviewed(project):
    """reviewed(verdict, correction=None, **interaction_fields) -> an interaction with feedback and a review."""

    def _make(verdict: str | None, correction=None, category: str | None = "wrong_policy", **fields):
        interaction = InteractionFactory(project=project, **fields)
        FeedbackFactory(interaction=interaction, project=project)
        if verdict is not None:
            error_category = None
            if category:
                error_category, _ = ErrorCategory.objects.get_or_create(project=project, name=category)
            Review.objects.create(
                project=project,
                interaction=interaction,
                verdict=verdict,
                correction=correction,
                error_category=error_category,
                reviewer_name="sme-jane",
            )
        return interaction

    return _make
