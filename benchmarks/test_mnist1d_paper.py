"""The MNIST-1D paper's table, rerun: each model family tuned here, its held-out test accuracy beside the paper's.

Greydanus & Kobak (ICML 2024) report test accuracy on the 1,000 test signals: logistic regression 32 %,
MLP 68 %, CNN 94 %, GRU 91 %. Each family is tuned by ASHA (27 trials, up to 81 epochs, rungs at
1, 3, 9, 27 and 81) on the 3,200/800 train/valid split of seed 0, and judged by the test accuracy of
the configuration and epoch it selected on validation accuracy. The paper trains on all 4,000.

Run: ``pytest benchmarks/test_mnist1d_paper.py -s`` (about 10 min here); it prints the table and
writes ``results/mnist1d_paper.md``. Every run is stored under ``results/mnist1d_paper_<family>/``.
"""

from pathlib import Path

import strategies
from harness import Budget, Choice, IntRange, LogUniform, Problem, SearchSpace, Uniform
from harness.run.invariants import run_problems
from harness.run.live.models import conv1d, gru, mlp
from harness.core.store import write_atomic
from harness.session import Options, Session, TuningCase

from datasets import mnist1d

STRATEGY, SEED = "asha", 0
BUDGET = Budget(max_epochs=81, num_trials=27, max_concurrent_trials=1, cpus_per_trial=1)
BATCH = Choice([64, 128])

SPACES = {
    "logistic": (mlp, {"lr": LogUniform(1e-4, 1e-1), "fc_layers": Choice([0]), "batch_size": BATCH}),
    "mlp": (mlp, {"lr": LogUniform(1e-4, 1e-1), "fc_layers": IntRange(1, 2), "units": Choice([100, 200]),
                  "dropout": Uniform(0.0, 0.3), "batch_size": BATCH}),
    "cnn": (conv1d, {"lr": LogUniform(1e-4, 1e-1), "conv_layers": IntRange(2, 3), "channels": Choice([32, 64]),
                     "kernel_size": Choice([3, 5]), "batchnorm": Choice([False, True]), "dropout": Uniform(0.0, 0.3),
                     "batch_size": BATCH}),
    "gru": (gru, {"lr": LogUniform(1e-3, 1e-1), "units": Choice([6, 12, 24]), "batch_size": BATCH}),
}


def family_problem(family: str) -> Problem:
    build, params = SPACES[family]
    return Problem(name=f"mnist1d_paper_{family}", dataset="mnist1d", load_data=mnist1d.load, build_model=build,
                   space=SearchSpace(params=params), budget=BUDGET, n_classes=mnist1d.N_CLASSES)


def table(records: dict) -> str:
    lines = ["| model family | paper (test acc) | tuned here (test acc) | validation acc | selected configuration |",
             "|---|---|---|---|---|"]
    for family, r in records.items():
        lines.append(f"| {family} | {mnist1d.PAPER_TEST_ACC[family]:.2f} | {r.test_acc:.3f} | {r.best_val_acc:.3f} | "
                     f"{r.best_config} (epoch {r.best_epoch}) |")
    return "\n".join(lines) + "\n"


def test_mnist1d_paper_table(request):
    results = request.config.getoption("--results-dir")
    session = Session(Options(results_dir=results))  # its own session: one case per family, stored as any run
    records, problems = {}, []
    for family in SPACES:
        record, _ = session.run(TuningCase(family_problem(family), strategies.get(STRATEGY), SEED), progress=print)
        records[family] = record
        problems += [f"{family}: {p}" for p in run_problems(record, 0.1, True, bar=0.2)]
    text = table(records)
    write_atomic(Path(results) / "mnist1d_paper.md", text, overwrite=True)
    print("\n" + text)
    assert not problems, problems
