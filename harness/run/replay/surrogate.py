"""A whole-curve surrogate over a live search space, fitted on a recorded design (``record-design``).

Every configuration a strategy proposes gets full learning curves (validation and held-out test accuracy, epoch
seconds), predicted at once for all epochs, so curves keep the shape recorded ones have: a random forest's leaf
holds whole recorded curves and predicts their mean, so epoch seconds stay positive and accuracy never jumps between
epochs the way an epoch-as-a-feature model's can (syne-tune #319, fixed by whole-curve regression in #333). Features
are the space's own scales: log-uniform parameters on the log scale, every range scaled to [0, 1], choices one-hot.
Nearest neighbours (syne-tune's default) are kept as the baseline the forest is measured against.

``fidelity`` measures what a replay on it would stand for, on configurations held out by design part (a part is
also a seed, so held-out configurations are of held-out seeds): Spearman's rho of predicted against recorded final
validation accuracy, and how well early ranks predict final ones (epoch 3 against the last), on the recorded curves
and on the predicted ones, since that is what ASHA, Hyperband and BOHB rely on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.core.records import COMPLETED
from harness.core.space import Choice, IntRange, LogUniform, SearchSpace, Uniform

CURVES = ("val_acc", "test_acc", "epoch_s")


def features(space: SearchSpace, configs: list[dict]) -> np.ndarray:
    """One row per configuration: every numeric parameter scaled to [0, 1], each choice one-hot over 1/sqrt(2)."""
    columns = []
    for name, p in space.params.items():
        values = [c[name] for c in configs]
        if isinstance(p, LogUniform):
            lo, hi = math.log10(p.low), math.log10(p.high)
            columns.append([(math.log10(v) - lo) / (hi - lo) for v in values])
        elif isinstance(p, (Uniform, IntRange)):
            span = (p.high - p.low) or 1
            columns.append([(float(v) - p.low) / span for v in values])
        elif isinstance(p, Choice):
            for level in p.values:
                columns.append([(v == level) / math.sqrt(2) for v in values])
    return np.asarray(columns, dtype=float).T


@dataclass
class Design:
    """A recorded design: configurations, the seed each was trained under, and their whole curves."""

    space: SearchSpace
    configs: list[dict]
    seeds: np.ndarray  # (n,)
    curves: dict[str, np.ndarray]  # name -> (n, epochs)

    @classmethod
    def from_records(cls, space: SearchSpace, records: list) -> "Design":
        """Every trial of the design's parts that trained to the end (a failed one has no whole curve)."""
        configs, seeds, rows = [], [], {k: [] for k in CURVES}
        for record in sorted(records, key=lambda r: r.seed):
            for t in record.trials:
                if t.outcome != COMPLETED:
                    continue
                configs.append(t.config)
                seeds.append(record.seed)
                rows["val_acc"].append([e.val_acc for e in t.epochs])
                rows["test_acc"].append([e.test_acc if e.test_acc is not None else np.nan for e in t.epochs])
                rows["epoch_s"].append([e.epoch_s for e in t.epochs])
        return cls(space, configs, np.asarray(seeds), {k: np.asarray(v, dtype=float) for k, v in rows.items()})

    def subset(self, keep: np.ndarray) -> "Design":
        return Design(self.space, [c for c, k in zip(self.configs, keep) if k], self.seeds[keep],
                      {k: v[keep] for k, v in self.curves.items()})


class NearestCurves:
    """k nearest recorded configurations, their curves averaged with weights 1 / distance (an exact match wins)."""

    def __init__(self, design: Design, k: int = 3) -> None:
        self.design, self.k = design, min(k, len(design.configs))
        self._x = features(design.space, design.configs)

    def predict(self, configs: list[dict]) -> dict[str, np.ndarray]:
        x = features(self.design.space, configs)
        d = np.sqrt(((x[:, None, :] - self._x[None, :, :]) ** 2).sum(-1))  # (queries, design)
        nearest = np.argsort(d, axis=1, kind="stable")[:, : self.k]
        w = 1.0 / np.maximum(np.take_along_axis(d, nearest, 1), 1e-9)
        w /= w.sum(1, keepdims=True)
        return {name: np.einsum("qk,qke->qe", w, curves[nearest]) for name, curves in self.design.curves.items()}


class ForestCurves:
    """A random forest regressing every curve of a configuration at once (multi-output, one forest per curve kind).

    ``residuals`` are the design's recorded curves minus their out-of-bag predictions (each from trees that never saw
    it): what a seed varies around the forest's mean. ``draw(configs, seed)`` adds one of them, chosen by the seed and
    the configuration among the ``NOISE_NEIGHBOURS`` design points whose predicted validation curves are nearest the
    configuration's own (seed-to-seed variation depends on where a curve lies: near 1 it is small, and a curve near
    chance may also be a run that diverged), so that replay seeds differ as live seeds do; they share the design's
    residuals.
    """

    NOISE_NEIGHBOURS = 8

    def __init__(self, design: Design, trees: int = 100, seed: int = 0,
                 bounds: tuple[float, float] | None = (0.0, 1.0)) -> None:
        from sklearn.ensemble import RandomForestRegressor

        self.design, self.bounds = design, bounds  # where drawn scores are kept (None: unbounded)
        x = features(design.space, design.configs)
        self._forests, residuals, oob = {}, {}, {}
        kinds = {n: c for n, c in design.curves.items() if np.isfinite(c).any()}  # no held-out metric: no test curve
        whole = np.all([np.isfinite(c).all(1) for c in kinds.values()], axis=0)  # every kind recorded
        for name, curves in kinds.items():
            # min_samples_leaf 2, every feature at each split: within 0.01 of the best of 9 settings by held-out rho on
            # the MNIST-1D design (336 configurations), and not misled where few parameters matter (tests/test_surrogate.py)
            forest = RandomForestRegressor(trees, min_samples_leaf=2, random_state=seed, n_jobs=1, oob_score=True)
            self._forests[name] = forest.fit(x[whole], curves[whole])
            oob[name] = forest.oob_prediction_.reshape(curves[whole].shape)
            residuals[name] = curves[whole] - oob[name]
        kept = np.all([np.isfinite(r).all(1) for r in residuals.values()], axis=0)  # seen out of bag
        self.residuals = {name: r[kept] for name, r in residuals.items()}
        self._donor_curves = oob["val_acc"][kept]  # what the forest predicted for each residual's design point

    def predict(self, configs: list[dict]) -> dict[str, np.ndarray]:
        x = features(self.design.space, configs)
        if len(configs) > 8:
            return {name: forest.predict(x) for name, forest in self._forests.items()}
        # A replay asks for one configuration at a time, where scikit-learn's per-call overhead (36 ms for the three
        # forests) outweighs the work: walk the trees here instead (the same leaves, the same mean).
        x = x.astype(np.float32).astype(np.float64)  # scikit-learn compares float32 features with the thresholds
        return {name: np.array([_walk(self._trees(name), row) for row in x]) for name in self._forests}

    def _trees(self, name: str) -> list:
        cache = self.__dict__.setdefault("_tree_arrays", {})
        if name not in cache:
            cache[name] = [(t.tree_.children_left, t.tree_.children_right, t.tree_.feature, t.tree_.threshold,
                            t.tree_.value[:, :, 0]) for t in self._forests[name].estimators_]
        return cache[name]

    def draw(self, configs: list[dict], seed: int) -> dict[str, np.ndarray]:
        """Predicted curves plus one recorded residual each (the same design point's for every curve kind), chosen by
        ``seed`` and the configuration; scores kept within ``bounds`` and seconds at least 0."""
        import hashlib
        import json

        mean = self.predict(configs)
        d = ((mean["val_acc"][:, None, :] - self._donor_curves[None, :, :]) ** 2).sum(-1)
        near = np.argsort(d, axis=1, kind="stable")[:, : self.NOISE_NEIGHBOURS]
        picks = [int(near[i, int.from_bytes(hashlib.sha256(json.dumps([seed, c], sort_keys=True, default=repr)
                                                            .encode()).digest()[:8], "big") % near.shape[1]])
                 for i, c in enumerate(configs)]
        out = {}
        for name, curves in mean.items():
            noisy = curves + self.residuals[name][picks]
            lo, hi = (0.0, np.inf) if name == "epoch_s" else (self.bounds or (-np.inf, np.inf))
            out[name] = np.clip(noisy, lo, hi)
        return out


def _walk(trees: list, x: np.ndarray) -> np.ndarray:
    """The forest's prediction for one row (already rounded to float32, as scikit-learn's predict rounds it): each
    tree's leaf value (scikit-learn's split rule: go left when ``x[feature] <= threshold``), averaged."""
    total = 0.0
    for left, right, feature, threshold, value in trees:
        node = 0
        while left[node] != -1:
            node = left[node] if x[feature[node]] <= threshold[node] else right[node]
        total = total + value[node]
    return total / len(trees)


MODELS = {"forest": ForestCurves, "nearest": NearestCurves}


@dataclass(frozen=True)
class Fidelity:
    model: str
    held_out: int  # configurations predicted, none of them seen in fitting
    spearman_final: float  # predicted against recorded final validation accuracy
    early_late_recorded: float  # Spearman of epoch-3 against final validation accuracy, recorded curves
    early_late_predicted: float  # the same on the predicted curves
    r2_final: float

    def text(self) -> str:
        return (f"{self.model}: Spearman rho of predicted against recorded final validation accuracy "
                f"{self.spearman_final:.3f} (R^2 {self.r2_final:.3f}) on {self.held_out} held-out configurations; "
                f"epoch-3 against final ranks: {self.early_late_predicted:.3f} predicted, "
                f"{self.early_late_recorded:.3f} recorded")


def fidelity(design: Design, model: str = "forest", early_epoch: int = 3, noisy: bool = False) -> Fidelity:
    """Leave one design part (seed) out at a time; every configuration is predicted once, from the other parts.

    ``noisy``: the forest's draws (mean plus a residual, as a replay seed would get) instead of its mean."""
    from scipy.stats import spearmanr

    predicted = np.full_like(design.curves["val_acc"], np.nan)
    for seed in np.unique(design.seeds):
        out = design.seeds == seed
        fitted = MODELS[model](design.subset(~out))
        held = [c for c, o in zip(design.configs, out) if o]
        predicted[out] = (fitted.draw(held, int(seed)) if noisy else fitted.predict(held))["val_acc"]
    recorded = design.curves["val_acc"]
    final_r, final_p = recorded[:, -1], predicted[:, -1]
    r2 = 1.0 - float(((final_r - final_p) ** 2).sum() / ((final_r - final_r.mean()) ** 2).sum())
    early = early_epoch - 1
    return Fidelity(
        model + (" draws" if noisy else ""), len(final_r), float(spearmanr(final_p, final_r).statistic),
        float(spearmanr(recorded[:, early], final_r).statistic),
        float(spearmanr(predicted[:, early], final_p).statistic), r2,
    )


# -- the design as a file, and the surrogate as a replay's table -------------------------------------------------
DESIGN_FORMAT, DESIGN_VERSION = "tuning-bench/design", 1


def save_design(design: Design, path, benchmark: str, provenance: dict) -> None:
    """``design`` as one ``.npz`` (numpy's zip, no pickles): configurations and seeds in ``meta``, curves as float32
    ``(configs, epochs)`` arrays; written to a temporary file and renamed, so a reader never sees half a file."""
    import io
    import json
    import os
    from pathlib import Path

    meta = {"format": DESIGN_FORMAT, "version": DESIGN_VERSION, "benchmark": benchmark, "configs": design.configs,
            "seeds": [int(s) for s in design.seeds], "params": list(design.space.params), "provenance": provenance}
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.array(json.dumps(meta, sort_keys=True, default=repr)),
                        **{k: v.astype(np.float32) for k, v in design.curves.items()})
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)


def load_design(path, space: SearchSpace) -> tuple[Design, dict]:
    """A design file and its meta; refused with one line when it is not one, or not of this space."""
    import json

    from harness.core.errors import ConfigError

    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta.get("format") != DESIGN_FORMAT or meta.get("version") != DESIGN_VERSION:
            raise ConfigError(f"{path}: not a {DESIGN_FORMAT} version {DESIGN_VERSION} file")
        if meta["params"] != list(space.params):
            raise ConfigError(f"{path}: a design over {meta['params']}, not this space's {list(space.params)}")
        curves = {k: data[k].astype(float) for k in CURVES}
    return Design(space, meta["configs"], np.asarray(meta["seeds"]), curves), meta


_FITTED: dict[str, "SurrogateTable"] = {}  # per process: a replay's trainables share one fitted surrogate


def _shared(fingerprint: str, state: bytes) -> "SurrogateTable":
    """Unpickle a surrogate once per process: Ray hands every trial of a replay its own copy (with_parameters), and
    unpickling the forests each time took longer than the trial."""
    import pickle

    if fingerprint not in _FITTED:
        _FITTED.clear()  # one surrogate at a time: a new one replaces the old
        table = SurrogateTable.__new__(SurrogateTable)
        table.__dict__.update(pickle.loads(state))
        _FITTED[fingerprint] = table
    return _FITTED[fingerprint]


class SurrogateTable:
    """A fitted surrogate with the replay interface of a learning-curve table (``harness.run.replay.table``).

    A proposal replays its own configuration (nothing is snapped to a recorded one): the forest's predicted curves
    plus one recorded residual chosen by the run's seed and the configuration (``ForestCurves.draw``). Any seed
    replays; seeds differ as the design's residuals differ, and share that pool. Validation loss is not predicted.
    """

    def __init__(self, design: Design, benchmark: str, provenance: dict | None = None, trees: int = 100,
                 source: str | None = None, bounds: tuple[float, float] | None = (0.0, 1.0)) -> None:
        import hashlib

        self.kind = "surrogate"  # a replay's record names it so (records.TableRef.kind)
        self.design, self.benchmark, self.source = design, benchmark, source
        self.provenance = dict(provenance or {})
        self.trees, self._model = trees, None  # fitted when first needed: collecting a benchmark costs no fit
        self.bounds = bounds  # the scores' range (Objective.score_bounds)
        self.max_epochs = int(design.curves["val_acc"].shape[1])
        self.n_configs, self.n_repeats = len(design.configs), None
        digest = hashlib.sha256(f"surrogate-v1 forest {trees}".encode())
        for name in CURVES:
            digest.update(np.ascontiguousarray(design.curves[name], dtype=np.float32).tobytes())
        digest.update(repr(design.configs).encode())
        self.fingerprint = digest.hexdigest()[:16]

    @property
    def model(self) -> ForestCurves:
        if self._model is None:
            self._model = ForestCurves(self.design, trees=self.trees, bounds=self.bounds)
        return self._model

    def __reduce__(self):
        import pickle

        self.model  # fitted once, in the driver, before Ray hands copies to the trials
        return _shared, (self.fingerprint, pickle.dumps({k: v for k, v in self.__dict__.items() if k != "_cache"}))

    def snap(self, config: dict) -> dict:
        return {name: config[name] for name in self.design.space.params}

    def repeat_for(self, seed: int) -> int:
        return int(seed)

    def curves_for(self, config: dict, repeat: int):
        import json

        key = json.dumps([repeat, config], sort_keys=True, default=repr)
        cache = self.__dict__.setdefault("_cache", {})  # a paused trial resumes: its curves are not predicted again
        if key not in cache:
            if len(cache) > 4096:
                cache.clear()
            cache[key] = self._predict(config, repeat)
        return cache[key]

    def _predict(self, config: dict, repeat: int):
        from harness.run.replay.table import Curves

        # float32, as a table stores them: the simulated clock then adds the same numbers a table replay would, and
        # an epoch's start (its arrival minus its seconds) meets the previous epoch's end exactly
        drawn = {k: v.astype(np.float32) for k, v in self.model.draw([config], repeat).items()}
        nan = np.full(self.max_epochs, np.nan, dtype=np.float32)
        return Curves(None, drawn["val_acc"][0], nan, drawn.get("test_acc", nan[None])[0], drawn["epoch_s"][0])

    def space(self, grid: dict | None = None) -> SearchSpace:
        return SearchSpace(params=dict(self.design.space.params), grid=dict(grid if grid is not None else self.design.space.grid))
