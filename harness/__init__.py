"""The harness: problems, budgets, the Ray Tune runner, run records and their comparison.

Its rooms: this package holds the core (budget, space, problem, strategy, runner, backend, recorder,
records, store, provenance, errors, the pytest plugin and the CLI); ``live/`` trains in Ray;
``replay/`` replays recorded learning curves on a simulated clock; ``analysis/`` holds the statistics
and the gate; ``report/`` writes the tables, plots and report. Strategies and data sets live beside
it, in ``strategies/`` and ``datasets/``.

Heavy imports (ray, torch) stay inside the modules that need them, so that importing
``harness`` (and collecting the benchmarks) imports neither (``tests/test_layout.py``).
"""

from harness.live.ray_session import prepare_environment

prepare_environment()  # before anything imports Ray: loopback only, no usage reporting

from harness.budget import Budget  # noqa: E402
from harness.errors import ConfigError  # noqa: E402
from harness.hypothesis import Hypothesis  # noqa: E402
from harness.problem import Problem  # noqa: E402
from harness.space import Choice, IntRange, LogUniform, SearchSpace, Uniform  # noqa: E402

__all__ = [
    "Budget",
    "Choice",
    "ConfigError",
    "Hypothesis",
    "IntRange",
    "LogUniform",
    "Problem",
    "SearchSpace",
    "Uniform",
]
