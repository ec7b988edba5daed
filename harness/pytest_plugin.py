"""The pytest side of the harness: options, the (benchmark x strategy x seed) parametrization,
the ``tuning_run`` fixture around pytest-benchmark, and the comparison table at the end.

A benchmark module opts in by defining ``PROBLEM`` (a :class:`harness.Problem`) and, optionally,
``STRATEGIES`` (names; default: every registered strategy), and by taking the ``tuning_case``
fixture. Bad input becomes a one-line usage error at collection time, before any training.
"""

from __future__ import annotations

import dataclasses
import pkgutil
from dataclasses import dataclass

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
        config._tuning_gate = _gate_options(config)
    except ConfigError as exc:
        raise _usage_error(exc) from None
    config._tuning_records = []
    config._tuning_config_errors = []


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

    idents = {}
    for item in session.items:
        case = getattr(getattr(item, "callspec", None), "params", {}).get("tuning_case")
        if case is not None:
            p = case.problem
            table = p.table.fingerprint if p.is_replay else None
            budget = {**p.budget.to_dict(), "gpus_per_trial_resolved": None}
            idents[p.name] = identity(p.name, "simulated" if p.is_replay else "real", table, budget)
    try:
        check_like_with_like(list(idents.values()), gate_options[0], where=session.config.getoption("--gate"))
    except GateMismatch as exc:
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
        problem = case_budget(problem, config._tuning_overrides)
        _check_gpu_request(problem.budget, config.getoption("--ray-address"))
        names = list(getattr(metafunc.module, "STRATEGIES", strategies.names()))
        if config._tuning_strategies is not None:
            names = [n for n in names if n in config._tuning_strategies]
        if config._tuning_datasets is not None and problem.name.split("_")[0] not in config._tuning_datasets:
            names = []
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


def _skip_without_data(problem: Problem) -> None:
    """Skip, naming the file or folder to provide, when a problem's data is absent and cannot be downloaded."""
    check = getattr(problem.load_data, "ensure_available", None)
    if check is None:
        return
    from datasets._files import DataMissing

    try:
        check()
    except DataMissing as exc:
        pytest.skip(f"{problem.name}: {exc}")


@pytest.fixture
def tuning_run(request, benchmark):
    """Run a TuningCase once under pytest-benchmark's clock, store its record, return the record."""
    from harness import runner
    from harness.store import ResultStore

    config = request.config

    def run(case: TuningCase):
        _skip_without_data(case.problem)
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
            kwargs={"ray_address": config.getoption("--ray-address"), "progress": progress},
            rounds=1, iterations=1, warmup_rounds=0,
        )
        path = ResultStore(config.getoption("--results-dir")).save(record)
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
    if baseline_path:
        from harness.gate import save_baseline

        terminalreporter.write_line(f"baseline written: {save_baseline(records, baseline_path)}")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Evaluate the gate before the terminal summary prints it; a regression fails the session."""
    config = session.config
    gate_options = getattr(config, "_tuning_gate", None)
    records = getattr(config, "_tuning_records", [])
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
