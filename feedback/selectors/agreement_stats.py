"""The statistics of agreement, on plain arrays: percent agreement, Cohen's kappa, Krippendorff's alpha, each with
a bootstrap 95% interval and its n.

Point estimates come from the maintained libraries (scikit-learn's cohen_kappa_score, the `krippendorff`
package). The bootstrap resamples items; since every figure here depends on an item only through a small
"pattern" (the counts of each value among its verdicts, or the cell of a pair's contingency table), resampling n
items is drawing n times from the distribution of patterns, a multinomial over the distinct patterns: exact, and
vectorised over all replicates at once, so that 1,000 replicates over 100,000 verdicts take milliseconds. The
tests check that these vectorised formulas give the libraries' values on the full sample.
"""

import warnings
from dataclasses import dataclass

import krippendorff
import numpy as np

BOOTSTRAP_REPLICATES = 1000
SEED = 20_260_101  # fixed: the same data always gives the same interval
MIN_ITEMS = 5  # below this many items (or pairs), a bootstrap interval says nothing


@dataclass(frozen=True)
class Estimate:
    value: float | None
    ci95: tuple[float, float] | None
    n: int

    def as_dict(self) -> dict:
        return {"value": self.value, "ci95": list(self.ci95) if self.ci95 else None, "n": self.n}


def _finite(value) -> float | None:
    value = float(value)
    return round(value, 4) if np.isfinite(value) else None


def _interval(replicates: np.ndarray, n: int) -> tuple[float, float] | None:
    """The 2.5th and 97.5th percentiles of the replicates; none from fewer than MIN_ITEMS items (meaningless)."""
    replicates = replicates[np.isfinite(replicates)]
    if n < MIN_ITEMS or replicates.size < 10:
        return None
    low, high = np.percentile(replicates, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def _pattern_weights(patterns: np.ndarray, rng: np.random.Generator, replicates: int):
    """(distinct patterns, B x P counts): each row is one bootstrap resample of the items, as pattern counts."""
    patterns = np.asarray(patterns, dtype=np.int64)
    # One integer per pattern (a mixed-radix number), so that finding the distinct ones is a 1-D sort.
    base = int(patterns.max(initial=0)) + 1
    keys = patterns @ (base ** np.arange(patterns.shape[1], dtype=np.int64))
    _, first, frequency = np.unique(keys, return_index=True, return_counts=True)
    total = int(frequency.sum())
    weights = rng.multinomial(total, frequency / total, size=replicates).astype(np.float64)
    return patterns[first], weights


# -- one set of items, any number of reviewers -------------------------------------------------------------------


def value_counts(reliability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """reliability: reviewers x items (np.nan = no verdict). Returns (items x values counts, the value domain)."""
    domain = np.unique(reliability[~np.isnan(reliability)])
    counts = np.stack([(reliability == value).sum(axis=0) for value in domain], axis=1) if domain.size else None
    if counts is None:
        counts = np.zeros((reliability.shape[1], 0))
    return counts, domain


def _delta(domain: np.ndarray, level: str) -> np.ndarray:
    if level == "nominal":
        return 1.0 - np.eye(len(domain))
    if level == "interval":
        return (domain[:, None] - domain[None, :]) ** 2
    raise ValueError(f"unsupported level {level!r}")


def _alpha_from_counts(counts: np.ndarray, weights: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Krippendorff's alpha of each resample (rows of weights over the item patterns of `counts`)."""
    m = counts.sum(axis=1)
    outer = counts[:, :, None] * counts[:, None, :] - np.einsum("uk,kl->ukl", counts, np.eye(counts.shape[1]))
    per_item = (outer / (m - 1)[:, None, None]).reshape(len(counts), -1)
    coincidences = (weights @ per_item).reshape(len(weights), counts.shape[1], counts.shape[1])
    marginals = coincidences.sum(axis=2)
    n = marginals.sum(axis=1)
    observed = (coincidences * delta).sum(axis=(1, 2))
    expected = np.einsum("bk,bl,kl->b", marginals, marginals, delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 - (n - 1) * observed / expected


def _agreement_from_counts(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    m = counts.sum(axis=1)
    per_item = (counts * (counts - 1)).sum(axis=1) / (m * (m - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (weights @ per_item) / weights.sum(axis=1)


def pairable(reliability: np.ndarray) -> np.ndarray:
    """The items (columns) with at least two verdicts: the only ones that say anything about agreement."""
    return reliability[:, (~np.isnan(reliability)).sum(axis=0) >= 2]


def percent_agreement(reliability: np.ndarray, *, replicates: int = BOOTSTRAP_REPLICATES, seed: int = SEED):
    """Mean over items of the share of agreeing pairs of verdicts; n = items with two verdicts or more."""
    reliability = pairable(reliability)
    if reliability.shape[1] == 0:
        return Estimate(None, None, 0)
    counts, _ = value_counts(reliability)
    whole = _agreement_from_counts(counts, np.ones((1, len(counts))))[0]
    distinct, weights = _pattern_weights(counts, np.random.default_rng(seed), replicates)
    return Estimate(
        _finite(whole), _interval(_agreement_from_counts(distinct, weights), counts.shape[0]), counts.shape[0]
    )


def krippendorff_alpha(
    reliability: np.ndarray, *, level: str = "nominal", replicates: int = BOOTSTRAP_REPLICATES, seed: int = SEED
) -> Estimate:
    """Krippendorff's alpha (the `krippendorff` package) for any number of reviewers with missing verdicts.

    n = the pairable values (verdicts on items with two or more), as in Krippendorff's own tables.
    """
    reliability = pairable(reliability)
    counts, domain = value_counts(reliability)
    n = int(counts.sum())
    if domain.size < 2:
        # One value only: perfect agreement but no variation, alpha is undefined.
        return Estimate(None, None, n)
    # The library on the value counts we already have (the same figure as on the reliability data, less work).
    value = krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement=level)
    distinct, weights = _pattern_weights(counts, np.random.default_rng(seed), replicates)
    resampled = _alpha_from_counts(distinct, weights, _delta(domain, level))
    return Estimate(_finite(value), _interval(resampled, counts.shape[0]), n)


# -- two sets of labels side by side (a pair of reviewers, a reviewer against the others, a judge against SMEs) --


def _kappa_from_tables(tables: np.ndarray) -> np.ndarray:
    """Cohen's kappa of each K x K contingency table of a stack (B x K x K)."""
    total = tables.sum(axis=(1, 2))
    observed = np.trace(tables, axis1=1, axis2=2) / total
    expected = (tables.sum(axis=2) * tables.sum(axis=1)).sum(axis=1) / total**2
    with np.errstate(divide="ignore", invalid="ignore"):
        return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class PairStats:
    percent_agreement: Estimate
    kappa: Estimate
    kappa_replicates: np.ndarray | None
    confusion: np.ndarray


def compare(
    first: np.ndarray,
    second: np.ndarray,
    *,
    labels: int | None = None,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = SEED,
) -> PairStats:
    """Two aligned arrays of integer labels: agreement, Cohen's kappa (scikit-learn) and the confusion matrix
    (rows `first`, columns `second`), each resampled over the compared items."""
    first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
    size = labels if labels is not None else int(max(first.max(initial=-1), second.max(initial=-1)) + 1)
    confusion = np.zeros((size, size), dtype=np.int64)
    np.add.at(confusion, (first, second), 1)
    n = len(first)
    if n == 0:
        return PairStats(Estimate(None, None, 0), Estimate(None, None, 0), None, confusion)
    cells = np.stack([first, second], axis=1)
    distinct, weights = _pattern_weights(cells, np.random.default_rng(seed), replicates)
    cell_counts = confusion[distinct[:, 0], distinct[:, 1]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kappa is undefined (nan) when both sides use one label only
        # The same kappa as on the n labels, computed on the distinct cells weighted by their counts.
        # Imported here: scikit-learn takes about a second to import, and every web process loads this module
        # through the admin while only the agreement report needs it.
        from sklearn.metrics import cohen_kappa_score

        kappa = cohen_kappa_score(distinct[:, 0], distinct[:, 1], labels=list(range(size)), sample_weight=cell_counts)
    tables = np.zeros((len(weights), size, size))
    for index, (row, column) in enumerate(distinct):
        tables[:, row, column] += weights[:, index]
    kappas = _kappa_from_tables(tables)
    agreement = np.trace(tables, axis1=1, axis2=2) / n
    return PairStats(
        percent_agreement=Estimate(_finite(np.mean(first == second)), _interval(agreement, n), n),
        kappa=Estimate(_finite(kappa), _interval(kappas, n), n),
        kappa_replicates=kappas,
        confusion=confusion,
    )


def pair_tables(reliability: np.ndarray, *, min_shared: int = 2) -> np.ndarray:
    """The K x K contingency table of every pair of reviewers sharing `min_shared` items or more (P x K x K)."""
    present = ~np.isnan(reliability)
    labels = int(np.nanmax(reliability)) + 1 if present.any() else 0
    codes = np.where(present, reliability, 0).astype(np.int64)
    tables = []
    for a in range(reliability.shape[0]):
        for b in range(a + 1, reliability.shape[0]):
            shared = present[a] & present[b]
            if shared.sum() < min_shared:
                continue
            cells = codes[a, shared] * labels + codes[b, shared]
            tables.append(np.bincount(cells, minlength=labels * labels).reshape(labels, labels))
    if not tables:
        return np.zeros((0, labels, labels))
    return np.array(tables, dtype=np.float64)


def mean_pairwise_kappa(
    reliability: np.ndarray, *, min_shared: int = 2, replicates: int = BOOTSTRAP_REPLICATES, seed: int = SEED
) -> Estimate:
    """Cohen's kappa for pairs: with two reviewers their kappa; with more, the mean over every pair of reviewers
    who share `min_shared` items or more (Light's kappa); n = the compared verdict pairs.

    Hundreds of pairs: each pair's kappa comes from its contingency table (the formula scikit-learn's
    cohen_kappa_score computes; the tests check both agree pair by pair), and the interval resamples each pair's
    shared items, all pairs and replicates in one multinomial draw."""
    tables = pair_tables(pairable(reliability), min_shared=min_shared)
    kappas = _kappa_from_tables(tables)
    defined = np.isfinite(kappas)  # a pair that used one label only has no kappa
    if not defined.any():
        return Estimate(None, None, int(tables.sum()))
    tables = tables[defined]
    totals = tables.sum(axis=(1, 2)).astype(np.int64)
    flat = tables.reshape(len(tables), -1)
    draws = np.random.default_rng(seed).multinomial(totals, flat / totals[:, None], size=(replicates, len(tables)))
    resampled = _kappa_from_tables(draws.reshape(-1, *tables.shape[1:]).astype(np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        replicate_means = np.nanmean(resampled.reshape(replicates, len(tables)), axis=1)
    return Estimate(_finite(np.mean(kappas[defined])), _interval(replicate_means, int(totals.sum())), int(totals.sum()))
