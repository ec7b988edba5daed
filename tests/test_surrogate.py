"""The whole-curve surrogate and the design it is fitted on: planted curves, recovered on held-out configurations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness import Choice, IntRange, LogUniform, SearchSpace, Uniform
from harness.core.design import fingerprint, space_filling
from harness.core.errors import ConfigError
from harness.run.replay.surrogate import Design, ForestCurves, NearestCurves, features, fidelity

SPACE = SearchSpace(
    params={"lr": LogUniform(1e-4, 1e-1), "layers": IntRange(2, 3), "bn": Choice([False, True]),
            "dropout": Uniform(0.0, 0.3)},
    grid={"lr": (1e-3, 1e-2), "layers": (2,), "bn": (False, True), "dropout": (0.0,)},
)
EPOCHS = 9


def planted(config: dict, noise: float) -> np.ndarray:
    """Accuracy rises towards a ceiling that peaks at lr = 1e-2 (BatchNorm adds 0.05); the rest does nothing."""
    ceiling = 0.95 - 0.25 * (math.log10(config["lr"]) + 2) ** 2 + 0.05 * config["bn"]
    return np.clip(ceiling * (1 - np.exp(-np.arange(1, EPOCHS + 1) / 2)) + noise, 0, 1)


def test_the_design_holds_the_grid_then_fills_the_space_and_repeats_by_its_seed():
    design = space_filling(SPACE, 40, seed=0)
    assert design[:4] == [{"lr": lr, "layers": 2, "bn": bn, "dropout": 0.0} for lr in (1e-3, 1e-2) for bn in (False, True)]
    assert all(SPACE.params[n].contains(v) for c in design for n, v in c.items())
    lrs = sorted(math.log10(c["lr"]) for c in design[4:])  # Sobol: spread over the log range, no clump
    assert lrs[0] < -3.5 and lrs[-1] > -1.5 and max(np.diff(lrs)) < 0.5
    assert fingerprint(design) == fingerprint(space_filling(SPACE, 40, seed=0)) != fingerprint(space_filling(SPACE, 40, seed=1))
    with pytest.raises(ConfigError, match="smaller than the grid"):
        space_filling(SPACE, 3)


def test_the_forest_recovers_planted_curves_on_held_out_seeds_better_than_nearest_neighbours():
    rng = np.random.default_rng(0)
    configs = space_filling(SPACE, 120, seed=0)
    seeds = np.arange(len(configs)) % 4  # four parts, as record-design splits them
    val = np.array([planted(c, 0.01 * rng.standard_normal()) for c in configs])
    secs = np.full_like(val, 0.2)
    design = Design(SPACE, configs, seeds, {"val_acc": val, "test_acc": val - 0.01, "epoch_s": secs})
    forest, nearest = fidelity(design, "forest"), fidelity(design, "nearest")
    assert forest.held_out == 120 and forest.spearman_final > 0.9 and forest.spearman_final > nearest.spearman_final
    curves = ForestCurves(design).predict([{"lr": 1e-2, "layers": 3, "bn": True, "dropout": 0.1}])
    assert curves["val_acc"].shape == (1, EPOCHS) and np.all(np.diff(curves["val_acc"][0]) >= -1e-9)  # whole curves
    assert np.allclose(curves["epoch_s"], 0.2) and curves["val_acc"][0, -1] > 0.9
    exact = NearestCurves(design, k=3).predict([configs[5]])["val_acc"][0]
    assert np.allclose(exact, val[5])  # a recorded configuration is its own nearest neighbour
    x = features(SPACE, configs[:2])
    assert x.shape == (2, 1 + 1 + 2 + 1) and x.min() >= 0 and x.max() <= 1


def planted_design(n: int = 120, parts: int = 4) -> Design:
    rng = np.random.default_rng(0)
    configs = space_filling(SPACE, n, seed=0)
    val = np.array([planted(c, 0.01 * rng.standard_normal()) for c in configs])
    return Design(SPACE, configs, np.arange(n) % parts, {"val_acc": val, "test_acc": val - 0.01,
                                                          "epoch_s": np.full_like(val, 0.2)})


def test_a_surrogate_table_replays_any_configuration_the_same_for_a_seed_and_differently_across_seeds(tmp_path):
    from harness.run.replay.surrogate import SurrogateTable, load_design, save_design

    design = planted_design()
    save_design(design, tmp_path / "d.npz", "planted", {"command": "test"})
    loaded, meta = load_design(tmp_path / "d.npz", SPACE)
    assert loaded.configs == design.configs and np.allclose(loaded.curves["val_acc"], design.curves["val_acc"], atol=1e-6)
    assert meta["benchmark"] == "planted" and not (tmp_path / "d.npz.tmp").exists()
    table = SurrogateTable(loaded, "planted", meta["provenance"])
    config = {"lr": 0.0123, "layers": 3, "bn": True, "dropout": 0.17}
    assert table.snap({**config, "extra": 1}) == config  # nothing snapped to a recorded configuration
    once, again = table.curves_for(config, table.repeat_for(7)), table.curves_for(config, 7)
    assert np.array_equal(once.val_acc, again.val_acc) and once.row is None  # same seed, same curves
    others = [table.curves_for(config, seed).val_acc for seed in range(8)]
    assert len({tuple(np.round(v, 9)) for v in others}) > 1  # seeds draw different residuals
    assert all(0 <= v.min() and v.max() <= 1 for v in others) and once.val_acc[-1] > 0.85
    assert table.max_epochs == EPOCHS and len(table.fingerprint) == 16
    assert SurrogateTable(loaded, "planted").fingerprint == table.fingerprint
    wrong = SearchSpace(params={"lr": LogUniform(1e-4, 1e-1)})
    with pytest.raises(ConfigError, match="not this space"):
        load_design(tmp_path / "d.npz", wrong)


def test_a_surrogate_replay_is_sound_and_repeats_bit_for_bit(ray_local):
    import strategies
    from harness import Budget, Problem
    from harness.run import runner
    from harness.run.invariants import run_problems
    from harness.run.live.models import mlp
    from harness.run.replay import replay_of
    from harness.run.replay.surrogate import SurrogateTable

    from datasets import digits

    design = planted_design()
    design.curves["epoch_s"] = 0.1 + 0.05 * np.random.default_rng(1).random(design.curves["epoch_s"].shape)
    live = Problem(name="planted", dataset="digits", load_data=digits.load, build_model=mlp, n_classes=10, space=SPACE,
                   budget=Budget(max_epochs=EPOCHS, num_trials=None, total_epochs=4 * EPOCHS))
    problem = replay_of(live, SurrogateTable(design, "planted"), name="planted_surrogate")
    first, second = (runner.run(problem, strategies.get("asha"), seed=2) for _ in range(2))
    assert run_problems(first, None, True) == []  # no overlap on the simulated clock, the total spent, ...
    assert first.provenance["table"]["kind"] == "surrogate" and first.epochs_used == 4 * EPOCHS
    assert [t.config for t in first.trials] == [t.config for t in second.trials]
    assert [[e.val_acc for e in t.epochs] for t in first.trials] == [[e.val_acc for e in t.epochs] for t in second.trials]


def test_a_surrogate_of_a_minimised_metric_keeps_its_scores_and_needs_no_held_out_curve():
    from harness.core.objective import Objective

    assert Objective().score_bounds == (0.0, 1.0) and Objective("val_err", "min", None).score_bounds == (-1.0, 0.0)
    assert Objective("val_rmse", "min", None, unit_range=False).score_bounds is None
    design = planted_design()
    design.curves["val_acc"] = -(1.5 - design.curves["val_acc"])  # minus an RMSE: scores below 0, unbounded
    design.curves["test_acc"] = np.full_like(design.curves["val_acc"], np.nan)  # no held-out metric
    drawn = ForestCurves(design, bounds=None).draw([design.configs[3]], seed=0)
    assert drawn["val_acc"].max() < 0 and "test_acc" not in drawn  # not clipped to [0, 1]; no test forest
