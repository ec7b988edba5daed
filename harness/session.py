"""The one orchestrator: a tuning session selects cases, runs them, and finishes (gate, baseline, analysis,
report), whichever front door it came through.

The pytest plugin (``harness.fronts.pytest_plugin``), the command line (``python -m harness``), the
table recorder (``record-table``) and the MNIST-1D paper study all drive a :class:`Session`. It is built
from plain :class:`Options` (no pytest config), so every step can be called and tested without pytest.
Bad input raises :class:`ConfigError` before anything trains.
"""

from __future__ import annotations

import dataclasses
import os
import pkgutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from harness.core.budget import parse_overrides
from harness.core.errors import ConfigError, DataCorrupt, DataMissing, ResultsUnwritable, SessionHalted
from harness.core.problem import BaseProblem, Problem
from harness.core.records import RunRecord
from harness.core.store import ResultStore
from harness.core.study import Hypothesis
from harness.evaluate.stats import ALPHA, seeds_needed
from harness.evaluate.summary import DEFAULT_REFERENCE, DEFAULT_TARGET_FRACTION, Analysis, analyse
from harness.evaluate.verdict import verdict
from harness.gate import DEFAULT_RULES, GateMismatch, GateResult, check_like_with_like, identity, load_baseline, parse_rule
from harness.gate.baseline import save_baseline

DEFAULT_SEEDS = 3  # seeds per strategy when neither the options nor the benchmark module's SEEDS say
RAY_CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Options:
    """What a session is asked to do; every front door fills these from its own flags."""

    seeds: int | None = None  # seeds 0..N-1; None: the benchmark module's SEEDS, else DEFAULT_SEEDS
    budget: tuple[str, ...] = ()  # NAME=VALUE overrides of every selected benchmark's budget
    strategies: str | None = None  # comma-separated names; None: all
    datasets: str | None = None  # comma-separated names; None: all
    results_dir: str = "results"
    accuracy_bar: float | None = None  # None: halfway from chance to perfect (harness.run.invariants)
    reference: str = DEFAULT_REFERENCE
    target_fraction: float = DEFAULT_TARGET_FRACTION
    target: float | None = None  # an absolute target accuracy instead of the fraction
    alpha: float = ALPHA
    ray_address: str | None = None
    gate: str | None = None  # a baseline file to compare with
    gate_rules: tuple[str, ...] | None = None
    save_baseline: str | None = None
    resume: bool = False


@dataclass(frozen=True)
class TuningCase:
    problem: Problem
    strategy: object  # strategies.Strategy
    seed: int
    accuracy_bar: float | None = None  # None: halfway from chance to perfect (harness.run.invariants)

    @property
    def id(self) -> str:
        return f"{self.problem.name}-{self.strategy.name}-seed{self.seed}"


@dataclass
class Finished:
    """What :meth:`Session.finish` decided and wrote."""

    analysis: Analysis | None = None
    verdict_lines: list[str] = field(default_factory=list)
    written: dict = field(default_factory=dict)
    gate: GateResult | None = None
    gate_error: str | None = None
    baseline: Path | None = None

    @property
    def failed(self) -> bool:
        return self.gate_error is not None or (self.gate is not None and not self.gate.passed)


def _names(text: str | None, known: list[str] | None, what: str) -> list[str] | None:
    if text is None:
        return None
    chosen = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in chosen if known is not None and n not in known]
    if unknown or not chosen:
        raise ConfigError(f"unknown {what} {', '.join(unknown) or repr(text)}; known: {', '.join(known)}")
    return chosen


class Session:
    """One session's options, runs and results. Raises ConfigError at construction on bad options."""

    def __init__(self, options: Options) -> None:
        import strategies

        self.options = options
        self.overrides = parse_overrides(list(options.budget))
        self.strategies = _names(options.strategies, strategies.names(), "strategy")
        # Data sets are the collected problems' own names (a problem may live in any repository), so a --datasets
        # name is checked once collection has seen them all (refuse_before_training).
        self.datasets = _names(options.datasets, None, "data set")
        self.seen_datasets: set[str] = set()
        self._check(options, strategies.names())
        rules = [parse_rule(r) for r in (options.gate_rules or DEFAULT_RULES)]
        self.gate = (load_baseline(options.gate), rules) if options.gate else None
        self.store = ResultStore(options.results_dir)
        self.records: list[RunRecord] = []  # this session's runs, in the order they finished
        self.studies: dict[str, Hypothesis] = {}  # benchmark -> the HYPOTHESIS of its module
        self.interrupted = False  # Ctrl-C: no gate, no baseline; finished runs are kept
        self.halted: SessionHalted | None = None  # a fault that ended it (the head lost, the results folder full)
        self._data_checked: dict = {}  # loader -> None (fine) or (skip/fail, line), once per session

    # -- options ------------------------------------------------------------------------------------
    @staticmethod
    def _check(o: Options, strategy_names: list[str]) -> None:
        """Every option that could only fail after training, refused now."""
        if o.seeds is not None and o.seeds < 1:
            raise ConfigError(f"--seeds must be >= 1, got {o.seeds}")
        if o.reference not in strategy_names:
            raise ConfigError(f"--reference {o.reference!r} is not a strategy; known: {', '.join(strategy_names)}")
        if not 0 < o.target_fraction <= 1:
            raise ConfigError(f"--target-fraction must lie in (0, 1], a fraction of the best accuracy reached; "
                              f"got {o.target_fraction}")
        if o.accuracy_bar is not None and not 0 <= o.accuracy_bar <= 1:
            raise ConfigError(f"--accuracy-bar must lie in [0, 1], an accuracy; got {o.accuracy_bar}")
        results = Path(o.results_dir)
        existing = next((p for p in [results, *results.parents] if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise ConfigError(f"--results-dir {results}: {existing} is a file, not a folder; run records could not be stored")
        if existing is not None and not os.access(existing, os.W_OK):
            raise ConfigError(f"--results-dir {results}: {existing} is not writable; run records could not be stored")
        if o.ray_address:
            _check_reachable(o.ray_address)

    # -- selecting cases ----------------------------------------------------------------------------
    def cases(self, module) -> list[TuningCase]:
        """A benchmark module's (strategy x seed) cases under this session's options; ConfigError when it cannot run.

        The module defines ``PROBLEM`` and, optionally, ``STRATEGIES``, ``SEEDS`` and ``HYPOTHESIS``.
        """
        import strategies

        problem = getattr(module, "PROBLEM", None)
        if not isinstance(problem, BaseProblem):
            raise ConfigError(f"{module.__name__}: a benchmark module must define PROBLEM = harness.Problem(...)")
        names = list(getattr(module, "STRATEGIES", strategies.names()))
        if self.strategies is not None:
            names = [n for n in names if n in self.strategies]
        self.seen_datasets.add(problem.dataset)
        if self.datasets is not None and problem.dataset not in self.datasets:
            return []  # deselected before its budget is overridden: --datasets restricts --budget to what it selects
        if self.overrides:
            problem = dataclasses.replace(problem, budget=problem.budget.with_overrides(self.overrides))
        if getattr(module, "HYPOTHESIS", None) is not None:
            self.studies[problem.name] = module.HYPOTHESIS
        _check_gpu_request(problem, self.options.ray_address)
        seeds = range(self.options.seeds or getattr(module, "SEEDS", DEFAULT_SEEDS))
        cases = []
        for name in names:
            strategy = strategies.get(name)
            strategy.check(problem, problem.budget)
            cases += [TuningCase(problem, strategy, seed, self.options.accuracy_bar) for seed in seeds]
        return cases

    def power_notes(self, cases: Iterable[TuningCase]) -> list[str]:
        """Before training: whether the selected seeds could ever make the verdict's paired tests significant.

        The verdict tests, per benchmark, each strategy against the reference twice (held-out test accuracy, compute
        to match) and all strategies once (Friedman), in one Holm family; an exact signed-rank test on n seeds cannot
        go below 2/2^n. One line per benchmark whose seeds cannot reach Holm's first step.
        """
        strategies, seeds = {}, {}
        for case in cases:
            strategies.setdefault(case.problem.name, set()).add(case.strategy.name)
            seeds.setdefault(case.problem.name, set()).add(case.seed)
        claims = sum(2 * (len(s) - 1) + (len(s) >= 3) for s in strategies.values() if len(s) > 1)
        if not claims:
            return []
        needed = seeds_needed(claims, self.options.alpha)
        return [f"{bench}: {len(seeds[bench])} seeds cannot make any paired comparison significant (the verdict tests "
                f"{claims} claims in one Holm family, which needs >= {needed} seeds); its estimates and intervals will "
                f"still be given" for bench in sorted(strategies) if len(strategies[bench]) > 1 and len(seeds[bench]) < needed]

    def refuse_before_training(self, cases: Iterable[tuple[str, TuningCase]]) -> list[str]:
        """Problems of the selected (where, case) pairs that only training would otherwise reveal, as lines.

        Each selected replay seed needs its own independent repeat in the table. With a gate, the cases
        must be the baseline's experiment: that raises :class:`GateMismatch`.
        """
        cases = list(cases)
        refused = {}
        unknown = [d for d in self.datasets or () if d not in self.seen_datasets]
        if unknown:
            refused["--datasets"] = (f"unknown data set {', '.join(unknown)}; known: "
                                     f"{', '.join(sorted(self.seen_datasets)) or 'none (no benchmark was collected)'}")
        refused.update(_not_importable_by_workers(cases))
        for where, case in cases:
            if case.problem.is_replay:
                try:
                    case.problem.table.repeat_for(case.seed)
                except ConfigError as exc:
                    refused.setdefault(case.problem.name, f"{where}: {exc}")
        if self.gate is not None:
            idents = {c.problem.name: identity(c.problem.name, c.problem.clock, c.problem.table_fingerprint,
                                               c.problem.budget.to_dict()) for _, c in cases}
            check_like_with_like(list(idents.values()), self.gate[0], where=self.options.gate)
        return list(refused.values())

    # -- running ------------------------------------------------------------------------------------
    def check_data(self, problem: Problem) -> tuple[str, str] | None:
        """Verify a problem's data once per session, before its first case trains: None, or (skip|fail, line).

        Missing data skips (naming the file or folder to provide); a corrupt file fails the case at once
        with the loader's one line, and every later case of the same data set fails with it, untried.
        """
        if problem.is_replay or not hasattr(problem, "load_data"):  # a replay's table was checked when loaded;
            return None  # a training function of your own reads its data itself
        key = repr(problem.load_data)
        if key not in self._data_checked:
            try:
                check = getattr(problem.load_data, "ensure_available", None)
                if check is not None:
                    check()
                problem.load_data(0)  # decodes (once, into the cache) and reads what every trial will read
                self._data_checked[key] = None
            except DataMissing as exc:
                self._data_checked[key] = ("skip", f"{problem.name}: {exc}")
            except DataCorrupt as exc:
                self._data_checked[key] = ("fail", f"{problem.name}: DataCorrupt: {exc}")
        return self._data_checked[key]

    def resumable(self, case: TuningCase) -> RunRecord | None:
        """The newest stored run of this case, when resuming may stand it in for a new one: never a run whose
        every trial failed (its cause may be fixed since; it stays stored as data)."""
        try:
            runs = self.store.load_runs(case.problem.name)
        except ValueError:
            return None
        for record in reversed(runs):
            if (record.strategy, record.seed) == (case.strategy.name, case.seed) and \
                    record.problem_fingerprint == case.problem.fingerprint and record.best_val_acc is not None:
                return record
        return None


    def run(self, case: TuningCase, *, progress: Callable[[str], None] | None = None,
            timed: Callable | None = None, relabel: Callable[[RunRecord], RunRecord] | None = None,
            budget=None, before_training: Callable[[], None] | None = None) -> tuple[RunRecord, Path | None]:
        """Run one case (or, when resuming, take its stored run), store it, and keep it for the finish.

        ``timed(fn, *args, **kwargs)`` wraps the run in a caller's clock (pytest-benchmark's); ``relabel``
        rewrites the record before it is stored (a table sweep files itself under ``<name>_sweep``);
        ``before_training()`` runs only when the case will train (not resumed), e.g. the plugin's data check.
        Returns the record and the path it was stored at (None when it was resumed).
        """
        from harness.run import runner

        if self.options.resume:
            stored = self.resumable(case)
            if stored is not None:
                self.records.append(stored)
                return stored, None
        if before_training is not None:
            before_training()
        kwargs = {"ray_address": self.options.ray_address, "progress": progress,
                  "experiment_dir": Path(self.options.results_dir) / case.problem.name / "ray"}
        args = (case.problem, case.strategy, case.seed, budget)
        try:
            record = timed(runner.run, *args, **kwargs) if timed else runner.run(*args, **kwargs)
        except SessionHalted as exc:  # the cluster's head lost: every later case would fail alike
            self.halt(exc)
            raise
        record = relabel(record) if relabel else record
        try:
            path = self.store.save(record)
        except OSError as exc:  # a full or vanished folder: atomic_file left no part of the record behind
            self.halt(ResultsUnwritable(
                f"--results-dir {self.options.results_dir}: {exc.strerror or exc} writing a run record "
                f"({self.store.run_path(record)}); the run was not stored, the finished ones were: free the folder "
                f"and run again with --resume"))
            raise self.halted from None
        self.records.append(record)
        return record, path

    def halt(self, why: SessionHalted) -> None:
        """The session stops here: finished runs stay stored and reported, as after Ctrl-C (no gate, no baseline)."""
        self.halted = why
        self.interrupted = True

    def add_stored(self, paths: Iterable[str]) -> None:
        """Runs another process stored (a pytest-xdist worker's), read back for this session's finish."""
        self.records += [self.store.load(path) for path in paths]

    # -- finishing ----------------------------------------------------------------------------------
    def finish(self, *, report: bool = True) -> Finished:
        """Gate, baseline, analysis, verdict and report files of this session's runs.

        The gate and the baseline come first: nothing that goes wrong while writing the report may cost
        their verdict. An interrupted session writes the report of its finished runs, but is neither
        gated nor stored as a baseline.
        """
        done = Finished()
        if not self.records:
            return done
        report = report and not isinstance(self.halted, ResultsUnwritable)  # it could not be written either
        if not self.interrupted and self.gate is not None:
            baseline, rules = self.gate
            from harness.gate import evaluate

            try:
                done.gate = evaluate(self.records, baseline, rules, self.options.alpha)
            except GateMismatch as exc:  # checked before training too; runs can still differ (e.g. the GPU share)
                done.gate_error = str(exc)
        if not self.interrupted and self.options.save_baseline:
            done.baseline = save_baseline(self.records, self.options.save_baseline)
        if report:
            o = self.options
            done.analysis = analyse(self.records, o.reference, o.target_fraction, o.target, o.alpha)
            done.verdict_lines = verdict(done.analysis)
            from harness.report.document import write_report

            done.written = write_report(done.analysis, o.results_dir, self._answer_studies(),
                                        done.verdict_lines)
        return done

    def _answer_studies(self) -> dict[str, str] | None:
        """Each selected study's answer from this session's runs, written beside them; an error in an answer is shown.

        None when this session knows no study (``python -m harness report``): the report then shows the answers last
        written into the results folder.
        """
        if not self.studies:
            return None
        found = {}
        for bench, study in sorted(self.studies.items()):
            runs = [r for r in self.records if r.benchmark == bench]
            if not runs:
                continue
            try:
                found[bench] = study.write(runs, self.options.results_dir, bench).read_text(encoding="utf-8").strip()
            except Exception as exc:  # a study's own code: its failure must not cost the report
                found[bench] = f"**{study.question}** not answered: {type(exc).__name__}: {exc}"
        if self.interrupted:
            found = {b: f"{text} (from the runs that finished before the interruption)" for b, text in found.items()}
        return found


def _check_reachable(address: str) -> None:
    """Refuse a ray address nothing answers at, within seconds (Ray itself retries for minutes)."""
    host, sep, port = address.rpartition(":")
    if address.startswith("ray://") or not sep or not port.isdigit():
        raise ConfigError(f"--ray-address {address!r}: expected HOST:PORT of a cluster's head (ray start --head prints it)")
    try:
        with socket.create_connection((host, int(port)), timeout=RAY_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ConfigError(f"--ray-address {address}: nothing answers there ({exc.strerror or exc}); start the cluster's "
                          f"head with `ray start --head` or fix the address") from None


def _check_gpu_request(problem: Problem, ray_address: str | None) -> None:
    if problem.budget.gpus_per_trial and ray_address is None:
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"budget: gpus_per_trial={problem.budget.gpus_per_trial} but this machine has no GPU")


def all_failed(record: RunRecord) -> str | None:
    """One line when no trial of the run produced a result: how many trials, and the first one's error."""
    if record.best_val_acc is not None:
        return None
    first = next((t.error for t in record.trials if t.error), "no error was recorded")
    return f"all {len(record.trials)} trials failed; the first: {first}"


# What a worker imports by name: the live problem's loader and model builder (a loader object: its class).
WORKER_IMPORT_CHECK = """
import importlib, json, sys
failed = {}
for where, module, qualname in json.loads(sys.argv[1]):
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception as exc:
        failed.setdefault(where, f"{module}.{qualname} cannot be imported ({type(exc).__name__}: {exc})")
print(json.dumps(failed))
"""


def _not_importable_by_workers(cases: list[tuple[str, TuningCase]]) -> dict[str, str]:
    """Refuse, before any trial starts, a loader or model builder that Ray's workers could not import.

    Workers import them by module name, in processes of their own: the harness's path, the driver's working folder,
    but not the folders pytest put on the driver's own path (a benchmark file's folder). Checked the same way, in one
    clean process started in the driver's working folder, for every selected problem.
    """
    import json
    import subprocess
    import sys

    from harness.run.ray_session import worker_pythonpath

    targets = {}
    for where, case in cases:
        for role, fn in case.problem.worker_functions().items():
            named = fn if hasattr(fn, "__qualname__") else type(fn)
            if "<locals>" in named.__qualname__ or named.__module__ == "__main__":
                targets.setdefault(where, (where, "__main__", named.__qualname__))
                continue
            targets.setdefault((where, role), (where, named.__module__, named.__qualname__))
    if not targets:
        return {}
    env = {**os.environ, "PYTHONPATH": worker_pythonpath()}
    done = subprocess.run([sys.executable, "-c", WORKER_IMPORT_CHECK, json.dumps(list(targets.values()))], env=env,
                          cwd=os.getcwd(), capture_output=True, text=True, timeout=300)
    try:
        failed = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"workers": f"could not check what Ray's workers can import: {done.stderr.strip()[-500:]}"}
    return {where: (f"{where}: {why}; Ray's workers import a problem's loader and model builder (or its training "
                    f"function) by module name, so they must live in an importable module (a package of your "
                    f"repository, not a test_*.py file or a function defined inside another)")
            for where, why in failed.items()}
