"""The strategy registry. Every module here that defines ``STRATEGY`` is registered under its name,
so adding a strategy is adding one module; the names are the pytest ids (``-k asha``).
"""

from __future__ import annotations

import importlib
import pkgutil

from harness.core.errors import ConfigError
from strategies._base import Strategy, TuneSetup

_REGISTRY: dict[str, Strategy] = {}


def register(strategy: Strategy) -> Strategy:
    """Add ``strategy`` to the registry; a second strategy of the same name is an error."""
    if strategy.name in _REGISTRY and _REGISTRY[strategy.name] is not strategy:
        raise ConfigError(f"strategy {strategy.name!r} is registered twice")
    _REGISTRY[strategy.name] = strategy
    return strategy


def get(name: str) -> Strategy:
    """The strategy called ``name``, or a ConfigError listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown strategy {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    return list(_REGISTRY)


def _discover() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(module, "STRATEGY", None), Strategy):
            register(module.STRATEGY)


_discover()

__all__ = ["Strategy", "TuneSetup", "get", "names", "register"]
