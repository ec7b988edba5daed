"""Learning-curve tables: every epoch of a fixed, finite set of configurations, recorded once.

A table is what a replay (``harness.run.replay.backend``) looks results up in instead of training. Its
configurations are the full product of a few *levels* per hyperparameter, so any configuration a
searcher proposes maps onto exactly one row (see :meth:`LearningCurveTable.snap`).

File format (version 2): one ``.npz`` archive (numpy's zip of ``.npy`` arrays, loaded with
``allow_pickle=False``), documented in ``datasets/tables/README.md``:

* ``meta``: a JSON string. ``format``, ``version``, ``benchmark``, ``params`` (a list of
  ``name``, ``kind`` and ``levels``, in the order that numbers the configurations), ``seeds`` (the
  data/weight seed of each repeat), ``max_epochs`` and ``provenance``.
* ``val_acc``, ``val_loss``, ``epoch_s``, ``test_acc``: float32 arrays of shape ``(configs, repeats, epochs)``.
  Each repeat is an independent recording (its own data split and weight seed), so a replay seed
  maps to exactly one repeat. Version 2 added ``test_acc`` (held-out test accuracy per epoch).
  Configuration ``i`` is the ``i``-th element of ``itertools.product`` over the levels.
  A trial that failed (a non-finite loss) is NaN from the epoch it failed at onwards.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import io
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from harness.core.objective import Objective
from harness.core.errors import ConfigError
from harness.core.records import COMPLETED, FAILED
from harness.core.space import Choice, IntRange, LogUniform, SearchSpace, Uniform

FORMAT = "tuning-bench/learning-curve-table"
VERSION = 2
ARRAYS = ("val_acc", "val_loss", "epoch_s", "test_acc")
KINDS = ("log", "linear", "int", "choice")  # how a proposed value maps onto the levels


class TableError(ConfigError):
    """A table file that cannot be used: wrong format or version, bad shape, impossible values."""


@dataclass(frozen=True)
class Axis:
    """One hyperparameter of a table: its recorded levels and how other values snap onto them.

    ``log``: nearest level in log space (a log-uniform parameter); ``linear``: nearest level;
    ``int``: nearest level (whole numbers); ``choice``: the value must be one of the levels.
    """

    kind: str
    levels: tuple

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TableError(f"axis kind {self.kind!r} unknown; known: {', '.join(KINDS)}")
        if not self.levels:
            raise TableError("an axis needs at least one level")
        if self.kind != "choice":
            if any(not isinstance(v, (int, float)) or not math.isfinite(v) for v in self.levels):
                raise TableError(f"{self.kind} levels must be finite numbers, got {list(self.levels)}")
            if list(self.levels) != sorted(set(self.levels)):
                raise TableError(f"{self.kind} levels must be strictly increasing, got {list(self.levels)}")
            if self.kind == "log" and self.levels[0] <= 0:
                raise TableError(f"log levels must be > 0, got {list(self.levels)}")
        elif len(set(map(repr, self.levels))) != len(self.levels):
            raise TableError(f"choice levels repeat: {list(self.levels)}")

    @classmethod
    def for_param(cls, param, levels: Iterable) -> "Axis":
        """The axis that records ``levels`` of a search-space parameter (each must lie in it)."""
        levels = tuple(levels)
        kind = ("log" if isinstance(param, LogUniform) else "linear" if isinstance(param, Uniform)
                else "int" if isinstance(param, IntRange) else "choice")
        axis = cls(kind, tuple(sorted(levels)) if kind != "choice" else levels)
        outside = [v for v in levels if not param.contains(v)]
        if outside:
            raise TableError(f"levels {outside} lie outside the parameter {param}")
        return axis

    def index(self, value: Any) -> int:
        """The level ``value`` snaps to (ties go to the lower level)."""
        if self.kind == "choice":
            for i, level in enumerate(self.levels):
                if level == value:
                    return i
            raise TableError(f"{value!r} is not one of the recorded levels {list(self.levels)}")
        x = float(value)
        if self.kind == "log":
            points, x = [math.log(v) for v in self.levels], math.log(max(x, 1e-300))
        else:
            points = [float(v) for v in self.levels]
        hi = bisect.bisect_left(points, x)
        if hi == 0:
            return 0
        if hi == len(points):
            return len(points) - 1
        return hi - 1 if x - points[hi - 1] <= points[hi] - x else hi

    def as_param(self):
        """This axis as a search-space parameter spanning its levels."""
        if len(self.levels) == 1 or self.kind == "choice":
            return Choice(self.levels)
        low, high = self.levels[0], self.levels[-1]
        return {"log": LogUniform, "linear": Uniform, "int": IntRange}[self.kind](low, high)


@dataclass(frozen=True)
class Curves:
    """One configuration's curves as a replay steps through them: one value per epoch (NaN where not recorded)."""

    row: int | None  # the table row it came from; None for a surrogate's prediction
    val_acc: Any
    val_loss: Any
    test_acc: Any
    epoch_s: Any


@dataclass(frozen=True, eq=False)
class LearningCurveTable:
    benchmark: str
    params: dict[str, Axis]
    seeds: tuple[int, ...]
    val_acc: np.ndarray  # (configs, repeats, epochs), float32
    val_loss: np.ndarray
    epoch_s: np.ndarray
    test_acc: np.ndarray  # held-out test accuracy per epoch; NaN where the data set has no test split
    provenance: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # the file it was loaded from, for messages

    def __post_init__(self) -> None:
        _validate(self)

    # -- shape --------------------------------------------------------------------------------------
    @property
    def n_configs(self) -> int:
        return self.val_acc.shape[0]

    @property
    def n_repeats(self) -> int:
        return self.val_acc.shape[1]

    @property
    def max_epochs(self) -> int:
        return self.val_acc.shape[2]

    def configs(self) -> list[dict[str, Any]]:
        names = list(self.params)
        return [dict(zip(names, values)) for values in itertools.product(*(a.levels for a in self.params.values()))]

    # -- lookup -------------------------------------------------------------------------------------
    def row(self, config: dict[str, Any]) -> int:
        """The row of the recorded configuration nearest to ``config`` (per axis, see :class:`Axis`)."""
        return _row(self.params, config)

    def snap(self, config: dict[str, Any]) -> dict[str, Any]:
        """The recorded configuration a proposed ``config`` replays."""
        return _snap(self.params, config)

    def curves_for(self, config: dict[str, Any], repeat: int) -> "Curves":
        """The recorded curves of the configuration nearest to ``config`` (already snapped), in ``repeat``."""
        c = self.row(config)
        return Curves(c, self.val_acc[c, repeat], self.val_loss[c, repeat], self.test_acc[c, repeat],
                      self.epoch_s[c, repeat])

    def repeat_for(self, seed: int) -> int:
        """The recorded repeat a run with ``seed`` replays: the one recorded with that seed.

        Repeats are independent recordings; reusing one for a second seed would count one draw twice,
        so a seed the table did not record is refused.
        """
        if seed not in self.seeds:
            raise TableError(
                f"table {self.benchmark} ({self.source or 'in memory'}) records {self.n_repeats} independent repeats "
                f"(seeds {_seed_text(self.seeds)}); seed {seed} has none. Use at most {self.n_repeats} seeds "
                f"(--seeds {self.n_repeats}), or record more repeats with `python -m harness record-table`"
            )
        return self.seeds.index(seed)

    def space(self, grid: dict[str, tuple] | None = None) -> SearchSpace:
        """The search space of the table's configurations; ``grid`` (default: all levels) must use recorded levels."""
        grid = grid if grid is not None else {n: a.levels for n, a in self.params.items()}
        for name, values in grid.items():
            axis = self.params.get(name)
            if axis is None:
                raise TableError(f"table {self.benchmark}: the grid names {name!r}, which the table does not record")
            unrecorded = [v for v in values if v not in axis.levels]
            if unrecorded:
                raise TableError(f"table {self.benchmark}: grid values {unrecorded} for {name} are not recorded levels")
        return SearchSpace(params={n: a.as_param() for n, a in self.params.items()}, grid=grid)

    # -- files --------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "benchmark": self.benchmark,
            # A list, not a mapping: the order of the parameters numbers the configurations.
            "params": [{"name": n, "kind": a.kind, "levels": list(a.levels)} for n, a in self.params.items()],
            "seeds": list(self.seeds),
            "max_epochs": self.max_epochs,
            "provenance": self.provenance,
        }
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.array(json.dumps(meta, sort_keys=True)),
                            **{k: getattr(self, k).astype(np.float32) for k in ARRAYS})
        return buf.getvalue()

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        from harness.core.store import atomic_file

        path = Path(path)
        with atomic_file(path, overwrite=overwrite) as fh:
            fh.write(self.to_bytes())
        return path

    @property
    def fingerprint(self) -> str:
        """sha256 of the arrays and levels: what a replay's provenance names."""
        h = hashlib.sha256(json.dumps({n: [a.kind, list(a.levels)] for n, a in self.params.items()}).encode())
        for k in ARRAYS:
            h.update(np.ascontiguousarray(getattr(self, k), dtype=np.float32).tobytes())
        return h.hexdigest()[:16]


def _seed_text(seeds: tuple[int, ...]) -> str:
    if list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        return f"{seeds[0]}..{seeds[-1]}"
    return ", ".join(map(str, seeds))


def load(path: str | Path) -> LearningCurveTable:
    """Load and check a table file; a bad one raises :class:`TableError` naming the file and the fault."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        raise TableError(f"{path}: no such table file (record one with `python -m harness record-table`)") from None
    except Exception as exc:  # zip, npy header or pickle refusals: all mean "not a table file"
        raise TableError(f"{path}: not a learning-curve table ({type(exc).__name__}: {exc})") from None
    try:
        return dataclasses.replace(from_arrays(arrays, source=path), source=str(path))
    except TableError as exc:
        raise TableError(f"{path}: {exc}") from None


def from_arrays(arrays: dict[str, np.ndarray], source: Path | None = None) -> LearningCurveTable:
    if "meta" not in arrays:
        raise TableError("missing arrays ['meta']")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError as exc:
        raise TableError(f"meta is not JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise TableError(f"format is {meta.get('format') if isinstance(meta, dict) else None!r}, expected {FORMAT!r}")
    missing = [k for k in ARRAYS if k not in arrays]
    if meta.get("version") == VERSION and missing:
        raise TableError(f"missing arrays {missing}")
    if meta.get("version") != VERSION:
        command = (meta.get("provenance") or {}).get("command") or "python -m harness record-table BENCHMARK --seeds 0 1 ..."
        if "--out" not in command:
            command += f" --out {source or 'FILE'}"
        raise TableError(
            f"table version {meta.get('version')!r}; this harness reads version {VERSION}, which adds held-out test "
            f"accuracy and independent repeats. Re-record it: {command} --force"
        )
    try:
        params = {str(p["name"]): Axis(p["kind"], tuple(p["levels"])) for p in meta["params"]}
        if len(params) != len(meta["params"]):
            raise TableError("a parameter is listed twice")
        table = LearningCurveTable(
            benchmark=str(meta["benchmark"]),
            params=params,
            seeds=tuple(int(s) for s in meta["seeds"]),
            provenance=dict(meta.get("provenance") or {}),
            **{k: np.asarray(arrays[k], dtype=np.float32) for k in ARRAYS},
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise TableError(f"meta lacks or mangles {exc}") from None
    if meta.get("max_epochs") != table.max_epochs:
        raise TableError(f"meta says max_epochs {meta.get('max_epochs')}, the arrays hold {table.max_epochs}")
    return table


def _row(params: dict[str, Axis], config: dict[str, Any]) -> int:
    missing = sorted(set(params) - set(config))
    if missing:
        raise TableError(f"config {config} lacks {missing}")
    index = 0
    for name, axis in params.items():
        index = index * len(axis.levels) + axis.index(config[name])
    return index


def _snap(params: dict[str, Axis], config: dict[str, Any]) -> dict[str, Any]:
    return {name: axis.levels[axis.index(config[name])] for name, axis in params.items()}


def _validate(t: LearningCurveTable) -> None:
    if not t.params:
        raise TableError("a table needs at least one parameter")
    shapes = {k: getattr(t, k).shape for k in ARRAYS}
    if any(len(s) != 3 for s in shapes.values()) or len(set(shapes.values())) != 1:
        raise TableError(f"arrays must share one (configs, repeats, epochs) shape, got {shapes}")
    expected = math.prod(len(a.levels) for a in t.params.values())
    configs, repeats, epochs = shapes["val_acc"]
    if configs != expected:
        raise TableError(f"{configs} configurations recorded, but the levels make {expected}")
    if repeats < 1 or epochs < 1:
        raise TableError(f"needs at least one repeat and one epoch, got shape {shapes['val_acc']}")
    if len(t.seeds) != repeats:
        raise TableError(f"{len(t.seeds)} seeds listed for {repeats} repeats")
    acc, secs = t.val_acc, t.epoch_s
    recorded = np.isfinite(acc)
    # A curve is recorded up to the epoch its trial failed at, and NaN from there on.
    if np.any(recorded[..., 1:] & ~recorded[..., :-1]):
        raise TableError("val_acc has a gap: a recorded epoch after a missing one")
    # Accuracies (and other metrics in [0, 1]) stay in range; a declared objective's score (say, minus an RMSE) need not.
    bounds = Objective.from_dict(t.provenance.get("objective")).score_bounds
    lo, hi = bounds or (-np.inf, np.inf)
    if np.any((acc[recorded] < lo) | (acc[recorded] > hi)):
        raise TableError(f"val_acc outside [{lo:g}, {hi:g}]")
    test = t.test_acc
    if np.any(np.isfinite(test) & ~recorded):
        raise TableError("test_acc recorded for an epoch whose val_acc is missing")
    if np.any((test[np.isfinite(test)] < lo) | (test[np.isfinite(test)] > hi)):
        raise TableError(f"test_acc outside [{lo:g}, {hi:g}]")
    bad_time = recorded & ~(np.isfinite(secs) & (secs >= 0))
    if np.any(bad_time):
        c, r, e = np.argwhere(bad_time)[0]
        raise TableError(f"epoch_s must be a non-negative number; config {c}, repeat {r}, epoch {e + 1} has {secs[c, r, e]}")


def from_records(records, params: dict[str, Axis], benchmark: str, provenance: dict | None = None) -> LearningCurveTable:
    """Build a table from run records that trained every configuration of ``params`` to the end.

    One record per repeat (its seed names the repeat). A configuration a record lacks, or one a
    scheduler cut short, is an error: a table must hold whole curves.
    """
    records = sorted(records, key=lambda r: r.seed)
    if not records:
        raise TableError("no run records to build a table from")
    if not records[0].objective.is_default:  # the scores are a declared objective's, not accuracies
        provenance = {**(provenance or {}), "objective": records[0].objective.to_dict()}
    seeds = [r.seed for r in records]
    if len(set(seeds)) != len(seeds):
        raise TableError(f"two records share a seed: {seeds}")
    epochs = int(records[0].budget["max_epochs"])
    shape = (math.prod(len(a.levels) for a in params.values()), len(records), epochs)
    arrays = {k: np.full(shape, np.nan, dtype=np.float32) for k in ARRAYS}
    for r_index, record in enumerate(records):
        seen = set()
        for trial in record.trials:
            row = _row(params, trial.config)
            if _snap(params, trial.config) != {n: trial.config[n] for n in params}:
                raise TableError(f"seed {record.seed}: trial config {trial.config} is not a recorded level combination")
            if trial.outcome not in (COMPLETED, FAILED):
                raise TableError(f"seed {record.seed}: trial {trial.config} ended {trial.outcome}; a table needs whole curves")
            seen.add(row)
            for e in trial.epochs:
                arrays["val_acc"][row, r_index, e.epoch - 1] = e.val_acc
                arrays["val_loss"][row, r_index, e.epoch - 1] = np.nan if e.val_loss is None else e.val_loss
                arrays["epoch_s"][row, r_index, e.epoch - 1] = e.epoch_s
                arrays["test_acc"][row, r_index, e.epoch - 1] = np.nan if e.test_acc is None else e.test_acc
        if len(seen) != shape[0]:
            raise TableError(f"seed {record.seed}: {shape[0] - len(seen)} of {shape[0]} configurations were not recorded")
    return LearningCurveTable(benchmark, params, tuple(seeds), provenance=dict(provenance or {}), **arrays)
