"""The clustering algorithm on its own (no database): recovery, no fragmentation, determinism, the sweep."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score

from feedback.clustering import algorithm, resolution
from feedback.clustering.algorithm import cluster_embeddings
from feedback.clustering.resolution import silhouette


def groups(sizes: list[int], spread: float = 0.045, dim: int = 384, seed: int = 0):
    """Unit vectors around random directions (the spread of real sentence embeddings), and their group ids."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), dim))
    truth = np.repeat(np.arange(len(sizes)), sizes)
    x = centres[truth] / np.linalg.norm(centres[truth], axis=1, keepdims=True)
    x = x + rng.standard_normal(x.shape) * spread
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), truth


@pytest.mark.parametrize(
    "sizes",
    [
        [12, 12, 12, 12],  # small data: four topics of twelve
        [60, 60, 60],  # few large groups: a fixed high resolution would cut each one
        [200, 60, 25, 10, 6],  # long tail
        [15] * 60,  # many small groups
    ],
    ids=["4x12", "3x60", "long-tail", "60x15"],
)
def test_well_separated_groups_are_recovered_exactly(sizes):
    x, truth = groups(sizes)
    result = cluster_embeddings(x, seed=0)
    assert (result.labels >= 0).all()
    assert result.params["clusters"] == len(sizes)
    assert adjusted_rand_score(truth, result.labels) == 1.0


def test_groups_with_inner_structure_do_not_fragment():
    # Five topics of 40, each of four sub-themes that are closer than the noise: the topics are the clusters.
    # (The former fixed resolution cut this into 20 pieces, 3x60 into 35 and the long tail into 53.)
    rng = np.random.default_rng(1)
    topics = rng.standard_normal((5, 384))
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    subs = topics[:, None, :] + rng.standard_normal((5, 4, 384)) * 0.02
    truth = np.repeat(np.arange(5), 40)
    x = subs[truth, np.tile(np.repeat(np.arange(4), 10), 5)] + rng.standard_normal((200, 384)) * 0.04
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    result = cluster_embeddings(x, seed=0)
    assert result.params["clusters"] == 5
    assert adjusted_rand_score(truth, result.labels) == 1.0


def test_same_seed_same_result_and_the_input_is_left_alone():
    x, _ = groups([40, 30, 20, 10], spread=0.09, seed=3)
    before = x.copy()
    first, second = cluster_embeddings(x, seed=7), cluster_embeddings(x, seed=7)
    assert np.array_equal(first.labels, second.labels)
    assert np.array_equal(first.centroids, second.centroids)
    assert first.params == second.params
    assert np.array_equal(x, before)


def test_the_resolution_is_chosen_from_the_sweep_and_recorded():
    few, _ = groups([50, 50, 50])
    many, _ = groups([10] * 40)
    coarse, fine = cluster_embeddings(few).params, cluster_embeddings(many).params
    for params in (coarse, fine):
        swept = [r for r, _c, _s in params["sweep"]]
        assert len(swept) >= len(resolution.RESOLUTIONS) and swept == sorted(swept)
        assert swept[0] < params["resolution"] < swept[-1]  # inside the sweep, not at its edge
        best = max(s for _r, _c, s in params["sweep"])
        assert params["silhouette"] >= best - 0.05
    assert coarse["resolution"] < fine["resolution"]  # more groups, finer resolution: not a constant


def test_the_grain_moves_smoothly_with_the_scores():
    resolutions = list(resolution.RESOLUTIONS)
    # Banking77 test's sweep, where the former tie rule swung between 64 and 105 clusters on a 0.0005 difference.
    scores = [0.12, 0.13, 0.13, 0.14, 0.14, 0.16, 0.18, 0.20, 0.219, 0.2309, 0.2206, 0.2313, 0.2333, 0.2389,
              0.2456, 0.2456, 0.2456]  # fmt: skip
    clusters = [3, 6, 9, 10, 11, 13, 17, 23, 58, 65, 73, 94, 108, 127, 154, 160, 170]
    chosen, edge = resolution.choose(resolutions, scores, clusters)
    assert edge is None and 2 < chosen < 16

    def candidate(res: float) -> int:  # the choice is one of the scored candidates
        index = int(np.argmin(np.abs(np.log2(resolutions) - np.log2(res))))
        assert np.isclose(resolutions[index], res)
        return index

    kept = clusters[candidate(chosen)]
    for i in range(len(scores)):
        for delta in (-0.002, 0.002):
            nudged = scores[:]
            nudged[i] += delta
            moved, _ = resolution.choose(resolutions, nudged, clusters)
            assert abs(np.log2(moved / chosen)) <= 0.5 + 1e-9  # at most the next candidate
            assert 2 / 3 < clusters[candidate(moved)] / kept < 1.5  # never half or double the clusters


def test_the_sweep_extends_past_an_end_where_the_best_score_sits():
    resolutions = list(resolution.RESOLUTIONS)
    rising = [0.1 + 0.03 * i for i in range(len(resolutions))]  # finer is ever better
    assert resolution.choose(resolutions, rising, [2 + i for i in range(len(resolutions))])[1] == "finer"
    many, _ = groups([6] * 150, spread=0.05)
    params = cluster_embeddings(many).params
    assert params["sweep"][-1][0] > max(resolution.RESOLUTIONS) or params["resolution"] < max(resolution.RESOLUTIONS)


def test_large_input_chooses_the_resolution_on_a_sample(monkeypatch):
    monkeypatch.setattr(algorithm, "SWEEP_MAX_N", 400)
    monkeypatch.setattr(algorithm, "SWEEP_SAMPLE", 300)
    x, truth = groups([150, 120, 100, 80, 60, 50, 40, 30, 20, 10])
    result = cluster_embeddings(x, seed=0)
    assert adjusted_rand_score(truth, result.labels) == 1.0
    assert len(result.labels) == len(x) == result.params["n"]


def test_too_few_points_are_left_unclustered():
    x, _ = groups([2])
    result = cluster_embeddings(x)
    assert (result.labels == -1).all()
    assert result.centroids.shape[0] == 0


def test_silhouette_matches_scikit_learn_cosine_silhouette():
    x, _ = groups([30, 20, 10], spread=0.3, dim=16, seed=5)
    labels = np.random.default_rng(0).integers(0, 4, len(x))
    expected = silhouette_score(x, labels, metric="cosine")
    assert silhouette(x, labels, np.arange(len(x))) == pytest.approx(expected, abs=1e-5)
