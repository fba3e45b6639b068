"""The agreement statistics give the published figures of known reliability data, and their vectorised bootstrap
formulas agree with the libraries on the full sample."""

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from feedback.selectors import agreement_stats as stats

N = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: 4 observers, 12 units, missing data.
# Published: nominal 0.743, interval 0.849.
KRIPPENDORFF_C = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
        [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
    ]
)
# The `krippendorff` package's README example: nominal 0.691, interval 0.811.
PACKAGE_EXAMPLE = np.array(
    [
        [N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3],
        [1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N],
        [N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4],
    ]
)


def test_krippendorff_published_examples():
    nominal = stats.krippendorff_alpha(KRIPPENDORFF_C, level="nominal")
    assert nominal.value == pytest.approx(0.743, abs=5e-4)
    assert nominal.n == 40  # pairable values: unit 12 has one value only and drops out
    assert stats.krippendorff_alpha(KRIPPENDORFF_C, level="interval").value == pytest.approx(0.849, abs=5e-4)
    assert stats.krippendorff_alpha(PACKAGE_EXAMPLE, level="nominal").value == pytest.approx(0.691, abs=5e-4)
    assert stats.krippendorff_alpha(PACKAGE_EXAMPLE, level="interval").value == pytest.approx(0.811, abs=5e-4)
    low, high = nominal.ci95
    assert low < 0.743 < high and -1 <= low and high <= 1


def test_the_vectorised_alpha_is_the_library_alpha():
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, size=300)
    data = np.where(rng.random((5, 300)) < 0.8, truth, rng.integers(0, 3, size=(5, 300))).astype(float)
    data[rng.random((5, 300)) < 0.4] = np.nan
    data = stats.pairable(data)
    counts, domain = stats.value_counts(data)
    for level in ("nominal", "interval"):
        mine = stats._alpha_from_counts(counts, np.ones((1, len(counts))), stats._delta(domain, level))[0]
        assert mine == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def test_cohen_kappa_textbook_example():
    # 50 proposals read by two editors: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no; p_o = 0.7, p_e = 0.5, kappa 0.4.
    first = np.array([1] * 25 + [0] * 25)
    second = np.array([1] * 20 + [0] * 5 + [1] * 10 + [0] * 15)
    result = stats.compare(first, second)
    assert result.kappa.value == pytest.approx(0.4)
    assert result.percent_agreement.value == pytest.approx(0.7) and result.kappa.n == 50
    assert result.confusion.tolist() == [[15, 10], [5, 20]]
    low, high = result.kappa.ci95
    assert low < 0.4 < high
    table = result.confusion[None].astype(float)
    assert stats._kappa_from_tables(table)[0] == pytest.approx(cohen_kappa_score(first, second))


def test_two_reviewers_mean_pairwise_kappa_is_their_kappa_and_agreement_counts_items():
    first = [1] * 25 + [0] * 25
    second = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    data = np.array([first, second], dtype=float)
    assert stats.mean_pairwise_kappa(data).value == pytest.approx(0.4)
    agreement = stats.percent_agreement(data)
    assert agreement.value == pytest.approx(0.7) and agreement.n == 50


def test_no_pairable_items_gives_no_figure():
    data = np.array([[1, N], [N, 2]])
    assert stats.percent_agreement(data).value is None
    assert stats.krippendorff_alpha(data).value is None
    assert stats.mean_pairwise_kappa(data).value is None


def test_every_pair_kappa_is_scikit_learns():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, size=200)
    data = np.where(rng.random((4, 200)) < 0.75, truth, rng.integers(0, 3, size=(4, 200))).astype(float)
    data[rng.random((4, 200)) < 0.3] = np.nan
    tables = stats.pair_tables(data)
    expected = []
    for a in range(4):
        for b in range(a + 1, 4):
            shared = ~np.isnan(data[a]) & ~np.isnan(data[b])
            expected.append(cohen_kappa_score(data[a, shared], data[b, shared]))
    assert stats._kappa_from_tables(tables) == pytest.approx(expected)
    mean = stats.mean_pairwise_kappa(data)
    assert mean.value == pytest.approx(np.mean(expected), abs=1e-4)
    assert mean.ci95[0] < mean.value < mean.ci95[1]
