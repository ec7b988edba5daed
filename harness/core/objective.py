"""What a problem's runs are judged on: a metric, its direction, and an optional held-out metric."""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.errors import ConfigError


@dataclass(frozen=True)
class Objective:
    """What a problem's runs are judged on: the metric its trials report each epoch (e.g. ``val_rmse``), whether
    lower (``"min"``) or higher (``"max"``) is better, and optionally a held-out metric reported beside it
    (``test_rmse``) that is never used to select. ``unit_range`` says the metric lies in [0, 1] (an accuracy, a
    share), so intervals are kept inside it.

    Strategies, schedulers, records and statistics all work on the *score*: the metric when higher is better, its
    negative when lower is. Reports show the metric again, under its name and in its own direction.
    """

    metric: str = "val_acc"
    mode: str = "max"
    test_metric: str | None = "test_acc"
    unit_range: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("max", "min"):
            raise ConfigError(f"objective: mode must be 'max' or 'min', got {self.mode!r}")
        for name in (self.metric, self.test_metric):
            if name is not None and (not isinstance(name, str) or not name.replace("_", "").isalnum()):
                raise ConfigError(f"objective: metric names are words such as 'val_rmse', got {name!r}")
        if self.metric == self.test_metric:
            raise ConfigError(f"objective: the held-out metric must differ from the selection metric {self.metric!r}")

    @property
    def score_bounds(self) -> tuple[float, float] | None:
        """Where scores lie: [0, 1] for a maximised metric in [0, 1], [-1, 0] for a minimised one, None if unbounded."""
        if not self.unit_range:
            return None
        return (0.0, 1.0) if self.mode == "max" else (-1.0, 0.0)

    @property
    def sign(self) -> float:
        return 1.0 if self.mode == "max" else -1.0

    def score(self, value: float | None) -> float | None:
        """The metric as a score, higher better."""
        return None if value is None else self.sign * value

    def shown(self, score: float | None) -> float | None:
        """A score (or a difference of scores) back in the metric's own direction."""
        return None if score is None else self.sign * score

    @property
    def is_default(self) -> bool:
        return self == ACCURACY

    def to_dict(self) -> dict:
        return {"metric": self.metric, "mode": self.mode, "test_metric": self.test_metric, "unit_range": self.unit_range}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Objective":
        return cls(**data) if data else ACCURACY


ACCURACY = Objective()  # classification: validation accuracy selects, held-out test accuracy judges
