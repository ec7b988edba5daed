"""Literal numbers: the statistics agree with scipy on the same data and with textbook values."""

import numpy as np
import pytest
from scipy import stats as sps

from harness import stats


def test_nemenyi_cd_matches_demsar_2006():
    assert round(stats.nemenyi_cd(4, 14), 2) == 1.25  # Demšar (2006), section 3.2.2
    # q_0.05 of Demšar's Table 5(a), recovered from the critical difference with N chosen so sqrt(...) = 1
    table = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}
    for k, q in table.items():
        n = k * (k + 1) / 6
        assert stats.nemenyi_cd(k, n) == pytest.approx(q, abs=1.5e-3)


def test_friedman_from_demsar_average_ranks():
    # Demšar's example: N = 14 data sets, average ranks 3.143, 2.000, 2.893, 1.964 give chi2_F = 9.28.
    ranks, n, k = [3.143, 2.000, 2.893, 1.964], 14, 4
    chi2 = 12 * n / (k * (k + 1)) * (sum(r * r for r in ranks) - k * (k + 1) ** 2 / 4)
    assert round(chi2, 2) == 9.28
    # and our p-value is scipy's on raw blocks
    rng = np.random.default_rng(0)
    blocks = rng.random((14, 4)).tolist()
    assert stats.friedman_p(blocks) == pytest.approx(sps.friedmanchisquare(*zip(*blocks)).pvalue)


def test_average_ranks_with_ties():
    blocks = [[0.9, 0.8, 0.8], [0.7, 0.9, 0.6]]
    # block 1: 0.9 -> 1, 0.8/0.8 -> 2.5 each; block 2: 0.9 -> 1, 0.7 -> 2, 0.6 -> 3
    assert stats.average_ranks(blocks) == [1.5, 1.75, 2.75]
    assert stats.average_ranks(blocks, higher_is_better=False) == [2.5, 2.25, 1.25]


def test_wilcoxon_exact_values():
    assert stats.wilcoxon_p([1, 2, 3, 4, 5, 6], [0] * 6) == pytest.approx(2 / 64)
    assert stats.min_wilcoxon_p(6) == pytest.approx(0.03125) and stats.min_wilcoxon_p(5) == 0.0625
    x, y = [0.91, 0.93, 0.90, 0.95, 0.92, 0.94, 0.89], [0.90, 0.90, 0.91, 0.91, 0.90, 0.92, 0.88]
    assert stats.wilcoxon_p(x, y) == pytest.approx(sps.wilcoxon(x, y).pvalue)
    assert stats.wilcoxon_p([1, 2], [1, 2]) == 1.0


def test_a12_and_magnitudes():
    assert stats.a12([1, 2, 3], [1, 2, 3]) == 0.5
    assert stats.a12([2, 3], [1]) == 1.0 and stats.a12([1], [2, 3]) == 0.0
    assert stats.a12([1, 2], [2, 2]) == pytest.approx(0.25)  # 4 pairs: 2 losses, 2 ties
    assert [stats.a12_magnitude(a) for a in (0.52, 0.60, 0.70, 0.90)] == ["negligible", "small", "medium", "large"]


def test_holm_step_down():
    assert stats.holm({"a": 0.01, "b": 0.04, "c": 0.03}) == {"a": 0.03, "c": 0.06, "b": 0.06}
    assert stats.holm({"a": 0.5, "b": 0.6}) == {"a": 1.0, "b": 1.0}


def test_bootstrap_matches_scipy_and_degenerate_cases():
    xs = [0.90, 0.91, 0.95, 0.93, 0.97]
    ref = sps.bootstrap((np.array(xs),), np.mean, confidence_level=0.95, n_resamples=9999, method="BCa", rng=0)
    assert stats.bootstrap_ci(xs) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high))
    assert stats.bootstrap_ci([0.5]) is None and stats.bootstrap_ci([0.5, 0.5]) == (0.5, 0.5)
    s = stats.summarize([0.9, 0.8, 0.7])
    assert (s.n, s.median, round(s.mean, 6), round(s.sd, 6)) == (3, 0.8, 0.8, 0.1)
    assert stats.summarize([]).mean is None
