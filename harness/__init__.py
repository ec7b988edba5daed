"""The harness: problems, budgets, the Ray Tune runner, run records and their comparison.

Heavy imports (ray, torch) stay inside the modules that need them, so that importing
``harness`` (and collecting the benchmarks) stays fast.
"""

from harness.budget import Budget
from harness.errors import ConfigError
from harness.problem import Problem
from harness.space import Choice, IntRange, LogUniform, SearchSpace, Uniform

__all__ = [
    "Budget",
    "Choice",
    "ConfigError",
    "IntRange",
    "LogUniform",
    "Problem",
    "SearchSpace",
    "Uniform",
]
