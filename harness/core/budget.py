"""The compute budget every strategy of a benchmark gets: a frozen value with units in its names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from harness.core.errors import ConfigError


@dataclass(frozen=True)
class Budget:
    """What one tuning run may spend.

    ``gpus_per_trial=None`` means "automatic": a share of a GPU when the Ray cluster has one,
    none otherwise. A run ends when ``num_trials`` trials have finished or ``wallclock_s``
    has passed, whichever comes first; at least one of the two must be set.
    """

    max_epochs: int
    num_trials: int | None
    max_concurrent_trials: int = 1
    cpus_per_trial: float = 1.0
    gpus_per_trial: float | None = None
    wallclock_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.max_epochs, int) or self.max_epochs < 1:
            raise ConfigError(f"budget: max_epochs must be a whole number >= 1, got {self.max_epochs!r}")
        if self.num_trials is None and self.wallclock_s is None:
            raise ConfigError("budget: no limit (num_trials and wallclock_s are both unset); set at least one")
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
        return dataclasses.asdict(self)


_INT_FIELDS = {"max_epochs", "num_trials", "max_concurrent_trials"}


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
