"""How often the agreement's per-strategy tests call a faithful replay unfaithful, checked by a simulation written
apart from them.

``python -m harness agreement`` tests, per strategy, live against replay held-out test accuracy (two-sided
Mann-Whitney, Holm over the strategies; ``harness.evaluate.agreement``). Here a replay is faithful by construction:
both sides of every strategy draw their seeds' test accuracies from one population, that strategy's 15 runs in the
committed digits baseline (``results/baselines/digits_replay.json``: 10 strategies, accuracies k / 359, with ties,
skewed), resampled with replacement. A simulation is an error when any strategy's Holm p is below 0.05; the goal
is a family-wise error of at most 0.05. Power is measured too: random's replay is moved by 1 and by 2 of its
seed-to-seed sds (0.012) on every seed. The harness is called only through ``agreement.agreement``, on records
built here (its noise ceiling, not under test, is skipped to keep this to a minute). Run:
``pytest measurements/test_agreement_error.py -s -q -p no:cacheprovider``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.core.records import COMPLETED, SIMULATED, EpochRecord, RunRecord, TrialRecord
from harness.evaluate.agreement import agreement

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "results" / "baselines" / "digits_replay.json"
SEEDS, SIMULATIONS, ALPHA = 10, 400, 0.05
SHIFTS = (-0.012, -0.024)  # 1 and 2 sds of random's test accuracy in the baseline


def populations() -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {}
    for r in json.loads(BASELINE.read_text())["runs"]:
        out.setdefault(r["strategy"], []).append(r["metrics"]["test_acc"])
    return {s: np.asarray(v) for s, v in sorted(out.items())}


def record(benchmark: str, strategy: str, seed: int, test: float, val: float) -> RunRecord:
    epoch = EpochRecord(1, val, 0.1, 0.1, 1.0, 1.0, test)
    return RunRecord(
        run_id=f"{benchmark}-{strategy}-{seed}", benchmark=benchmark, strategy=strategy, seed=seed,
        budget={"max_epochs": 1, "num_trials": 1, "max_concurrent_trials": 1}, started_at="2026-12-02T00:00:00",
        wallclock_s=1.0, best_val_acc=val, best_config={}, best_trial_id="t", epochs_used=1, epochs_full=1,
        compute_saved=0.0, train_s=1.0, overhead_s_per_trial=0.0,
        trials=(TrialRecord("t", {}, "TERMINATED", COMPLETED, (epoch,)),), clock=SIMULATED, test_acc=test,
        best_epoch=1,
    )


def session(rng, pops: dict[str, np.ndarray], shifted: str | None, shift: float = 0.0) -> tuple[bool, dict[str, bool]]:
    live, replay = [], []
    for s, values in pops.items():
        for side, runs in (("live", live), ("replay", replay)):
            draws = rng.choice(values, SEEDS)
            if side == "replay" and s == shifted:
                draws = np.clip(draws + shift, 0.0, 1.0)
            runs += [record(side, s, k, float(t), float(t)) for k, t in enumerate(draws)]
    found = {s: holm < ALPHA for s, (_, _, holm) in agreement(live, replay).differ.items()}
    return any(found.values()), found


def test_a_faithful_replay_is_called_unfaithful_at_most_alpha_of_the_time(monkeypatch):
    import harness.evaluate.agreement as module

    monkeypatch.setattr(module, "noise_ceiling", lambda values: None)  # not under test here, and most of the time
    pops, rng = populations(), np.random.default_rng(22)
    errors = sum(session(rng, pops, None)[0] for _ in range(SIMULATIONS))
    fwer = errors / SIMULATIONS
    power = {shift: sum(session(rng, pops, "random", shift)[1].get("random", False)
                        for _ in range(SIMULATIONS // 2)) / (SIMULATIONS // 2) for shift in SHIFTS}
    print(f"\nagreement's per-strategy tests (Mann-Whitney, Holm over {len(pops)} strategies), {SEEDS} seeds a side, "
          f"{SIMULATIONS} simulated sessions: family-wise error {fwer:.3f} (goal <= {ALPHA}); a replay of random "
          f"moved on every seed is caught in " + ", ".join(f"{p:.2f} at {s:+}" for s, p in power.items())
          + f" ({SIMULATIONS // 2} sessions each)")
    assert fwer <= ALPHA  # seeded: the figure above, every time
