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
