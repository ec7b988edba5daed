"""Bad input stops a benchmark session at collection time with one clear line, before any training."""

from __future__ import annotations

import pytest

from tests.conftest import GOOD_BENCHMARK


def _error_line(result) -> str:
    lines = [ln for ln in result.stderr.lines + result.stdout.lines if "ERROR" in ln or "ConfigError" in ln]
    return "\n".join(lines)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--strategies", "nope"], "unknown strategy nope; known: asha"),
        (["--datasets", "imagenet"], "unknown data set imagenet; known: "),
        (["--budget", "max_epochs=0"], "max_epochs must be a whole number >= 1"),
        (["--budget", "num_trials=none"], "no limit"),
        (["--budget", "trials=3"], "unknown field 'trials'"),
        (["--seeds", "0"], "--seeds must be >= 1"),
        (["--reference", "nosuch"], "--reference 'nosuch' is not a strategy; known: asha"),
        (["--target-fraction", "1.5"], "--target-fraction must lie in (0, 1]"),
        (["--accuracy-bar", "2"], "--accuracy-bar must lie in [0, 1]"),
        (["--ray-address", "127.0.0.1:1"], "--ray-address 127.0.0.1:1: nothing answers there"),
        (["--ray-address", "headnode"], "expected HOST:PORT"),
    ],
)
def test_bad_options_give_one_line_and_no_training(session, pytester, args, message):
    result = session(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in _error_line(result)
    assert not (pytester.path / "results").exists()


def test_gpu_fraction_without_a_gpu(session, pytester):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU, so the request is valid")
    result = session("--budget", "gpus_per_trial=0.5")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "gpus_per_trial=0.5 but this machine has no GPU" in _error_line(result)


def test_a_strategy_that_cannot_handle_the_space(session, pytester):
    module = GOOD_BENCHMARK.replace(
        "PROBLEM = tiny_problem()",
        "from harness import Choice, SearchSpace\n"
        "PROBLEM = tiny_problem(space=SearchSpace({'a': Choice([1, 2])}, {'a': (1, 2)}))\nSTRATEGIES = ['bayes']",
    )
    result = session(module=module)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "strategy bayes: the space of tiny has only categorical choices" in _error_line(result)


def test_an_empty_search_space_is_a_one_line_collection_error(session, pytester):
    module = GOOD_BENCHMARK.replace(
        "PROBLEM = tiny_problem()", "from harness import SearchSpace\nPROBLEM = tiny_problem(space=SearchSpace({}))"
    )
    result = session(module=module)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "test_tiny.py: ConfigError: search space: empty (no parameters)" in _error_line(result)
    assert "Traceback" not in result.stdout.str()
    assert not (pytester.path / "results").exists()


def test_selection_by_keyword_and_ids(session, pytester):
    result = session("--collect-only", "-q", "-k", "tiny and asha and seed1")
    result.stdout.fnmatch_lines(["*test_tiny[[]tiny-asha-seed1[]]", "*test_tiny[[]tiny-hyperopt-asha-seed1[]]"])
    assert "seed0" not in result.stdout.str()


def test_a_results_dir_that_is_a_file_is_refused_before_training(session, pytester):
    (pytester.path / "taken").write_text("not a folder")
    result = session("--results-dir", str(pytester.path / "taken" / "sub"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "taken is a file, not a folder" in _error_line(result)


def test_an_unreachable_ray_address_fails_fast(session, pytester):
    import time

    start = time.monotonic()
    result = session("--ray-address", "127.0.0.1:1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and time.monotonic() - start < 30


def test_datasets_restricts_budget_overrides_to_what_it_selects(session, pytester):
    # max_epochs=2 leaves a grace-period benchmark no rung; it is deselected by --datasets before it is checked.
    module = GOOD_BENCHMARK.replace("PROBLEM = tiny_problem()", "PROBLEM = tiny_problem(dataset='digits', grace_epochs=3)")
    refused = session("--collect-only", "-q", "--budget", "max_epochs=2", module=module)
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    pytester.makepyfile(test_other=GOOD_BENCHMARK.replace("PROBLEM = tiny_problem()", "PROBLEM = tiny_problem(name='other', dataset='other')"))
    skipped = session("--collect-only", "-q", "--budget", "max_epochs=2", "--datasets", "other", "--strategies", "random",
                      module=module)
    assert skipped.ret == pytest.ExitCode.OK and "ConfigError" not in skipped.stdout.str() + skipped.stderr.str()
    # A data set no collected benchmark names selects nothing: refused, naming the ones that exist.
    unknown = session("--collect-only", "-q", "--datasets", "fashion", module=module)
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR and "unknown data set fashion; known: digits, other" in _error_line(unknown)


LOCAL_LOADER = """
from datasets import digits
from tests.conftest import tiny_problem

def load(seed):  # lives in this test module: Ray's workers cannot import test_mine
    return digits.load(seed)

PROBLEM = tiny_problem(load_data=load)

def test_tiny(tuning_case, tuning_run):
    tuning_run(tuning_case)
"""


def test_a_loader_workers_cannot_import_is_refused_at_collection_before_any_trial(session, pytester):
    import time

    # As in a user's repository: the benchmark file in benchmarks/, pytest run from the repository's root.
    (pytester.path / "benchmarks").mkdir()
    (pytester.path / "benchmarks" / "test_mine.py").write_text(LOCAL_LOADER)
    (pytester.path / "test_tiny.py").unlink()
    t0 = time.perf_counter()
    result = session("benchmarks", "--strategies", "random", "--seeds", "1")
    elapsed = time.perf_counter() - t0
    assert result.ret == 4  # a usage error: nothing ran
    text = _error_line(result)
    assert "test_mine.load cannot be imported (ModuleNotFoundError: No module named 'test_mine')" in text
    assert "must live in an importable module" in text
    assert not (pytester.path / "results").exists()  # no run, no record
    print(f"refused in {elapsed:.1f} s")
