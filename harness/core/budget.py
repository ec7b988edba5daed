"""The compute budget every strategy of a benchmark gets: a frozen value with units in its names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from harness.core.errors import ConfigError


@dataclass(frozen=True)
class Budget:
    """What one tuning run may spend.

    ``gpus_per_trial=None`` means "automatic": a share of a GPU when the Ray cluster has one,
    none otherwise. A run ends when ``num_trials`` trials have finished, when its trials together
    have trained ``total_epochs`` epochs, or when ``wallclock_s`` has passed, whichever comes first;
    at least one must be set. ``total_epochs`` without ``num_trials`` is an **equal-compute** budget:
    every strategy may spend the same epochs, and searchers keep proposing until they are spent, so an
    early-stopping strategy turns the compute it saves into more trials.
    """

    max_epochs: int
    num_trials: int | None
    max_concurrent_trials: int = 1
    cpus_per_trial: float = 1.0
    gpus_per_trial: float | None = None
    wallclock_s: float | None = None
    total_epochs: int | None = None  # epochs all trials of a run may train together

    def __post_init__(self) -> None:
        if not isinstance(self.max_epochs, int) or self.max_epochs < 1:
            raise ConfigError(f"budget: max_epochs must be a whole number >= 1, got {self.max_epochs!r}")
        if self.num_trials is None and self.wallclock_s is None and self.total_epochs is None:
            raise ConfigError("budget: no limit (num_trials, total_epochs and wallclock_s are all unset); set at least one")
        if self.total_epochs is not None and (not isinstance(self.total_epochs, int) or self.total_epochs < self.max_epochs):
            raise ConfigError(f"budget: total_epochs must be a whole number >= max_epochs ({self.max_epochs}), "
                              f"got {self.total_epochs!r}")
        if self.num_trials is not None and (not isinstance(self.num_trials, int) or self.num_trials < 1):
            raise ConfigError(f"budget: num_trials must be a whole number >= 1, got {self.num_trials!r}")
        if self.wallclock_s is not None and not self.wallclock_s > 0:
            raise ConfigError(f"budget: wallclock_s must be > 0, got {self.wallclock_s!r}")
        if not isinstance(self.max_concurrent_trials, int) or self.max_concurrent_trials < 1:
            raise ConfigError(
                f"budget: max_concurrent_trials must be a whole number >= 1, got {self.max_concurrent_trials!r}"
            )
        if not self.cpus_per_trial > 0:
            raise ConfigError(f"budget: cpus_per_trial must be > 0, got {self.cpus_per_trial!r}")
        if self.gpus_per_trial is not None and not 0 <= self.gpus_per_trial <= 1:
            raise ConfigError(f"budget: gpus_per_trial must be in [0, 1], got {self.gpus_per_trial!r}")

    @property
    def nominal_trials(self) -> int | None:
        """Trials the budget pays for in full: ``num_trials``, or ``total_epochs // max_epochs`` at equal compute."""
        if self.num_trials is not None:
            return self.num_trials
        return self.total_epochs // self.max_epochs if self.total_epochs is not None else None

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def with_overrides(self, overrides: dict[str, str]) -> Budget:
        """This budget with fields replaced from ``name=value`` strings (the ``--budget`` option)."""
        unknown = sorted(set(overrides) - set(self.field_names()))
        if unknown:
            raise ConfigError(f"budget: unknown field {unknown[0]!r}; known: {', '.join(self.field_names())}")
        changes = {name: _parse_field(name, text) for name, text in overrides.items()}
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, object]:
        # total_epochs is left out while unset, so that a fixed-trial budget keeps the form (and the problem
        # fingerprint) it had before equal-compute budgets existed.
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "total_epochs" or v is not None}


_INT_FIELDS = {"max_epochs", "num_trials", "max_concurrent_trials", "total_epochs"}


def _parse_field(name: str, text: str) -> object:
    if text.strip().lower() in {"none", "auto", ""}:
        return None
    try:
        return int(text) if name in _INT_FIELDS else float(text)
    except ValueError:
        kind = "a whole number" if name in _INT_FIELDS else "a number"
        raise ConfigError(f"budget: {name} must be {kind} or 'none', got {text!r}") from None


def parse_overrides(items: list[str]) -> dict[str, str]:
    """Parse ``["max_epochs=3", "num_trials=4"]`` into a dict, rejecting malformed items and unknown fields
    once, before any benchmark is collected."""
    out: dict[str, str] = {}
    known = Budget.field_names()
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"budget: expected name=value, got {item!r}")
        if name.strip() not in known:
            raise ConfigError(f"budget: unknown field {name.strip()!r}; known: {', '.join(known)}")
        _parse_field(name.strip(), value.strip())  # a malformed number is refused here too, not per benchmark
        out[name.strip()] = value.strip()
    return out
