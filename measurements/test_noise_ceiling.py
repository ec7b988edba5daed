"""How far the agreement's noise ceiling leans, checked by a simulation written apart from it.

The ceiling (``harness.evaluate.agreement.noise_ceiling``) bootstraps the live seeds twice and takes Kendall's tau
between the two resamples' strategy means. The truth it stands for is tau between two *independent* samples of the
same process. Here both come from one model like MNIST-1D's live runs (10 strategies whose true means span 0.926 to
0.940, seed-to-seed sd 0.009, 10 seeds): the truth by drawing a second sample, the ceiling from the first alone.
Run: ``pytest measurements/test_noise_ceiling.py -s`` (about 20 s).
"""

import numpy as np
from scipy.stats import kendalltau

from harness.evaluate.agreement import noise_ceiling

STRATEGIES, SEEDS, SESSIONS = 10, 10, 200
TRUE = np.linspace(0.926, 0.940, STRATEGIES)
SD = 0.009


def test_the_noise_ceiling_leans_high_by_less_than_a_tenth_of_tau():
    rng = np.random.default_rng(7)
    truth, ceiling = [], []
    for _ in range(SESSIONS):
        live = TRUE + SD * rng.standard_normal((SEEDS, STRATEGIES))
        other = TRUE + SD * rng.standard_normal((SEEDS, STRATEGIES))  # the same process, run again
        truth.append(kendalltau(live.mean(0), other.mean(0)).statistic)
        ceiling.append(noise_ceiling(live.tolist(), pairs=200, seed=int(rng.integers(1 << 30)))[0])
    bias = float(np.median(ceiling) - np.median(truth))
    print(f"\nnoise ceiling: median {np.median(ceiling):.3f} against two independent samples' median tau "
          f"{np.median(truth):.3f} (bias {bias:+.3f}; {SESSIONS} simulated sessions, {STRATEGIES} strategies x "
          f"{SEEDS} seeds)")
    assert abs(bias) < 0.1
