"""The pytest front door: hooks that hand pytest's options, collection and fixture to a :class:`harness.session.Session`.

A benchmark module opts in by defining ``PROBLEM`` (a :class:`harness.Problem`) and, optionally,
``STRATEGIES`` (names; default: every registered strategy), ``SEEDS`` (its default number of seeds)
and ``HYPOTHESIS`` (a :class:`harness.Hypothesis` its runs answer), and by taking the ``tuning_case``
and ``tuning_run`` fixtures. Bad input becomes a one-line usage error at collection time, before any training.
"""

from __future__ import annotations

import sys

import pytest

from harness.core.errors import ConfigError, SessionHalted
from harness.evaluate.summary import DEFAULT_REFERENCE, DEFAULT_TARGET_FRACTION
from harness.fronts import pytest_xdist
from harness.gate import DEFAULT_RULES, GateMismatch
from harness.report import terminal
from harness.session import DEFAULT_SEEDS, Options, Session, TuningCase, all_failed

SESSION = pytest.StashKey[Session]()
FINISHED = pytest.StashKey[object]()


def tuning_session(config) -> Session | None:
    """The plugin's session (None before configure, or when configure refused the options)."""
    return config.stash.get(SESSION, None)


def pytest_addoption(parser):
    import strategies
    from harness.core.budget import Budget

    group = parser.getgroup("tuning", "hyperparameter-tuning benchmarks")
    group.addoption("--seeds", type=int, default=None,
                    help=f"number of seeds per strategy: seeds 0..N-1 (default: the benchmark module's SEEDS, else {DEFAULT_SEEDS})")
    group.addoption("--budget", action="append", default=[], metavar="NAME=VALUE",
                    help="override a budget field of every selected benchmark, e.g. --budget max_epochs=3 (repeatable); "
                         f"fields: {', '.join(Budget.field_names())}")
    group.addoption("--strategies", default=None,
                    help=f"comma-separated strategy names to run (default: all): {', '.join(strategies.names())}")
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


def pytest_configure(config):
    # Your repository's root on the driver's path, as it is on Ray's workers (their working folder): a benchmark's
    # `from mypkg import train` works with a plain `pytest benchmarks`, not only `python -m pytest`.
    root = str(config.invocation_params.dir)
    if root not in sys.path:
        sys.path.insert(0, root)
    o = config.getoption
    try:
        session = Session(Options(
            seeds=o("--seeds"), budget=tuple(o("--budget")), strategies=o("--strategies"), datasets=o("--datasets"),
            results_dir=o("--results-dir"), accuracy_bar=o("--accuracy-bar"), reference=o("--reference"),
            target_fraction=o("--target-fraction"), ray_address=o("--ray-address"), gate=o("--gate"),
            gate_rules=tuple(o("--gate-rule")) if o("--gate-rule") else None, save_baseline=o("--save-baseline"),
            resume=o("--resume"),
        ))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SESSION] = session
    config.stash[COLLECT_ERRORS] = []
    config.pluginmanager.register(_InterruptWatch(session), "tuning-interrupt-watch")
    if not pytest_xdist.is_worker(config):
        config.pluginmanager.register(pytest_xdist.Controller(session), "tuning-xdist")


COLLECT_ERRORS = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """A ConfigError raised while importing a benchmark module is reported as its one line, no traceback."""
    report = yield
    crash = getattr(getattr(report.longrepr, "reprcrash", None), "message", "")
    if report.failed and crash.startswith("harness.core.errors.ConfigError:"):
        report.longrepr = crash.replace("harness.core.errors.", "", 1)
        collector.config.stash[COLLECT_ERRORS].append(f"{collector.nodeid}: {report.longrepr}")
    return report


def pytest_generate_tests(metafunc):
    if "tuning_case" not in metafunc.fixturenames:
        return
    session = tuning_session(metafunc.config)
    try:
        cases = session.cases(metafunc.module)
    except ConfigError as exc:
        raise ConfigError(str(exc)) from None  # reported as one line, then as a usage error
    if cases and getattr(metafunc.module, "HYPOTHESIS", None) is not None:
        pytest_xdist.note_study(metafunc.config, cases[0].problem.name, metafunc.module.__file__)
    metafunc.parametrize("tuning_case", cases, ids=[c.id for c in cases])


def _selected_cases(items):
    """(test file, case) of every selected benchmark case; an emptied parametrization holds NOTSET, not a case."""
    for item in items:
        case = getattr(getattr(item, "callspec", None), "params", {}).get("tuning_case")
        if isinstance(case, TuningCase):
            yield item.nodeid.split("::")[0], case


def pytest_collection_finish(session):
    # Bad benchmark input ends the session as a usage error (exit 4), before anything trains; checked after -k selects.
    tuning = tuning_session(session.config)
    try:
        errors = session.config.stash[COLLECT_ERRORS] + tuning.refuse_before_training(_selected_cases(session.items))
    except GateMismatch as exc:
        session.config.stash[FINISHED] = str(exc)
        pytest.exit(str(exc), returncode=2)
    if errors:
        raise pytest.UsageError(*errors)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not pytest_xdist.is_worker(session.config):
        for line in tuning.power_notes(case for _, case in _selected_cases(session.items)):
            reporter.write_line(f"tuning: {line}")


@pytest.fixture
def tuning_run(request, benchmark):
    """Run a TuningCase once under pytest-benchmark's clock, store its record, return the record."""
    session = tuning_session(request.config)

    def timed(fn, *args, **kwargs):
        return benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=1, iterations=1, warmup_rounds=0)

    def run(case: TuningCase):
        def check_data():  # before a case trains (a resumed one reads no data): missing skips, corrupt fails
            outcome = session.check_data(case.problem)
            if outcome is not None:
                kind, message = outcome
                pytest.skip(message) if kind == "skip" else pytest.fail(message, pytrace=False)

        benchmark.group = case.problem.name
        try:
            record, path = session.run(case, progress=_progress_writer(request.config), timed=timed,
                                       before_training=check_data)
        except SessionHalted as exc:  # the head lost, the results folder full: one line, exit 2, like Ctrl-C
            pytest.exit(str(exc), returncode=pytest.ExitCode.INTERRUPTED)
        benchmark.extra_info.update({**record.summary(), **({"record": str(path)} if path else {"resumed": True})})
        failure = all_failed(record)
        if failure:  # stored as data, but the case fails with the cause, not with an accuracy of None
            pytest.fail(f"{case.id}: {failure}", pytrace=False)
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


class _InterruptWatch:
    """Notes Ctrl-C (a KeyboardInterrupt), as opposed to pytest.exit, which also ends a session with status 2."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        if excinfo.errisinstance(KeyboardInterrupt):
            self.session.interrupted = True


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """The session finishes (gate, baseline, report); a regression or an unlike baseline fails the pytest session."""
    config = session.config
    tuning = tuning_session(config)
    if tuning is None:
        return
    if pytest_xdist.is_worker(config):
        pytest_xdist.report_to_controller(config, tuning)
        return
    if isinstance(config.stash.get(FINISHED, None), str):
        return  # refused before training (an unlike baseline): nothing ran
    finished = tuning.finish()
    config.stash[FINISHED] = finished
    if finished.gate_error:
        session.exitstatus = 2
    elif finished.failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print what the session's finish found and wrote; nothing is computed or written here."""
    tuning, finished = tuning_session(config), config.stash.get(FINISHED, None)
    if tuning is None or finished is None:
        return
    if tuning.options.gate:
        terminalreporter.write_sep("=", f"regression gate (this session against {tuning.options.gate})")
        refused = isinstance(finished, str)  # an unlike baseline, refused before training
        terminalreporter.write(f"{finished}\n" if refused else terminal.gate_text(finished, tuning.interrupted))
    if isinstance(finished, str):
        return
    for title, text in terminal.summary_sections(finished, tuning.records, tuning.options.results_dir, tuning.interrupted):
        if title:
            terminalreporter.write_sep("=", title)
        terminalreporter.write(text)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    import sys

    if "ray" in sys.modules:
        from harness.run.ray_session import shutdown

        shutdown()
