"""A space-filling design over a search space: the configurations a surrogate replay is fitted on.

The grid form's points come first (so every grid configuration is recorded as it is), then a scrambled
Sobol sequence over the unit cube, one dimension per parameter, mapped onto each parameter the way a
searcher would draw it: log-uniform on the log scale, uniform linearly, whole numbers and choices in
equal shares. The design depends on its seed alone, so a recording killed half-way redraws the same
configurations.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math

from harness.core.errors import ConfigError
from harness.core.space import Choice, IntRange, LogUniform, SearchSpace, Uniform


def _from_unit(param, u: float):
    if isinstance(param, LogUniform):
        lo, hi = math.log10(param.low), math.log10(param.high)
        return float(10 ** (lo + u * (hi - lo)))
    if isinstance(param, Uniform):
        return float(param.low + u * (param.high - param.low))
    if isinstance(param, IntRange):
        return int(min(param.high, param.low + math.floor(u * (param.high - param.low + 1))))
    if isinstance(param, Choice):
        return param.values[min(len(param.values) - 1, math.floor(u * len(param.values)))]
    raise ConfigError(f"design: unknown parameter kind {type(param).__name__}")


def space_filling(space: SearchSpace, size: int, seed: int = 0) -> list[dict]:
    """``size`` configurations: the grid's points (all of them), then scrambled Sobol points."""
    from scipy.stats import qmc

    grid = [dict(zip(space.grid, values)) for values in itertools.product(*space.grid.values())] if space.grid else []
    if size < len(grid):
        raise ConfigError(f"design: size {size} is smaller than the grid form's {len(grid)} points, which it includes")
    rest = size - len(grid)
    names = list(space.params)
    sobol = qmc.Sobol(d=len(names), scramble=True, seed=seed)
    points = sobol.random_base2(m=max(1, math.ceil(math.log2(max(rest, 2)))))[:rest]  # a power of two, then the head
    drawn = [{n: _from_unit(space.params[n], float(u)) for n, u in zip(names, row)} for row in points]
    return [{n: c[n] for n in names} for c in grid] + drawn


def fingerprint(configs: list[dict]) -> str:
    return hashlib.sha256(json.dumps(configs, sort_keys=True, default=repr).encode()).hexdigest()[:16]
