"""The pytest side of the harness: options, the (benchmark x strategy x seed) parametrization,
the ``tuning_run`` fixture around pytest-benchmark, and the comparison table at the end.

A benchmark module opts in by defining ``PROBLEM`` (a :class:`harness.Problem`) and, optionally,
``STRATEGIES`` (names; default: every registered strategy), ``SEEDS`` (its default number of seeds)
and ``HYPOTHESIS`` (a :class:`harness.Hypothesis` its runs answer), and by taking the ``tuning_case``
fixture. Bad input becomes a one-line usage error at collection time, before any training.
"""

from __future__ import annotations

import dataclasses
import os
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.analysis.gate import DEFAULT_RULES
from harness.analysis.summary import DEFAULT_REFERENCE, DEFAULT_TARGET_FRACTION
from harness.budget import Budget, parse_overrides
from harness.errors import ConfigError
from harness.problem import Problem
from harness.records import REAL, SIMULATED


@dataclass(frozen=True)
class TuningCase:
    problem: Problem
    strategy: object  # strategies.Strategy
    seed: int
    accuracy_bar: float | None = None  # None: halfway from chance to perfect (harness.checks)

    @property
    def id(self) -> str:
        return f"{self.problem.name}-{self.strategy.name}-seed{self.seed}"


DEFAULT_SEEDS = 3  # seeds per strategy when neither --seeds nor the benchmark module's SEEDS says


@dataclass
class TuningSession:
    """Everything the plugin keeps for one pytest session (pytest-benchmark keeps one such object too).

    Options are read and checked once, at configure; runs are collected as cases finish; files are
    written at session finish (``pytest_sessionfinish``); the terminal summary only prints what is here.
    """

    overrides: dict[str, str]
    strategies: list[str] | None  # --strategies, None: all
    datasets: list[str] | None  # --datasets, None: all
    gate: tuple | None  # (baseline, rules) with --gate
    records: list = field(default_factory=list)  # this session's runs, in the order they finished
    config_errors: list[str] = field(default_factory=list)  # bad benchmark modules, reported at collection
    data_checked: dict = field(default_factory=dict)  # loader -> None (fine) or (skip/fail, line), once per session
    interrupted: bool = False  # Ctrl-C: no gate, no baseline; finished runs are kept
    gate_error: str | None = None
    gate_result: object = None
    analysis: object = None  # harness.analysis.summary.Analysis of this session's runs
    written: dict = field(default_factory=dict)  # report files written at session finish
    baseline_written: object = None
    hypotheses: dict = field(default_factory=dict)  # benchmark -> harness.hypothesis.Hypothesis of its module
    hypothesis_files: dict = field(default_factory=dict)  # benchmark -> its module's file (for an xdist controller)


SESSION = pytest.StashKey[TuningSession]()


def tuning_session(config) -> TuningSession | None:
    """The plugin's session object (None before configure, or when configure refused the options)."""
    return config.stash.get(SESSION, None)


def pytest_addoption(parser):
    group = parser.getgroup("tuning", "hyperparameter-tuning benchmarks")
    group.addoption("--seeds", type=int, default=None,
                    help=f"number of seeds per strategy: seeds 0..N-1 (default: the benchmark module's SEEDS, else {DEFAULT_SEEDS})")
    group.addoption(
        "--budget", action="append", default=[], metavar="NAME=VALUE",
        help="override a budget field for every benchmark, e.g. --budget max_epochs=3 (repeatable)",
    )
    group.addoption("--strategies", default=None, help="comma-separated strategy names to run (default: all)")
    group.addoption("--datasets", default=None, help="comma-separated data set names to run (default: all)")
    group.addoption("--results-dir", default="results", help="where run records and tables go (default results/)")
    group.addoption("--accuracy-bar", type=float, default=None,
                    help="best accuracy a run must reach (default: halfway from chance to 1; 0 for smoke runs on toy data)")
    group.addoption("--reference", default=DEFAULT_REFERENCE,
                    help=f"strategy the others are tested against (default {DEFAULT_REFERENCE})")
    group.addoption("--target-fraction", type=float, default=DEFAULT_TARGET_FRACTION,
                    help=f"time-to-target threshold as a fraction of the best accuracy reached (default {DEFAULT_TARGET_FRACTION})")
    group.addoption("--ray-address", default=None, help="an existing Ray cluster (ray start) instead of a local one")
    group.addoption("--gate", default=None, metavar="BASELINE",
                    help="compare this session's runs with a baseline file; fail the session on a significant regression")
    group.addoption("--gate-rule", action="append", default=None, metavar="METRIC:TOL",
                    help="a gate rule, repeatable (default: " + " ".join(DEFAULT_RULES).replace("%", "%%") + ")")
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

    return sorted(m.name for m in pkgutil.iter_modules(datasets.__path__) if not m.name.startswith("_"))


def _usage_error(exc: ConfigError) -> pytest.UsageError:
    return pytest.UsageError(str(exc))


def pytest_configure(config):
    import strategies

    try:
        session = TuningSession(
            overrides=parse_overrides(config.getoption("--budget")),
            strategies=_names(config.getoption("--strategies"), strategies.names(), "strategy"),
            datasets=_names(config.getoption("--datasets"), known_datasets(), "data set"),
            gate=_gate_options(config),
        )
        if config.getoption("--seeds") is not None and config.getoption("--seeds") < 1:
            raise ConfigError(f"--seeds must be >= 1, got {config.getoption('--seeds')}")
        _check_options(config, strategies.names())
    except ConfigError as exc:
        raise _usage_error(exc) from None
    config.stash[SESSION] = session
    config.pluginmanager.register(_InterruptWatch(session), "tuning-interrupt-watch")
    if not is_xdist_worker(config):
        config.pluginmanager.register(_XdistController(session, config.getoption("--results-dir")), "tuning-xdist")


def is_xdist_worker(config) -> bool:
    """A pytest-xdist worker runs cases; its controller reads their runs back and writes everything."""
    return hasattr(config, "workerinput")


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
    from harness.analysis import gate

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
        tuning_session(collector.config).config_errors.append(f"{collector.nodeid}: {report.longrepr}")
    return report


def pytest_collection_finish(session):
    # Bad benchmark input ends the session as a usage error (exit 4), before anything trains.
    tuning = tuning_session(session.config)
    errors = tuning.config_errors + _unrecorded_replay_seeds(session.items)
    if errors:
        raise pytest.UsageError(*errors)
    _refuse_an_unlike_baseline(session, tuning)


def _selected_cases(items):
    """(item, case) of every selected benchmark case; an emptied parametrization holds NOTSET, not a case."""
    for item in items:
        case = getattr(getattr(item, "callspec", None), "params", {}).get("tuning_case")
        if isinstance(case, TuningCase):
            yield item, case


def _unrecorded_replay_seeds(items) -> list[str]:
    """Each selected replay seed must have its own independent repeat in the table (checked after -k selects)."""
    refused = {}
    for item, case in _selected_cases(items):
        if case.problem.is_replay:
            try:
                case.problem.table.repeat_for(case.seed)
            except ConfigError as exc:
                refused.setdefault(case.problem.name, f"{item.nodeid.split('::')[0]}: {exc}")
    return list(refused.values())


def _refuse_an_unlike_baseline(session, tuning: TuningSession) -> None:
    """With --gate, the collected cases must be the baseline's experiment: refused before training (exit 2)."""
    if tuning.gate is None:
        return
    from harness.analysis.gate import GateMismatch, check_like_with_like, identity

    idents = {}
    for _, case in _selected_cases(session.items):
        p = case.problem
        table = p.table.fingerprint if p.is_replay else None
        idents[p.name] = identity(p.name, SIMULATED if p.is_replay else REAL, table, p.budget.to_dict())
    try:
        check_like_with_like(list(idents.values()), tuning.gate[0], where=session.config.getoption("--gate"))
    except GateMismatch as exc:
        tuning.gate_error = str(exc)
        pytest.exit(str(exc), returncode=2)


def pytest_generate_tests(metafunc):
    if "tuning_case" not in metafunc.fixturenames:
        return
    try:
        cases = _cases(metafunc.module, metafunc.config, tuning_session(metafunc.config))
    except ConfigError as exc:
        raise ConfigError(str(exc)) from None  # reported as one line, then as a usage error
    metafunc.parametrize("tuning_case", cases, ids=[c.id for c in cases])


def _cases(module, config, tuning: TuningSession) -> list[TuningCase]:
    """A benchmark module's (strategy x seed) cases under this session's options; ConfigError when it cannot run."""
    import strategies

    problem = getattr(module, "PROBLEM", None)
    if not isinstance(problem, Problem):
        raise ConfigError(f"{module.__name__}: a benchmark module must define PROBLEM = harness.Problem(...)")
    names = list(getattr(module, "STRATEGIES", strategies.names()))
    if tuning.strategies is not None:
        names = [n for n in names if n in tuning.strategies]
    if tuning.datasets is not None and problem.dataset not in tuning.datasets:
        return []  # deselected before its budget is overridden: --datasets restricts --budget to what it selects
    problem = case_budget(problem, tuning.overrides)
    if getattr(module, "HYPOTHESIS", None) is not None:
        tuning.hypotheses[problem.name] = module.HYPOTHESIS
        tuning.hypothesis_files[problem.name] = module.__file__
    _check_gpu_request(problem.budget, config.getoption("--ray-address"))
    seeds = range(config.getoption("--seeds") or getattr(module, "SEEDS", DEFAULT_SEEDS))
    bar = config.getoption("--accuracy-bar")
    cases = []
    for name in names:
        strategy = strategies.get(name)
        strategy.check(problem, problem.budget)
        cases += [TuningCase(problem, strategy, seed, bar) for seed in seeds]
    return cases


def _check_data(problem: Problem, checked: dict) -> None:
    """Verify a problem's data once per session, on the driver, before its first case trains.

    Missing data skips (naming the file or folder to provide); a corrupt file fails the case at once
    with the loader's one line, and every later case of the same data set fails with it, untried.
    """
    if problem.load_data is None:  # a replay reads its table, already checked when it was loaded
        return
    from harness.errors import DataCorrupt, DataMissing

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
    tuning = tuning_session(config)

    def run(case: TuningCase):
        results_dir = config.getoption("--results-dir")
        if config.getoption("--resume"):
            stored = _resumable(case, results_dir)
            if stored is not None:
                benchmark.extra_info.update({**stored.summary(), "resumed": True})
                tuning.records.append(stored)
                return stored
        _check_data(case.problem, tuning.data_checked)
        benchmark.group = case.problem.name
        record = benchmark.pedantic(
            runner.run,
            args=(case.problem, case.strategy, case.seed),
            kwargs={"ray_address": config.getoption("--ray-address"), "progress": _progress_writer(config),
                    "experiment_dir": Path(results_dir) / case.problem.name / "ray"},
            rounds=1, iterations=1, warmup_rounds=0,
        )
        path = ResultStore(results_dir).save(record)
        benchmark.extra_info.update({**record.summary(), "record": str(path)})
        tuning.records.append(record)
        return record

    return run


def _progress_writer(config):
    """Progress lines printed past pytest's output capture, so that a long case shows how far it is."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def progress(line: str) -> None:
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"  {line}")

    return progress


class _XdistController:
    """With ``pytest -n N``, each worker runs its own cases and stores them; at its end it names the files.

    The controller reads those runs back from the store, so that the summary, report, gate and
    baseline cover every worker's runs. Without pytest-xdist the hook is never called.
    """

    def __init__(self, tuning: TuningSession, results_dir: str) -> None:
        self.tuning, self.results_dir = tuning, results_dir

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        from harness.store import ResultStore

        output = getattr(node, "workeroutput", None) or {}
        store = ResultStore(self.results_dir)
        self.tuning.records += [store.load(path) for path in output.get("tuning_runs", [])]
        self.tuning.interrupted = self.tuning.interrupted or bool(output.get("tuning_interrupted"))
        for bench, path in output.get("tuning_hypotheses", {}).items():
            if bench not in self.tuning.hypotheses:
                self.tuning.hypotheses[bench] = _hypothesis_from(path)


def _hypothesis_from(path: str):
    """A benchmark module's HYPOTHESIS, imported by file (pytest imported it by a name only its worker knows)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_tuning_study_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HYPOTHESIS


def _report_to_controller(config, tuning: TuningSession) -> None:
    from harness.store import ResultStore

    store = ResultStore(config.getoption("--results-dir"))
    config.workeroutput["tuning_runs"] = [str(store.run_path(r)) for r in tuning.records]
    config.workeroutput["tuning_interrupted"] = tuning.interrupted
    ran = {r.benchmark for r in tuning.records}
    config.workeroutput["tuning_hypotheses"] = {b: path for b, path in tuning.hypothesis_files.items() if b in ran}


class _InterruptWatch:
    """Notes Ctrl-C (a KeyboardInterrupt), as opposed to pytest.exit, which also ends a session with status 2."""

    def __init__(self, tuning: TuningSession) -> None:
        self.tuning = tuning

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        if excinfo.errisinstance(KeyboardInterrupt):
            self.tuning.interrupted = True


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Write what the session produced: the report of its runs, the gate's verdict, the baseline.

    A regression fails the session. An interrupted session writes the report of its finished runs,
    but is neither gated nor stored as a baseline.
    """
    config = session.config
    tuning = tuning_session(config)
    if tuning is not None and is_xdist_worker(config):
        _report_to_controller(config, tuning)
        return
    if tuning is None or not tuning.records:
        return
    from harness.analysis.summary import analyse
    from harness.report.html import write_report

    # The gate and the baseline first: nothing that goes wrong while writing the report may cost their verdict.
    if not tuning.interrupted and tuning.gate is not None:
        _evaluate_gate(session, tuning)
    if not tuning.interrupted and config.getoption("--save-baseline"):
        from harness.analysis.gate import save_baseline

        tuning.baseline_written = save_baseline(tuning.records, config.getoption("--save-baseline"))
    root = config.getoption("--results-dir")
    tuning.analysis = analyse(tuning.records, config.getoption("--reference"), config.getoption("--target-fraction"))
    tuning.written = write_report(tuning.analysis, root, _answer_hypotheses(tuning, root))


def _answer_hypotheses(tuning: TuningSession, root: str) -> dict[str, str]:
    """Each selected study's answer from this session's runs, written beside them; an error in an answer is shown."""
    found = {}
    for bench, hypothesis in sorted(tuning.hypotheses.items()):
        runs = [r for r in tuning.records if r.benchmark == bench]
        if not runs:
            continue
        try:
            found[bench] = hypothesis.write(runs, root, bench).read_text(encoding="utf-8").strip()
        except Exception as exc:  # a study's own code: its failure must not cost the report
            found[bench] = f"**{hypothesis.question}** not answered: {type(exc).__name__}: {exc}"
    if tuning.interrupted:
        found = {b: f"{text} (from the runs that finished before the interruption)" for b, text in found.items()}
    return found


def _evaluate_gate(session, tuning: TuningSession) -> None:
    from harness.analysis.gate import GateMismatch, evaluate

    baseline, rules = tuning.gate
    try:
        tuning.gate_result = result = evaluate(tuning.records, baseline, rules)
    except GateMismatch as exc:  # checked at collection too; runs can still differ (e.g. the GPU share)
        tuning.gate_error = str(exc)
        session.exitstatus = 2
        return
    if not result.passed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print what pytest_sessionfinish found and wrote; nothing is computed or written here."""
    tuning = tuning_session(config)
    if tuning is None:
        return
    write = terminalreporter.write_line
    if config.getoption("--gate"):
        terminalreporter.write_sep("=", "regression gate (this session against " + config.getoption("--gate") + ")")
        error = tuning.gate_error or ("gate: not evaluated: the session was interrupted" if tuning.interrupted else None)
        terminalreporter.write(f"{error}\n" if error else tuning.gate_result.report() if tuning.gate_result else
                               "gate: no runs in this session to compare\n")
    if tuning.analysis is None:
        return
    from harness.report.tables import short_table

    root = config.getoption("--results-dir")
    terminalreporter.write_sep("=", "verdict (paired by seed against the reference; this session's runs)")
    for line in tuning.analysis.verdict_lines:
        write(line)
    terminalreporter.write_sep("=", "tuning comparison (mean ± sd over seeds; this session's runs)")
    terminalreporter.write(short_table(tuning.analysis))
    plots = sum(1 for name in tuning.written if name.startswith("plots/"))
    write(f"written: {root}/report.md, report.html, summary.csv, {plots} plots; "
          f"per-benchmark comparison.md/.csv and run records under {root}/<benchmark>/")
    replays = [r for r in tuning.records if r.clock == SIMULATED]
    if replays:
        simulated, real = sum(r.wallclock_s for r in replays), sum(r.real_s or 0.0 for r in replays)
        write(f"replays: {len(replays)} runs, {simulated:.0f} simulated seconds in {real:.1f} real seconds "
              f"(simulated/real = {simulated / max(real, 1e-9):.0f}x); their wall-clock figures are simulated seconds")
    if tuning.interrupted:
        write(f"interrupted: {len(tuning.records)} finished runs are stored and reported above; the run in flight was "
              f"discarded. Continue with --resume; no gate was evaluated and no baseline written.")
    elif tuning.baseline_written:
        write(f"baseline written: {tuning.baseline_written}")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    import sys

    if "ray" in sys.modules:
        from harness.live.ray_session import shutdown

        shutdown()
