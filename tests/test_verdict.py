"""The verdict in words: the recommendation first, every claim an estimate with its interval, then its test, p and
seeds, one Holm family over every claim, and estimates even where the seeds are too few to test."""

import math

from harness.evaluate.equal_compute import sooner_differences, to_match
from harness.evaluate.summary import analyse
from harness.evaluate.verdict import claims_judged, verdict

from tests.test_report import run


def ten_seeds(n=10):
    """asha is 0.05 more accurate on held-out data on every seed and reaches random's final accuracy in 2 epochs
    (random needs 4); grid is within 0.001 of random, one side or the other."""
    out = []
    for s in range(n):
        out.append(run("random", s, [0.5, 0.7, 0.8, 0.95], test=0.90 + s / 1000))
        out.append(run("grid", s, [0.5, 0.7, 0.8, 0.95], test=0.90 + s / 1000 + (0.001 if s % 2 else -0.001)))
        out.append(run("asha", s, [0.6, 0.95, 0.96], saved=0.25, test=0.95 + s / 1000))
    return out


def test_a_strategy_better_on_every_seed_is_recommended_with_its_estimate_interval_test_and_seeds():
    lines = verdict(analyse(ten_seeds(), target=0.9))
    claims, judged = claims_judged(analyse(ten_seeds(), target=0.9))
    m = sum(j.p is not None for j in judged.values())
    # Test accuracy and compute to match for asha and grid, and the Friedman test; grid needs exactly as many epochs
    # as random on every seed, so that claim has no p and stays out of the family.
    assert m == 4 and claims[("digits", "match", "grid")].p is None
    # Exact two-sided signed-rank p with 10 positive differences is 2/2^10; Holm: the Friedman p is smallest
    # (x 4), then asha's two (x 3, then x 2, kept monotone): 3 x 2/2^10.
    assert lines[0].startswith("digits (10 seeds, 1 trials of up to 4 epochs, real clock; reference random): use asha: "
                               "its held-out test accuracy is 0.955 [0.952, 0.957], +0.050 (alike on all 10 seeds, so no "
                               "interval) over random "
                               f"(signed-rank p = {2 / 2**10:.2g}, Holm p = {3 * 2 / 2**10:.2g} over 4 claims, 10 seeds).")
    assert len([line for line in lines if line.startswith("digits") or line.startswith("  ")]) <= 8
    assert lines[-1].startswith("Error control: Holm over all 4 tested claims of this verdict together")
    assert not any("compute saved" in line.lower() and "p =" in line for line in lines)  # described, never tested


def test_compute_to_match_counts_every_seed_and_gives_the_ratio_of_expected_running_times():
    by = {}
    for r in ten_seeds():
        by.setdefault(r.strategy, {})[r.seed] = r
    asha = next(m for m in to_match(by, "random") if m.strategy == "asha")
    # random reaches its own final 0.95 at epoch 4; asha reaches it at epoch 2 on every seed: ERT 2 / 4.
    assert (asha.reached, asha.n_pairs, asha.ratio) == (10, 10, 0.5) and asha.ci_low == asha.ci_high == 0.5
    assert asha.plain_ratio == 0.5  # every seed alike: nothing for the jackknife to correct
    slow = [run("random", s, [0.5, 0.7, 0.8, 0.95]) for s in range(4)] + \
           [run("asha", s, [0.96] if s < 2 else [0.6, 0.7], saved=0.5) for s in range(4)]
    by = {}
    for r in slow:
        by.setdefault(r.strategy, {})[r.seed] = r
    m = to_match(by, "random")[0]
    # Two runs reached it at epoch 1, two never did and spent 2 epochs each: ERT = (1 + 1 + 2 + 2) / 2 = 3, against 4.
    assert (m.reached, m.plain_ratio) == (2, 0.75) and m.ci_high == math.inf
    # The jackknife: leaving out a seed that reached it gives (1 + 2 + 2) / 1 / 4 = 1.25, one that did not
    # (1 + 1 + 2) / 2 / 4 = 0.5; 4 log 0.75 - 3 (2 log 1.25 + 2 log 0.5) / 4 = log 0.6404 (inside [ci_low, inf]).
    assert math.isclose(m.ratio, math.exp(4 * math.log(0.75) - 3 * (math.log(1.25) + math.log(0.5)) / 2))
    assert m.ci_low <= m.ratio and math.isclose(m.ratio, 0.6404, abs_tol=5e-5)


def test_no_difference_is_said_plainly():
    lines = verdict(analyse([r for r in ten_seeds() if r.strategy != "asha"], target=0.9))
    assert "no strategy is shown to be more accurate than random on held-out test data at this budget" in lines[0]
    assert any(line.strip().startswith("Held-out test accuracy: no strategy differs significantly from random") for line in lines)


def test_too_few_seeds_still_gives_estimates_and_says_how_many_seeds_a_test_needs():
    lines = verdict(analyse(ten_seeds(3), target=0.9))
    assert "+0.050 (alike on all 3 seeds, so no interval) over random" in lines[0] and "use asha" not in lines[0]
    assert any(line.strip() == "With 3 seeds no paired comparison can reach significance: Holm over 4 comparisons "
               "needs 8 differing seeds; the estimates and intervals above still stand." for line in lines)


def test_across_problems_only_over_more_than_one_benchmark():
    one = verdict(analyse(ten_seeds(), target=0.9))
    assert not any(line.startswith("Across problems") for line in one)
    two = ten_seeds() + [r.__class__(**{**r.__dict__, "benchmark": "other", "run_id": r.run_id + "o"}) for r in ten_seeds()]
    assert any(line.startswith("Across problems: live runs of digits, other, 20 blocks") for line in verdict(analyse(two)))


def test_a_seed_only_one_strategy_reached_the_target_on_ranks_above_every_seed_both_reached():
    # Both reached on three seeds (the strategy 10x, 2x and 3x sooner); on the fourth only the reference did.
    diffs = sooner_differences([(1.0, 10.0), (1.0, 2.0), (1.0, 3.0), (None, 5.0), (None, None)])
    assert diffs[:3] == [math.log(10), math.log(2), math.log(3)]
    assert diffs[3] == -(math.log(10) + 1.0) and diffs[4] == 0.0  # the largest magnitude, for the reference


def test_a_replays_verdict_names_the_table_whose_configurations_it_searched():
    import dataclasses

    from harness.core.records import SIMULATED

    table = {"benchmark": "digits_sweep", "configs": 27, "fingerprint": "f"}
    runs = [dataclasses.replace(r, benchmark="digits_replay", clock=SIMULATED, provenance={**r.provenance, "table": table})
            for r in ten_seeds()]
    head = verdict(analyse(runs, target=0.9))[0]
    assert "replayed over the 27 configurations recorded in the digits_sweep table; reference random" in head
    assert "recorded in the" not in verdict(analyse(ten_seeds(), target=0.9))[0]  # live: no table
    # Runs from two recordings of the table (another fingerprint) are not passed off as one table.
    mixed = [dataclasses.replace(r, provenance={"table": {**table, "fingerprint": "g"}}) if r.seed < 5 else r for r in runs]
    assert "replayed over 2 different recorded tables;" in verdict(analyse(mixed, target=0.9))[0]
