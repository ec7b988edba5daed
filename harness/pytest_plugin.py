"""The pytest side of the harness: options, the (benchmark x strategy x seed) parametrization,
the ``tuning_run`` fixture around pytest-benchmark, and the comparison table at the end.

A benchmark module opts in by defining ``PROBLEM`` (a :class:`harness.Problem`) and, optionally,
``STRATEGIES`` (names; default: every registered strategy), and by taking the ``tuning_case``
fixture. Bad input becomes a one-line usage error at collection time, before any training.
"""

from __future__ import annotations

import dataclasses
import os
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.budget import Budget, parse_overrides
from harness.errors import ConfigError
from harness.problem import Problem


@dataclass(frozen=True)
class TuningCase:
    problem: Problem
    strategy: object  # strategies.Strategy
    seed: int
    accuracy_bar: float | None = None  # None: halfway from chance to perfect (harness.checks)

    @property
    def id(self) -> str:
        return f"{self.problem.name}-{self.strategy.name}-seed{self.seed}"


def pytest_addoption(parser):
    group = parser.getgroup("tuning", "hyperparameter-tuning benchmarks")
    group.addoption("--seeds", type=int, default=3, help="number of seeds per strategy (default 3): seeds 0..N-1")
    group.addoption(
        "--budget", action="append", default=[], metavar="NAME=VALUE",
        help="override a budget field for every benchmark, e.g. --budget max_epochs=3 (repeatable)",
    )
    group.addoption("--strategies", default=None, help="comma-separated strategy names to run (default: all)")
    group.addoption("--datasets", default=None, help="comma-separated data set names to run (default: all)")
    group.addoption("--results-dir", default="results", help="where run records and tables go (default results/)")
    group.addoption("--accuracy-bar", type=float, default=None,
                    help="best accuracy a run must reach (default: halfway from chance to 1; 0 for smoke runs on toy data)")
    group.addoption("--reference", default="random", help="strategy the others are tested against (default random)")
    group.addoption("--target-fraction", type=float, default=0.98,
                    help="time-to-target threshold as a fraction of the best accuracy reached (default 0.98)")
    group.addoption("--ray-address", default=None, help="an existing Ray cluster (ray start) instead of a local one")
    group.addoption("--gate", default=None, metavar="BASELINE",
                    help="compare this session's runs with a baseline file; fail the session on a significant regression")
    group.addoption("--gate-rule", action="append", default=None, metavar="METRIC:TOL",
                    help="a gate rule, repeatable (default: best_acc:-0.01 compute_saved:-0.05 wallclock_s:+10%%)")
    group.addoption("--save-baseline", default=None, metavar="PATH", help="store this session's runs as a baseline file")
    group.addoption("--resume", action="store_true",
                    help="skip every case whose finished run (same benchmark, strategy, seed, budget and problem or "
                         "table fingerprint) is already in --results-dir, and report that run as if run now")


def _names(text: str | None, known: list[str], what: str) -> list[str] | None:
    if text is None:
        return None
    chosen = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown or not chosen:
        raise ConfigError(f"unknown {what} {', '.join(unknown) or repr(text)}; known: {', '.join(known)}")
    return chosen


def known_datasets() -> list[str]:
    import datasets

    return sorted(m.name for m in pkgutil.iter_modules(datasets.__path__) if not m.name.startswith("_") and m.name != "splits")


def _usage_error(exc: ConfigError) -> pytest.UsageError:
    return pytest.UsageError(str(exc))


def pytest_configure(config):
    import strategies

    try:
        config._tuning_overrides = parse_overrides(config.getoption("--budget"))
        config._tuning_strategies = _names(config.getoption("--strategies"), strategies.names(), "strategy")
        config._tuning_datasets = _names(config.getoption("--datasets"), known_datasets(), "data set")
        if config.getoption("--seeds") < 1:
            raise ConfigError(f"--seeds must be >= 1, got {config.getoption('--seeds')}")
        _check_options(config, strategies.names())
        config._tuning_gate = _gate_options(config)
    except ConfigError as exc:
        raise _usage_error(exc) from None
    config._tuning_data_checked = {}  # loader -> None (fine) or the DataCorrupt line, verified once per session
    config._tuning_interrupted = False
    config.pluginmanager.register(_InterruptWatch(config), "tuning-interrupt-watch")
    config._tuning_records = []
    config._tuning_config_errors = []


def _check_options(config, strategy_names: list[str]) -> None:
    """Every option that could only fail after training, refused now (a one-line usage error, exit 4)."""
    reference = config.getoption("--reference")
    if reference not in strategy_names:
        raise ConfigError(f"--reference {reference!r} is not a strategy; known: {', '.join(strategy_names)}")
    fraction = config.getoption("--target-fraction")
    if not 0 < fraction <= 1:
        raise ConfigError(f"--target-fraction must lie in (0, 1], a fraction of the best accuracy reached; got {fraction}")
    bar = config.getoption("--accuracy-bar")
    if bar is not None and not 0 <= bar <= 1:
        raise ConfigError(f"--accuracy-bar must lie in [0, 1], an accuracy; got {bar}")
    results = Path(config.getoption("--results-dir"))
    existing = next((p for p in [results, *results.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError(f"--results-dir {results}: {existing} is a file, not a folder; run records could not be stored")
    if existing is not None and not os.access(existing, os.W_OK):
        raise ConfigError(f"--results-dir {results}: {existing} is not writable; run records could not be stored")
    address = config.getoption("--ray-address")
    if address:
        _check_reachable(address)


RAY_CONNECT_TIMEOUT_S = 5.0


def _check_reachable(address: str) -> None:
    """Refuse a --ray-address nothing answers at, within seconds (Ray itself retries for minutes)."""
    import socket

    host, sep, port = address.rpartition(":")
    if address.startswith("ray://") or not sep or not port.isdigit():
        raise ConfigError(f"--ray-address {address!r}: expected HOST:PORT of a cluster's head (ray start --head prints it)")
    try:
        with socket.create_connection((host, int(port)), timeout=RAY_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ConfigError(f"--ray-address {address}: nothing answers there ({exc.strerror or exc}); start the cluster's "
                          f"head with `ray start --head` or fix the address") from None


def _gate_options(config):
    """The gate's baseline and rules, checked before anything runs; None without --gate."""
    from harness import gate

    rules = [gate.parse_rule(r) for r in (config.getoption("--gate-rule") or gate.DEFAULT_RULES)]
    path = config.getoption("--gate")
    return (gate.load_baseline(path), rules) if path else None


def case_budget(problem: Problem, overrides: dict[str, str]) -> Problem:
    """``problem`` with its budget overridden; the overridden problem is validated again."""
    if not overrides:
        return problem
    return dataclasses.replace(problem, budget=problem.budget.with_overrides(overrides))


def _check_gpu_request(budget: Budget, ray_address: str | None) -> None:
    if budget.gpus_per_trial and ray_address is None:
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"budget: gpus_per_trial={budget.gpus_per_trial} but this machine has no GPU")


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """A ConfigError raised while importing a benchmark module is reported as its one line, no traceback."""
    report = yield
    crash = getattr(getattr(report.longrepr, "reprcrash", None), "message", "")
    if report.failed and crash.startswith("harness.errors.ConfigError:"):
        report.longrepr = crash.replace("harness.errors.", "", 1)
        collector.config._tuning_config_errors.append(f"{collector.nodeid}: {report.longrepr}")
    return report


def pytest_collection_finish(session):
    # Bad benchmark input ends the session as a usage error (exit 4), before anything trains.
    errors = getattr(session.config, "_tuning_config_errors", [])
    if errors:
        raise pytest.UsageError(*errors)
    _refuse_an_unlike_baseline(session)


def _refuse_an_unlike_baseline(session) -> None:
    """With --gate, the collected cases must be the baseline's experiment: refused before training (exit 2)."""
    gate_options = getattr(session.config, "_tuning_gate", None)
    if gate_options is None:
        return
    from harness.gate import GateMismatch, check_like_with_like, identity
    from harness.records import REAL, SIMULATED

    idents = {}
    for item in session.items:
        case = getattr(getattr(item, "callspec", None), "params", {}).get("tuning_case")
        if case is not None:
            p = case.problem
            table = p.table.fingerprint if p.is_replay else None
            idents[p.name] = identity(p.name, SIMULATED if p.is_replay else REAL, table, p.budget.to_dict())
    try:
        check_like_with_like(list(idents.values()), gate_options[0], where=session.config.getoption("--gate"))
    except GateMismatch as exc:
        session.config._tuning_gate_error = str(exc)
        pytest.exit(str(exc), returncode=2)


def pytest_generate_tests(metafunc):
    if "tuning_case" not in metafunc.fixturenames:
        return
    import strategies

    config = metafunc.config
    problem = getattr(metafunc.module, "PROBLEM", None)
    try:
        if not isinstance(problem, Problem):
            raise ConfigError(f"{metafunc.module.__name__}: a benchmark module must define PROBLEM = harness.Problem(...)")
        names = list(getattr(metafunc.module, "STRATEGIES", strategies.names()))
        if config._tuning_strategies is not None:
            names = [n for n in names if n in config._tuning_strategies]
        if config._tuning_datasets is not None and problem.dataset not in config._tuning_datasets:
            # Deselected before its budget is overridden: --datasets restricts --budget to what it selects.
            metafunc.parametrize("tuning_case", [], ids=[])
            return
        problem = case_budget(problem, config._tuning_overrides)
        _check_gpu_request(problem.budget, config.getoption("--ray-address"))
        seeds = range(config.getoption("--seeds"))
        if problem.is_replay and names:
            for seed in seeds:
                problem.table.repeat_for(seed)  # each seed replays its own independent repeat, or is refused
        cases = []
        for name in names:
            strategy = strategies.get(name)
            strategy.check(problem, problem.budget)
            bar = config.getoption("--accuracy-bar")
            cases += [TuningCase(problem, strategy, seed, bar) for seed in seeds]
    except ConfigError as exc:
        raise ConfigError(str(exc)) from None  # reported as one line, then as a usage error
    metafunc.parametrize("tuning_case", cases, ids=[c.id for c in cases])


def _check_data(problem: Problem, checked: dict) -> None:
    """Verify a problem's data once per session, on the driver, before its first case trains.

    Missing data skips (naming the file or folder to provide); a corrupt file fails the case at once
    with the loader's one line, and every later case of the same data set fails with it, untried.
    """
    if problem.load_data is None:  # a replay reads its table, already checked when it was loaded
        return
    from datasets._files import DataCorrupt, DataMissing

    key = repr(problem.load_data)
    if key not in checked:
        try:
            check = getattr(problem.load_data, "ensure_available", None)
            if check is not None:
                check()
            problem.load_data(0)  # decodes (once, into the cache) and reads what every trial will read
            checked[key] = None
        except DataMissing as exc:
            checked[key] = ("skip", f"{problem.name}: {exc}")
        except DataCorrupt as exc:
            checked[key] = ("fail", f"{problem.name}: DataCorrupt: {exc}")
    outcome = checked[key]
    if outcome is not None:
        kind, message = outcome
        if kind == "skip":
            pytest.skip(message)
        pytest.fail(message, pytrace=False)


def _resumable(case: TuningCase, results_dir: str):
    """The newest stored run of this case, when --resume may stand it in for a new one."""
    from harness.store import ResultStore

    try:
        runs = ResultStore(results_dir).load_runs(case.problem.name)
    except ValueError:
        return None
    fingerprint = case.problem.fingerprint
    for record in reversed(runs):
        if (record.strategy, record.seed) == (case.strategy.name, case.seed) and \
                record.provenance.get("problem_fingerprint") == fingerprint:
            return record
    return None


@pytest.fixture
def tuning_run(request, benchmark):
    """Run a TuningCase once under pytest-benchmark's clock, store its record, return the record."""
    from harness import runner
    from harness.store import ResultStore

    config = request.config

    def run(case: TuningCase):
        results_dir = config.getoption("--results-dir")
        if config.getoption("--resume"):
            stored = _resumable(case, results_dir)
            if stored is not None:
                benchmark.extra_info.update({**stored.summary(), "resumed": True})
                config._tuning_records.append(stored)
                return stored
        _check_data(case.problem, config._tuning_data_checked)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")

        def progress(line: str) -> None:
            if reporter is not None and capture is not None:
                with capture.global_and_fixture_disabled():
                    reporter.write_line(f"  {line}")

        benchmark.group = case.problem.name
        record = benchmark.pedantic(
            runner.run,
            args=(case.problem, case.strategy, case.seed),
            kwargs={"ray_address": config.getoption("--ray-address"), "progress": progress,
                    "experiment_dir": Path(results_dir) / case.problem.name / "ray"},
            rounds=1, iterations=1, warmup_rounds=0,
        )
        path = ResultStore(results_dir).save(record)
        benchmark.extra_info.update({**record.summary(), "record": str(path)})
        config._tuning_records.append(record)
        return record

    return run


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    records = getattr(config, "_tuning_records", [])
    gate_result = getattr(config, "_tuning_gate_result", None)
    if config.getoption("--gate"):
        terminalreporter.write_sep("=", "regression gate (this session against " + config.getoption("--gate") + ")")
        error = getattr(config, "_tuning_gate_error", None)
        if error is None and getattr(config, "_tuning_interrupted", False):
            error = "gate: not evaluated: the session was interrupted"
        terminalreporter.write(f"{error}\n" if error else gate_result.report() if gate_result else
                               "gate: no runs in this session to compare\n")
    if not records:
        return
    from harness import compare
    from harness.analysis import analyse
    from harness.report import short_table, write_report
    from harness.store import ResultStore

    root = config.getoption("--results-dir")
    store = ResultStore(root)
    for benchmark in sorted({r.benchmark for r in records}):
        table = compare.rows([r for r in records if r.benchmark == benchmark])
        store.write_table(benchmark, "comparison.md", compare.to_markdown(table))
        store.write_table(benchmark, "comparison.csv", compare.to_csv(table))
    analysis = analyse(records, config.getoption("--reference"), config.getoption("--target-fraction"))
    written = write_report(analysis, root)
    terminalreporter.write_sep("=", "tuning comparison (mean ± sd over seeds; this session's runs)")
    terminalreporter.write(short_table(analysis))
    terminalreporter.write_line(
        f"written: {root}/report.md, report.html, summary.csv, {len(written) - 3} plots; "
        f"per-benchmark comparison.md/.csv and run records under {root}/<benchmark>/"
    )
    replays = [r for r in records if r.clock == "simulated"]
    if replays:
        simulated, real = sum(r.wallclock_s for r in replays), sum(r.real_s or 0.0 for r in replays)
        terminalreporter.write_line(
            f"replays: {len(replays)} runs, {simulated:.0f} simulated seconds in {real:.1f} real seconds "
            f"(simulated/real = {simulated / max(real, 1e-9):.0f}x); their wall-clock figures are simulated seconds"
        )
    baseline_path = config.getoption("--save-baseline")
    if getattr(config, "_tuning_interrupted", False):
        terminalreporter.write_line(
            f"interrupted: {len(records)} finished runs are stored and reported above; the run in flight was "
            f"discarded. Continue with --resume; no gate was evaluated and no baseline written.")
        return
    if baseline_path:
        from harness.gate import save_baseline

        terminalreporter.write_line(f"baseline written: {save_baseline(records, baseline_path)}")


class _InterruptWatch:
    """Notes Ctrl-C (a KeyboardInterrupt), as opposed to pytest.exit, which also ends a session with status 2."""

    def __init__(self, config) -> None:
        self.config = config

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        if excinfo.errisinstance(KeyboardInterrupt):
            self.config._tuning_interrupted = True


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Evaluate the gate before the terminal summary prints it; a regression fails the session."""
    config = session.config
    gate_options = getattr(config, "_tuning_gate", None)
    records = getattr(config, "_tuning_records", [])
    if getattr(config, "_tuning_interrupted", False):
        return  # a partial session is neither gated nor stored as a baseline; its finished runs are kept
    if gate_options is not None and records:
        from harness.gate import GateMismatch, evaluate

        baseline, rules = gate_options
        try:
            config._tuning_gate_result = result = evaluate(records, baseline, rules)
        except GateMismatch as exc:  # checked at collection too; runs can still differ (e.g. the GPU share)
            config._tuning_gate_error = str(exc)
            session.exitstatus = 2
            return
        if not result.passed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    import sys

    if "ray" in sys.modules:
        from harness.ray_session import shutdown

        shutdown()
