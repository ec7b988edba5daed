"""Search spaces declared once, translated to each engine's form.

A problem states its space with the four parameter kinds below plus a *grid form* (finite
values per parameter) for grid search. Translations:

* ``to_tune()``: Ray Tune domains, for the random/HyperOpt/BOHB/Optuna searchers.
* ``to_grid()``: ``tune.grid_search`` over the grid form.
* ``to_continuous()`` / ``decode_continuous()``: for Gaussian-process searchers that only take
  floats (``BayesOptSearch``). Log-scaled parameters are searched in log10 space, integers as
  ``[low - 0.5, high + 0.5)`` rounded to the nearest, choices as an index in ``[0, n)`` floored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Union

from harness.core.errors import ConfigError


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def check(self, name: str) -> None:
        if not self.low < self.high:
            raise ConfigError(f"search space: {name}: low {self.low} must be < high {self.high}")

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and self.low <= value <= self.high


@dataclass(frozen=True)
class LogUniform(Uniform):
    def check(self, name: str) -> None:
        super().check(name)
        if self.low <= 0:
            raise ConfigError(f"search space: {name}: log-uniform needs low > 0, got {self.low}")


@dataclass(frozen=True)
class IntRange:
    """Whole numbers from ``low`` to ``high``, both included."""

    low: int
    high: int

    def check(self, name: str) -> None:
        if not (isinstance(self.low, int) and isinstance(self.high, int)) or not self.low <= self.high:
            raise ConfigError(f"search space: {name}: needs whole numbers low <= high, got {self.low}..{self.high}")

    def contains(self, value: Any) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high


@dataclass(frozen=True)
class Choice:
    values: tuple

    def __init__(self, values) -> None:
        object.__setattr__(self, "values", tuple(values))

    def check(self, name: str) -> None:
        if not self.values:
            raise ConfigError(f"search space: {name}: a choice needs at least one value")

    def contains(self, value: Any) -> bool:
        return value in self.values


Param = Union[Uniform, LogUniform, IntRange, Choice]


@dataclass(frozen=True)
class SearchSpace:
    """Named parameters plus the grid form grid search uses. Checked on construction."""

    params: dict[str, Param]
    grid: dict[str, tuple] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.params:
            raise ConfigError("search space: empty (no parameters)")
        for name, param in self.params.items():
            param.check(name)
        object.__setattr__(self, "grid", {k: tuple(v) for k, v in self.grid.items()})
        if self.grid:
            missing = sorted(set(self.params) - set(self.grid))
            extra = sorted(set(self.grid) - set(self.params))
            if missing or extra:
                raise ConfigError(
                    "search space: grid form must name every parameter exactly once"
                    + (f"; missing {missing}" if missing else "")
                    + (f"; unknown {extra}" if extra else "")
                )
            for name, values in self.grid.items():
                if not values:
                    raise ConfigError(f"search space: grid for {name} is empty")
                outside = [v for v in values if not self.params[name].contains(v)]
                if outside:
                    raise ConfigError(f"search space: grid values {outside} for {name} lie outside {self.params[name]}")

    @property
    def grid_size(self) -> int:
        return math.prod(len(v) for v in self.grid.values()) if self.grid else 0

    @property
    def is_pure_grid(self) -> bool:
        """True when every parameter is a finite choice: nothing for a continuous model to fit."""
        return all(isinstance(p, Choice) for p in self.params.values())

    def to_tune(self) -> dict[str, Any]:
        from ray import tune

        out: dict[str, Any] = {}
        for name, p in self.params.items():
            if isinstance(p, LogUniform):
                out[name] = tune.loguniform(p.low, p.high)
            elif isinstance(p, Uniform):
                out[name] = tune.uniform(p.low, p.high)
            elif isinstance(p, IntRange):
                out[name] = tune.randint(p.low, p.high + 1)  # Ray's upper bound is exclusive
            else:
                out[name] = tune.choice(list(p.values))
        return out

    def to_grid(self) -> dict[str, Any]:
        from ray import tune

        if not self.grid:
            raise ConfigError("search space: this problem declares no grid form")
        return {name: tune.grid_search(list(values)) for name, values in self.grid.items()}

    def to_continuous(self) -> dict[str, Any]:
        from ray import tune

        out: dict[str, Any] = {}
        for name, p in self.params.items():
            low, high = _continuous_bounds(p)
            out[name] = tune.uniform(low, high)
        return out

    def decode_continuous(self, config: dict[str, Any]) -> dict[str, Any]:
        """Map a point of ``to_continuous()`` back to the declared parameter values."""
        out = dict(config)
        for name, p in self.params.items():
            x = float(config[name])
            if isinstance(p, LogUniform):
                out[name] = min(max(10.0**x, p.low), p.high)
            elif isinstance(p, Uniform):
                out[name] = min(max(x, p.low), p.high)
            elif isinstance(p, IntRange):
                out[name] = min(max(int(round(x)), p.low), p.high)
            else:
                out[name] = p.values[min(max(int(math.floor(x)), 0), len(p.values) - 1)]
        return out


def _continuous_bounds(p: Param) -> tuple[float, float]:
    if isinstance(p, LogUniform):
        return math.log10(p.low), math.log10(p.high)
    if isinstance(p, Uniform):
        return p.low, p.high
    if isinstance(p, IntRange):
        return p.low - 0.5, p.high + 0.5 - 1e-9
    return 0.0, len(p.values) - 1e-9
