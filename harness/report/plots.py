"""The report's plots (matplotlib, PNG). Every plot gives a strategy the same colour."""

from __future__ import annotations

import warnings
from pathlib import Path

from harness.evaluate import curves
from harness.evaluate.summary import Analysis
from harness.core.objective import ACCURACY
from harness.core.records import SIMULATED


# The mission's strategies keep tab10's ten distinct colours in this order; any other strategy gets one of
# tab20's lighter shades by a hash of its name, so every strategy keeps its colour from report to report.
KNOWN = ("grid", "random", "bayes", "hyperband", "hyperopt", "bohb", "asha", "hyperopt-asha", "optuna-gp", "optuna-tpe")


def colours(names: list[str]) -> dict[str, tuple]:
    """A colour per strategy, stable across reports and distinct among the mission's ten strategies."""
    import hashlib

    import matplotlib

    strong, light = matplotlib.colormaps["tab10"], matplotlib.colormaps["tab20"]
    out = {}
    for name in sorted(set(names)):
        if name in KNOWN:
            out[name] = strong(KNOWN.index(name))
        else:
            out[name] = light(1 + 2 * (int(hashlib.sha1(name.encode()).hexdigest(), 16) % 10))
    return out


def _figure(width=7.0, height=4.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=110)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from harness.core.store import atomic_file

    fig.tight_layout()
    try:  # a reader (or a killed session) sees the old plot or the whole new one, never half a PNG
        with atomic_file(path, overwrite=True) as fh:
            fig.savefig(fh, format="png", bbox_inches="tight")  # a legend outside the axes stays in the file
    finally:
        plt.close(fig)
    return path


def _mean_band(grid, per_seed, bounds=(0.0, 1.0)):
    """Mean and 95% t-interval of the mean at each grid point (the table's interval, stats.summarize's degrees of
    freedom), drawn only where every seed has a value: a mean over the seeds that have reported so far would dip when
    a slower, worse seed joins it."""
    import numpy as np
    from scipy import stats

    from harness.evaluate.stats import EXCESS_KURTOSIS, interval_df

    values = np.array(per_seed, dtype=float)  # seeds x grid
    n = np.sum(~np.isnan(values), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # grid points before any seed's first result
        mean = np.nanmean(values, axis=0) if len(values) else np.full(len(grid), np.nan)
        sd = np.nanstd(values, axis=0, ddof=1) if len(values) > 1 else np.zeros(len(grid))
        t = stats.t.ppf(0.975, interval_df(np.maximum(n, 2), EXCESS_KURTOSIS))
        half = np.where(n > 1, t * sd / np.sqrt(np.maximum(n, 1)), 0.0)
    complete = n == len(values)
    mean = np.where(complete, mean, np.nan)
    lo, hi = bounds or (-np.inf, np.inf)  # a score's own range (None: unbounded)
    return mean, np.clip(mean - half, lo, hi), np.clip(mean + half, lo, hi)


def _step_values(points: list[curves.Point], grid, attr: str):
    import numpy as np

    xs = [getattr(p, attr) for p in points]
    ys = [p.best for p in points]
    idx = np.searchsorted(xs, grid, side="right") - 1
    return np.where(idx >= 0, np.array(ys + [np.nan])[idx], np.nan)


def best_so_far_plot(analysis: Analysis, benchmark: str, attr: str, path: Path) -> Path:
    """Best-so-far validation accuracy against wall-clock (attr='elapsed_s') or cumulative epochs."""
    import numpy as np

    runs = [r for r in analysis.runs if r.benchmark == benchmark and r.best_val_acc is not None]
    palette = colours(sorted({r.strategy for r in runs}))
    objective = runs[0].objective if runs else ACCURACY
    k = objective.sign  # scores back in the metric's own direction
    fig, ax = _figure()
    x_max = max((getattr(p, attr) for r in runs for p in curves.best_so_far(r)), default=1.0)
    grid = np.linspace(0, x_max, 300)
    for name in sorted({r.strategy for r in runs}):
        per_seed = [_step_values(curves.best_so_far(r), grid, attr) for r in runs if r.strategy == name]
        mean, low, high = (k * v for v in _mean_band(grid, per_seed, objective.score_bounds))
        ax.plot(grid, mean, color=palette[name], label=f"{name} ({len(per_seed)} seeds)", lw=1.8)
        ax.fill_between(grid, low, high, color=palette[name], alpha=0.08, lw=0)
    target = analysis.targets.get(benchmark)
    if target:
        ax.axhline(k * target, color="grey", ls=":", lw=1, label=f"target {k * target:.4g}")
    simulated = any(r.clock == SIMULATED for r in runs)
    clock = "simulated wall-clock" if simulated else "wall-clock"
    ax.set_xlabel(f"{clock} since the run started (s)" if attr == "elapsed_s" else "cumulative epochs trained (epochs)")
    what = "accuracy" if objective.is_default else objective.metric
    ax.set_ylabel("best validation accuracy so far (fraction)" if objective.is_default else f"best {what} so far")
    ax.set_title(f"{benchmark}: best-so-far {what}, mean and 95% CI over seeds\n(drawn from where every seed has a result)",
                 fontsize=9)
    accs = [r.best_val_acc for r in runs]
    if accs and objective.unit_range and k > 0:
        ax.set_ylim(max(0.0, min(accs) - 0.1), min(1.0, max(accs) + 0.01))
    ax.legend(fontsize=7, ncol=2, loc="lower right" if k > 0 else "upper right")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def accuracy_vs_compute_plot(analysis: Analysis, benchmark: str, path: Path) -> Path:
    """One point per run: epochs used against best accuracy."""
    runs = [r for r in analysis.runs if r.benchmark == benchmark and r.best_val_acc is not None]
    palette = colours(sorted({r.strategy for r in runs}))
    objective = runs[0].objective if runs else ACCURACY
    fig, ax = _figure()
    for name in sorted({r.strategy for r in runs}):
        mine = [r for r in runs if r.strategy == name]
        ax.scatter([r.epochs_used for r in mine], [objective.shown(r.best_val_acc) for r in mine], color=palette[name],
                   label=name, s=28, alpha=0.85)
    ax.set_xlabel("compute used (epochs trained in the run)")
    what = "accuracy" if objective.is_default else objective.metric
    ax.set_ylabel("best validation accuracy (fraction)" if objective.is_default else f"best {what}")
    ax.set_title(f"{benchmark}: {what} against compute, one point per run")
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def critical_difference_plot(om, path: Path) -> Path | None:
    """Demšar's critical-difference diagram of one omnibus test (one clock): average ranks on an axis,
    the CD as a bar, and thick lines joining strategies whose ranks lie within the CD of each other."""
    if om.cd is None or not om.avg_ranks:
        return None
    k = len(om.strategies)
    order = sorted(zip(om.avg_ranks, om.strategies))
    palette = colours(list(om.strategies))
    fig, ax = _figure(7.5, 1.6 + 0.28 * k)
    ax.set_xlim(k + 0.5, 0.5)  # rank 1 (best) on the right, as in Demšar (2006)
    ax.set_ylim(-k - 1.5, 2.2)
    ax.axhline(0, color="black", lw=1)
    for r in range(1, k + 1):
        ax.plot([r, r], [0, 0.15], color="black", lw=1)
        ax.text(r, 0.35, str(r), ha="center", fontsize=8)
    ax.plot([k + 0.4, k + 0.4 - om.cd], [1.5, 1.5], color="black", lw=2)
    ax.text(k + 0.4 - om.cd / 2, 1.7, f"CD = {om.cd:.2f}", ha="center", fontsize=8)
    for i, (rank, name) in enumerate(order):
        y = -(i + 1)
        ax.plot([rank, rank], [0, y], color=palette[name], lw=1)
        ax.text(rank, y - 0.1, f" {name} ({rank:.2f})", fontsize=8, va="top", color=palette[name],
                ha="left" if rank <= (k + 1) / 2 else "right")
    # cliques: for each strategy, the furthest one within the CD; keep the maximal spans only
    cliques: list[tuple[int, int]] = []
    for i in range(len(order)):
        j = max(m for m in range(i, len(order)) if order[m][0] - order[i][0] <= om.cd)
        if j > i and (not cliques or j > cliques[-1][1]):
            cliques.append((i, j))
    for j, (a, b) in enumerate(cliques):
        ax.plot([order[a][0] - 0.05, order[b][0] + 0.05], [-0.4 - 0.25 * j] * 2, color="black", lw=3, solid_capstyle="round")
    ax.axis("off")
    what = "replays" if om.clock == SIMULATED else "live runs"
    ax.set_title(f"{what} of {', '.join(om.benchmarks)}: average rank of held-out test accuracy over {om.n_blocks} "
                 f"blocks (benchmark x seed); Friedman p = {om.friedman_p:.3g}", fontsize=8)
    return _save(fig, path)


def anytime_plot(analysis: Analysis, benchmark: str, path: Path) -> Path | None:
    """Average rank (1 = best, at the top) on held-out test accuracy against the share of the budget spent."""
    a = analysis.anytime.get(benchmark)
    if a is None:
        return None
    palette = colours(list(a.ranks))
    fig, ax = _figure(7.0, 4.6)
    final = {n: r[-1] for n, r in a.ranks.items()}
    for i, name in enumerate(sorted(a.ranks, key=final.get)):
        ax.plot(a.fractions, a.ranks[name], color=palette[name], lw=2, marker="o", ms=4,
                ls="-" if i < 5 else "--", label=f"{name} ({final[name]:.1f})")
    ax.set_xscale("log", base=2)
    ax.set_xticks(a.fractions, [("all" if f == 1 else f"1/{round(1 / f)}") for f in a.fractions])
    k = len(a.ranks)
    ax.set_ylim(k + 0.5, 0.5)
    ax.set_xlabel("share of the run's budget spent (epochs, log scale)")
    objective = next((r.objective for r in analysis.runs if r.benchmark == benchmark), ACCURACY)
    held_out = "held-out test accuracy" if objective.is_default else f"held-out {objective.test_metric}"
    ax.set_ylabel(f"average rank on {held_out} (1 = best)")
    ax.set_title(f"{benchmark}: who leads as the budget is spent\n({a.seeds} seeds; legend: average rank at the full budget)",
                 fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    return _save(fig, path)


def time_split_plot(analysis: Analysis, benchmark: str, path: Path) -> Path:
    """Per strategy, a run's mean seconds in training epochs, in the searcher's decisions (measured,
    harness.run.decisions) and in the rest (Ray's start-up, per-trial overhead), so that a small problem's
    wall-clock is not read as training time. A replay's clock holds the epochs only: its searcher seconds are
    real ones, drawn hatched after the bar."""
    runs = [r for r in analysis.runs if r.benchmark == benchmark]
    names = sorted({r.strategy for r in runs})
    fig, ax = _figure(7.0, 0.8 + 0.35 * len(names))
    train, searcher, other = [], [], []
    replay = any(r.clock == SIMULATED for r in runs)
    for name in names:
        mine = [r for r in runs if r.strategy == name]
        slots = [min(r.budget.get("max_concurrent_trials", 1), max(len(r.trials), 1)) for r in mine]
        train.append(sum(r.train_s / s for r, s in zip(mine, slots)) / len(mine))
        searched = sum(r.searcher_s or 0.0 for r in mine) / len(mine)
        searcher.append(searched)
        rest = sum(max(r.wallclock_s - r.train_s / s, 0.0) for r, s in zip(mine, slots)) / len(mine)
        other.append(rest if replay else max(rest - searched, 0.0))
    ax.barh(names, train, color="#4c72b0", label="training epochs")
    if replay:
        ax.barh(names, other, left=train, color="#c8c8c8", label="idle workers")
        ends = [t + o for t, o in zip(train, other)]
        ax.barh(names, searcher, left=ends, color="white", edgecolor="#dd8452", hatch="///",
                linewidth=[1.0 if d > 0 else 0.0 for d in searcher],  # nothing timed: no outline either
                label="searcher's decisions (real seconds, not on the simulated clock)")
    else:
        ax.barh(names, searcher, left=train, color="#dd8452", label="searcher's decisions")
        ax.barh(names, other, left=[t + d for t, d in zip(train, searcher)], color="#c8c8c8",
                label="start-up, per-trial overhead")
    clock = "simulated " if replay else ""
    ax.set_xlabel(f"mean {clock}seconds a run")
    ax.set_title(f"{benchmark}: where a run's wall-clock goes", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2)
    return _save(fig, path)


def all_plots(analysis: Analysis, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for bench in sorted(analysis.targets):
        anytime = anytime_plot(analysis, bench, folder / f"anytime_{bench}.png")
        out += [anytime] if anytime else []
        out.append(time_split_plot(analysis, bench, folder / f"{bench}-time-split.png"))
        out.append(best_so_far_plot(analysis, bench, "elapsed_s", folder / f"{bench}-best-vs-wallclock.png"))
        out.append(best_so_far_plot(analysis, bench, "epochs", folder / f"{bench}-best-vs-epochs.png"))
        out.append(accuracy_vs_compute_plot(analysis, bench, folder / f"{bench}-accuracy-vs-compute.png"))
    for om in analysis.omnibus:
        cd = critical_difference_plot(om, folder / f"critical-difference-{om.clock}.png")
        out += [cd] if cd else []
    return out
