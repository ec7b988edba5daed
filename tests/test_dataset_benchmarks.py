"""`pytest benchmarks -k <name>` on test-sized copies of each data set, and the skip when data is absent."""

from __future__ import annotations

import pytest

from datasets._files import CACHE_ENV, CIFAR_ENV, MADS_ENV, OFFLINE_ENV
from tests import datafiles
from tests.conftest import ROOT

# A short run: one early-stopping strategy (its checks cover FIFO's and more), one seed, a small budget. What each
# strategy does is tested on digits (tests/test_end_to_end.py); here, that each data set runs as a benchmark.
SHORT = ["--strategies", "asha", "--seeds", "1", "--budget", "num_trials=6", "--budget", "max_epochs=3", "-p", "no:randomly"]


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(MADS_ENV, str(tmp_path / "mads"))
    monkeypatch.setenv(CIFAR_ENV, str(tmp_path / "cifar"))
    monkeypatch.setenv("FLOWERS_IMAGE_SIZE", "16")
    return tmp_path


def _run(pytester, name, *extra):
    return pytester.runpytest_subprocess(
        str(ROOT / "benchmarks"), "-k", name, f"--rootdir={ROOT}", "-p", "no:cacheprovider",
        "--results-dir", str(pytester.path / "results"), *extra,
    )


@pytest.mark.parametrize(
    "name, make",
    [
        ("flowers", lambda d: datafiles.make_flowers(d / "mads", per_class=6)),
        ("fashion and not grid", lambda d: datafiles.make_fashion(d / "mads", n_train=300, n_test=60)),
        ("gestures", lambda d: datafiles.make_gestures(d / "mads", per_class=8)),
        ("cifar10", lambda d: datafiles.make_cifar10(d / "cifar", per_batch=10)),  # its CNN is large: few images
    ],
)
def test_each_data_set_runs_as_a_benchmark(pytester, data_env, name, make):
    make(data_env)
    # The accuracy bar is for real data; a few epochs on a toy copy only have to run soundly.
    # CIFAR-10's grace period is 3 epochs, so ASHA needs a 4th to stop anything early.
    epochs = ["--budget", "max_epochs=4"] if name == "cifar10" else []
    # --datasets keeps the budget override from being checked against the other benchmarks' settings
    result = _run(pytester, name, *SHORT, *epochs, "--accuracy-bar", "0", "--datasets", name.split()[0])
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=1)
    assert len(list((pytester.path / "results").glob("*/runs/*/*.json"))) == 1


def test_absent_data_skips_with_the_path_and_variable(pytester, data_env):
    result = _run(pytester, "flowers", "--strategies", "random", "--seeds", "1", "-rs")
    result.assert_outcomes(skipped=1)
    out = result.stdout.str()
    assert "flowers/flower_photos" in out and MADS_ENV in out
