"""The clustering method on several real labelled text sets, side by side: today's grain rule against the one before,
and the ONNX embedder against torch's (clustering ARI and similar-search precision/recall@10).

    .venv/bin/python bench/cluster_datasets.py [--skip-torch] [--reps 2]

Data (bench/_datasets.py says where each set comes from, its version, licence and labels; the labels never reach
the method; unclustered points count as singletons):
- Banking77 (PolyAI, CC BY 4.0; ../shared/data/banking77): test (3,080 queries, 77 intents), train (10,003), and
  random subsets of the train split of 5-40 intents, uniform or long-tailed (bench/cluster_research.py);
- chatterbot-en: chatterbot-corpus 1.3.3 (PyPI, BSD-3), 749 chatbot questions by topic file (19);
- wordnet-nv: WordNet 3.0 noun and verb definitions by lexicographer file (41), Debian wordnet-base;
- emoji-names: Unicode 15.0 emoji names by subgroup (90), Debian unicode-data;
- fortunes: fortune cookies by subject file (19), Debian fortunes.
The Debian sets are fetched on first use into var/bench-data/ (a set that cannot be had is skipped with a note).
A set above SUBSAMPLE_ABOVE items is cut to a seeded random SUBSAMPLE_TO (said in the output).
Each text is embedded as the pipeline embeds a failure without feedback ("user: <text>"), cached under
/tmp/goldloop_cluster_research/<backend>_*.npy. "before" is the grain rule this replaced (softmax temperature 0.02, the
fine end of the sweep extended up to 4 times, the weighted mean not snapped to a candidate, one Leiden run per
candidate: BEFORE), "now" the current one (feedback/clustering/resolution.py).
The machine's two cores are shared; only the quality figures are compared, not times.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402
from _datasets import LOADERS, DatasetUnavailable, subsample  # noqa: E402

CACHE = Path("/tmp/goldloop_cluster_research")
SUBSAMPLE_ABOVE, SUBSAMPLE_TO = 12_000, 10_000  # Banking77 train (10,003) stays whole


def texts_and_labels() -> dict[str, tuple[list[str], np.ndarray]]:
    """Every set of _datasets.LOADERS that can be had here, the large ones subsampled."""
    out = {}
    for name, load in LOADERS.items():
        try:
            texts, y = load()
        except DatasetUnavailable as exc:
            print(f"(skipped {name}: {exc})")
            continue
        if len(texts) > SUBSAMPLE_ABOVE:
            print(f"({name}: a seeded random {SUBSAMPLE_TO:,} of its {len(texts):,} items)")
            texts, y = subsample(texts, y, SUBSAMPLE_TO)
        out[name] = (texts, y)
    return out


def embed(name: str, texts: list[str], backend: str) -> np.ndarray:
    path = CACHE / f"{backend}_{name}.npy"
    if path.exists() and len(cached := np.load(path)) == len(texts):
        return cached
    from core.embedder import OnnxEncoder, get_torch_model, onnx_graph_path

    batch = ["user: " + t for t in texts]
    if backend == "torch":
        x = get_torch_model().encode(batch, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    else:
        x = OnnxEncoder(onnx_graph_path(quantized=backend == "onnx-qint8"), threads=0).encode(batch, batch_size=16)
    CACHE.mkdir(exist_ok=True)
    np.save(path, np.asarray(x, dtype=np.float32))
    return np.load(path)


def score(y: np.ndarray, lab: np.ndarray) -> tuple[float, float]:
    lab = np.where(lab >= 0, lab, lab.max() + 1 + np.arange(len(lab)))
    return adjusted_rand_score(y, lab), normalized_mutual_info_score(y, lab)


# The grain rule before: softmax temperature 0.02, the fine end extended up to 4 times, the weighted mean kept as is,
# one Leiden run per candidate.
BEFORE = {
    "SOFT_TEMPERATURE": 0.02,
    "MAX_FINER_EXTENSIONS": 4,
    "MAX_COARSER_EXTENSIONS": 4,
    "SWEEP_RESTARTS": 1,
}


def choose_before(resolutions: list[float], scores: list[float], clusters: list[int]) -> tuple[float, str | None]:
    """The choice before: the weighted centre itself, not the scored candidate nearest it."""
    from feedback.clustering import resolution

    _, edge = resolution.choose(resolutions, scores, clusters)
    r = np.log2(np.asarray(resolutions, dtype=np.float64))
    p = resolution.smoothed_scores(resolutions, scores, clusters)
    weights = np.exp((p - p.max()) / resolution.SOFT_TEMPERATURE)
    return float(2 ** ((weights * r).sum() / weights.sum())), edge


def cluster(x: np.ndarray, rule: str):
    from feedback.clustering import algorithm, resolution

    saved = {name: getattr(resolution, name) for name in BEFORE}
    if rule == "before":
        for name, value in BEFORE.items():
            setattr(resolution, name, value)
        algorithm.choose = choose_before
    try:
        return algorithm.cluster_embeddings(x, seed=0)
    finally:
        for name, value in saved.items():
            setattr(resolution, name, value)
        algorithm.choose = resolution.choose


def neighbours(x: np.ndarray, k: int = 10) -> np.ndarray:
    """Each point's k nearest others (as a set: their order is not kept), in row blocks to bound memory."""
    out = []
    for start in range(0, len(x), 2048):
        sims = x[start : start + 2048] @ x.T
        sims[np.arange(len(sims)), np.arange(start, start + len(sims))] = -np.inf
        out.append(np.argpartition(-sims, k, axis=1)[:, :k])
    return np.vstack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-torch", action="store_true", help="no torch/ONNX comparison (torch is slow)")
    parser.add_argument("--reps", type=int, default=2, help="draws per Banking77 subset condition")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import cluster_research as research

    print(f"load average {os.getloadavg()} (2 shared cores)")
    data = texts_and_labels()
    sets = {name: (embed(name, texts, "onnx-qint8"), y) for name, (texts, y) in data.items()}
    if "banking77-train" in sets:
        train_x, train_y = sets["banking77-train"]
        y_int = np.unique(train_y, return_inverse=True)[1]
        for k, sizes, label in ((5, research.uniform(40), "40 each"), (10, research.uniform(30), "30 each"),
                                (20, research.uniform(50), "50 each"), (40, research.uniform(50), "50 each"),
                                (10, research.zipf(150), "zipf"), (30, research.zipf(100), "zipf")):  # fmt: skip
            for rep in range(args.reps):
                sets[f"banking77-train {k} intents {label} #{rep}"] = research.subset(train_x, y_int, k, sizes, rep)

    print("\n## Grain rule: the one before against now (ONNX qint8 vectors)")
    print("| data set | n | true groups | before: clusters, ARI, NMI | now: clusters, ARI, NMI | ARI change |")
    print("|---|---|---|---|---|---|")
    changes = []
    for name, (x, y) in sets.items():
        cells = []
        for rule in ("before", "now"):
            result = cluster(x, rule)
            ari, nmi = score(y, result.labels)
            cells.append((result.params["clusters"], ari, nmi))
        changes.append(cells[1][1] - cells[0][1])
        print(
            f"| {name} | {len(x):,} | {len(np.unique(y))} | {cells[0][0]}, {cells[0][1]:.3f}, {cells[0][2]:.3f} | "
            f"{cells[1][0]}, {cells[1][1]:.3f}, {cells[1][2]:.3f} | {changes[-1]:+.3f} |"
        )
    print(f"mean ARI change {np.mean(changes):+.3f}, worst {min(changes):+.3f}")

    if args.skip_torch:
        return
    print("\n## Embedder: torch against ONNX Runtime (fp32, qint8), same texts, same method")
    print("| data set | backend | cosine to torch (mean, min) | clusters | ARI | NMI | same-label precision@10 | "
          "torch's 10 nearest found |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    gaps: dict[str, list[tuple[str, float, float]]] = {"onnx-fp32": [], "onnx-qint8": []}
    for name, (texts, y) in data.items():
        ref = embed(name, texts, "torch")
        ref_nn = neighbours(ref)
        for backend in ("torch", "onnx-fp32", "onnx-qint8"):
            x = embed(name, texts, backend)
            cos = np.sum(x * ref, axis=1)
            result = cluster(x, "now")
            ari, nmi = score(y, result.labels)
            if backend == "torch":
                torch_ari = ari
            nn = neighbours(x)
            precision = np.mean(y[nn] == y[:, None])
            overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(nn, ref_nn, strict=True)])
            if backend == "torch":
                torch_precision = precision
            else:
                gaps[backend].append((name, ari - torch_ari, precision - torch_precision))
            print(
                f"| {name} | {backend} | {cos.mean():.4f}, {cos.min():.4f} | {result.params['clusters']} | "
                f"{ari:.3f} | {nmi:.3f} | {precision:.3f} | {overlap:.3f} |"
            )
    for backend, rows in gaps.items():
        worst = max(rows, key=lambda row: abs(row[1]))
        print(
            f"{backend} against torch: clustering ARI {', '.join(f'{n} {d:+.3f}' for n, d, _ in rows)} "
            f"(largest {abs(worst[1]):.3f}, {worst[0]}); precision@10 largest gap "
            f"{max(abs(p) for _, _, p in rows):.3f}"
        )


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
