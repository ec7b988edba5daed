"""The harness: tuning problems, budgets, the Ray Tune runner, run records, their statistics, the gate and the report.

Its rooms, each serving one wing (data flows down this list, never back up; ``tests/test_layout.py`` checks it):

* ``core/``: problems (live and replay), space, budget, strategy contract, records, store, provenance, errors;
* ``run/``: the runner, its backends and recorder, a local Ray; ``run/live/`` trains, ``run/replay/`` looks epochs up;
* ``evaluate/``: statistics, the one Holm family, curves, the analysis, the verdict in words, live/replay agreement;
* ``gate/``: the CI regression gate (rules, baselines, the decision);
* ``report/``: tables, plots, report.md/.html, the terminal summary;
* ``session.py``: the one orchestrator (select cases, run them, finish);
* ``fronts/``: the pytest plugin, pytest-xdist transport, the command line, the table recorder.

Strategies and data sets live beside it, in ``strategies/`` and ``datasets/``. Heavy imports (ray, torch) stay
inside the modules that need them, so that importing ``harness`` (and collecting the benchmarks) imports neither.
"""

from harness.run.ray_session import prepare_environment

prepare_environment()  # before anything imports Ray: loopback only, no usage reporting

from harness.core.budget import Budget  # noqa: E402
from harness.core.errors import ConfigError  # noqa: E402
from harness.core.objective import Objective  # noqa: E402
from harness.core.problem import FunctionProblem, Problem, ReplayProblem  # noqa: E402
from harness.core.space import Choice, IntRange, LogUniform, SearchSpace, Uniform  # noqa: E402
from harness.core.study import Hypothesis  # noqa: E402

__all__ = [
    "Budget",
    "Choice",
    "ConfigError",
    "FunctionProblem",
    "Hypothesis",
    "IntRange",
    "LogUniform",
    "Objective",
    "Problem",
    "ReplayProblem",
    "SearchSpace",
    "Uniform",
]
