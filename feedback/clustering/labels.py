"""Readable cluster labels: class-based TF-IDF keywords (as in BERTopic) and representative members.

Pure numpy/scikit-learn, no Django.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

# The default token pattern splits contractions ("isn't" -> "isn"); these stubs carry no topic.
STOP_WORDS = sorted(
    ENGLISH_STOP_WORDS
    | {
        "ve",
        "isn",
        "don",
        "doesn",
        "didn",
        "ll",
        "re",
        "wasn",
        "won",
        "aren",
        "hasn",
        "haven",
        "couldn",
        "wouldn",
        "shouldn",
        "im",
    }
)


def _stems(term: str) -> set[str]:
    return {w.rstrip("s") for w in term.split()}  # crude plural folding, enough for de-duplication


def _ctfidf(counts: sp.csr_matrix) -> np.ndarray:
    """c-TF-IDF (Grootendorst 2022): tf_{t,c} = count / words in c; idf_t = log(1 + A / f_t),
    A = average words per cluster, f_t = count of t over all clusters. Rewards terms frequent in
    one cluster but rare elsewhere, treating each cluster as one concatenated document."""
    c = counts.toarray().astype(np.float64)
    words_per_cluster = c.sum(axis=1, keepdims=True)
    tf = c / np.maximum(words_per_cluster, 1)
    idf = np.log1p(words_per_cluster.mean() / np.maximum(c.sum(axis=0), 1))
    return tf * idf


def cluster_keywords(texts: list[str], labels: np.ndarray, top_n: int = 5) -> dict[int, list[str]]:
    """Top c-TF-IDF keywords (unigrams and bigrams) per cluster; label -1 (unclustered) is skipped."""
    labels = np.asarray(labels)
    ids = [int(c) for c in np.unique(labels) if c >= 0]
    if not ids:
        return {}
    # Fit on individual texts so min_df counts documents: with enough data, a term seen once is
    # usually a typo or an id, not a theme. Small batches keep everything.
    min_df = 2 if len(texts) >= 50 else 1
    vec = CountVectorizer(stop_words=STOP_WORDS, ngram_range=(1, 2), min_df=min_df)
    try:
        x = vec.fit_transform(texts)
    except ValueError:  # empty vocabulary (only stop words / too few texts)
        return {c: [] for c in ids}
    # Sum document rows per cluster via a sparse one-hot (clusters x docs) product.
    pos = {c: i for i, c in enumerate(ids)}
    rows = [pos[int(c)] for c in labels if c >= 0]
    cols = np.flatnonzero(labels >= 0)
    onehot = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(ids), len(labels)))
    scores = _ctfidf(onehot @ x)
    # A keyword must occur in >=10% of the cluster's texts (and >=2 when possible): otherwise one
    # verbose text can win with an odd bigram formed across removed stop words ("app reverted").
    doc_freq = (onehot @ (x > 0).astype(np.float64)).toarray()
    sizes = np.asarray(onehot.sum(axis=1))
    support = np.maximum(np.minimum(2, sizes), np.ceil(0.1 * sizes))
    supported = np.where(doc_freq >= support, scores, 0.0)
    # Fall back to unfiltered scores for a cluster whose texts share nothing.
    scores = np.where(supported.max(axis=1, keepdims=True) > 0, supported, scores)
    vocab = vec.get_feature_names_out()
    out: dict[int, list[str]] = {}
    for c, i in pos.items():
        picked: list[str] = []
        for j in np.argsort(-scores[i]):
            if scores[i, j] <= 0 or len(picked) >= top_n:
                break
            term = str(vocab[j])
            # Skip a term whose words are all covered by better-ranked ones ("card" or
            # "arrival cards" after "card arrival"): each keyword should add information.
            if _stems(term) <= set().union(*(_stems(p) for p in picked)):
                continue
            picked.append(term)
        out[c] = picked
    return out


def cluster_label(keywords: list[str], n: int = 3) -> str:
    """Human label from the top keywords, e.g. "card arrival / delivery / track"."""
    return " / ".join(keywords[:n]) if keywords else "(unlabelled)"


def representatives(embeddings: np.ndarray, labels: np.ndarray, n: int = 3) -> dict[int, list[int]]:
    """Indices of the n members closest (cosine) to each cluster's centroid, most typical first."""
    x = np.asarray(embeddings, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    labels = np.asarray(labels)
    out: dict[int, list[int]] = {}
    for c in np.unique(labels):
        if c < 0:
            continue
        members = np.flatnonzero(labels == c)
        centroid = x[members].sum(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        order = np.argsort(-(x[members] @ centroid), kind="stable")
        out[int(c)] = [int(i) for i in members[order[:n]]]
    return out
