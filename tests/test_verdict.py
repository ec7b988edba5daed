"""The verdict in words: it makes the claims its tests support, with test, p and seeds, and no others."""

import math

from harness.evaluate.summary import analyse
from harness.evaluate.verdict import benchmark_verdict, sooner_differences, verdict

from tests.test_report import run

T_975_DF9 = 2.262157  # Student's t, 97.5th percentile, 9 degrees of freedom (textbook table)


def ten_seeds():
    """asha reaches 0.9 at 2 s on every seed; random at 3 s (even seeds) or 4 s (odd); grid the other way round."""
    slow, slower = [0.5, 0.7, 0.9, 0.95], [0.5, 0.7, 0.8, 0.95]
    out = []
    for s in range(10):
        out.append(run("random", s, slow if s % 2 == 0 else slower, test=0.90 + s / 1000))
        out.append(run("grid", s, slower if s % 2 == 0 else slow, test=0.90 + s / 1000 + (0.001 if s % 2 else -0.001)))
        out.append(run("asha", s, [0.6, 0.92, 0.93], saved=0.5 + s / 100, test=0.95 + s / 1000))
    return out


def test_a_strategy_that_wins_on_every_seed_gets_each_claim_with_its_p_and_seeds():
    text = benchmark_verdict(analyse(ten_seeds(), target=0.9), "digits")
    # Exact two-sided signed-rank p with 10 positive differences is 2/2^10; Holm over the 2 strategies that differ.
    p_holm = 2 * 2 / 2**10
    logs = [math.log(2 / 3)] * 5 + [math.log(2 / 4)] * 5
    mean = sum(logs) / 10
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / 9)
    low, high = math.exp(mean - T_975_DF9 * sd / math.sqrt(10)), math.exp(mean + T_975_DF9 * sd / math.sqrt(10))
    assert (f"asha reaches the target sooner than random, time ratio {math.exp(mean):.2f}, 95% CI {low:.2f}-{high:.2f} "
            f"on the 10 seeds both reached it (signed-rank test, Holm p = {p_holm:.2g} over 2, 10 seeds)") in text
    assert "grid reaches" not in text  # 5 seeds faster, 5 slower by the same amount: no claim
    assert ("asha saves more compute than random: 55% of its trials' epochs against 0%; difference 95% CI +52 to +57 "
            "points (signed-rank test, Holm p = 0.002 over 1, 10 seeds)") in text
    assert "asha is more accurate than random (mean 0.9545; signed-rank test, Holm p = " in text
    assert "grid is" not in text


def test_no_difference_is_said_plainly():
    runs = [r for r in ten_seeds() if r.strategy != "asha"]
    text = benchmark_verdict(analyse(runs, target=0.9), "digits")
    assert "Time to target: no significant difference (signed-rank tests, Holm over 1, 10 seeds)." in text
    assert "Compute: no strategy differs from the reference on any seed." in text
    assert "Held-out test accuracy: no significant difference from random" in text


def test_too_few_seeds_is_not_called_no_difference():
    runs = [r for r in ten_seeds() if r.seed < 3]
    text = benchmark_verdict(analyse(runs, target=0.9), "digits")
    assert "too few seeds to find a difference (3 seeds; Holm over 2 comparisons needs 7 differing seeds)" in text
    assert "sooner" not in text and "no significant difference" not in text


def test_the_verdict_ends_with_the_comparison_across_problems():
    lines = verdict(analyse(ten_seeds(), target=0.9))
    assert lines[0].startswith("digits (10 seeds, real clock; against random, target accuracy 0.9000):")
    assert lines[-1].startswith("Across problems: live runs of digits, 10 blocks") and "average ranks (1 = best): grid 1.50, random 1.50, asha 3.00" in lines[-1]  # asha tops out at 0.93


def test_a_seed_only_one_strategy_reached_the_target_on_ranks_above_every_seed_both_reached():
    # Both reached on three seeds (the strategy 10x, 2x and 3x sooner); on the fourth only the reference did.
    diffs = sooner_differences([(1.0, 10.0), (1.0, 2.0), (1.0, 3.0), (None, 5.0), (None, None)])
    assert diffs[:3] == [math.log(10), math.log(2), math.log(3)]
    assert diffs[3] == -(math.log(10) + 1.0) and diffs[4] == 0.0  # the largest magnitude, for the reference


def test_a_strategy_that_saves_less_than_the_reference_is_said_to():
    text = benchmark_verdict(analyse(ten_seeds(), reference="asha", target=0.9), "digits")
    assert "random saves less compute than asha: 0% of its trials' epochs against 55%" in text
    assert "random reaches the target later than asha" in text


def test_time_to_target_claims_keep_their_family_wise_error_under_the_null():
    """9 strategies drawn like the reference (30% of runs never reach the target), 10 seeds, 600 simulations:
    the share with any "sooner"/"later" claim stays at most alpha (measured 0.026 at 1000 simulations)."""
    import numpy as np

    from harness.evaluate import stats

    rng = np.random.default_rng(1)

    def draw():
        return [None if rng.random() < 0.3 else float(rng.lognormal(3, 0.5)) for _ in range(10)]

    claims = 0
    for _ in range(600):
        ref, pvalues = draw(), {}
        for j in range(9):
            d = sooner_differences(list(zip(draw(), ref)))
            if any(d):
                pvalues[j] = stats.signed_rank_test(d, [0.0] * len(d))[0]
        claims += any(p < 0.05 for p in (stats.holm(pvalues) if pvalues else {}).values())
    assert claims / 600 <= 0.05


def test_a_replays_verdict_names_the_table_whose_configurations_it_searched():
    import dataclasses

    from harness.core.records import SIMULATED

    table = {"benchmark": "digits_sweep", "configs": 27, "fingerprint": "f"}
    runs = [dataclasses.replace(r, benchmark="digits_replay", clock=SIMULATED, provenance={**r.provenance, "table": table})
            for r in ten_seeds()]
    text = benchmark_verdict(analyse(runs, target=0.9), "digits_replay")
    assert text.startswith("digits_replay (10 seeds, simulated clock, over the 27 configurations recorded in the "
                           "digits_sweep table; against random")
    assert "recorded in the" not in benchmark_verdict(analyse(ten_seeds(), target=0.9), "digits")  # live: no table
    # Runs from two recordings of the table (another fingerprint) are not passed off as one table.
    mixed = [dataclasses.replace(r, provenance={"table": {**table, "fingerprint": "g"}}) if r.seed < 5 else r for r in runs]
    assert "over 2 different recorded tables;" in benchmark_verdict(analyse(mixed, target=0.9), "digits_replay")
