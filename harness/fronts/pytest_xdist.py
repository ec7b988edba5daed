"""pytest-xdist transport: with ``pytest -n N`` each worker runs and stores its own cases; its controller reads them
back, so that the controller's session finishes (gate, baseline, report) over every worker's runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

STUDY_FILES = pytest.StashKey[dict]()  # benchmark -> the file of its module, whose HYPOTHESIS the controller imports


def is_worker(config) -> bool:
    """A pytest-xdist worker runs cases; its controller reads their runs back and writes everything."""
    return hasattr(config, "workerinput")


def note_study(config, benchmark: str, module_file: str) -> None:
    config.stash.setdefault(STUDY_FILES, {})[benchmark] = module_file


def report_to_controller(config, session) -> None:
    """At a worker's end: the files of its runs, whether it was interrupted, and its studies' module files."""
    config.workeroutput["tuning_runs"] = [str(session.store.run_path(r)) for r in session.records]
    config.workeroutput["tuning_interrupted"] = session.interrupted
    ran = {r.benchmark for r in session.records}
    files = config.stash.get(STUDY_FILES, {})
    config.workeroutput["tuning_hypotheses"] = {b: path for b, path in files.items() if b in ran}


class Controller:
    """Reads each worker's runs from the store as the worker ends. Without pytest-xdist the hook is never called."""

    def __init__(self, session) -> None:
        self.session = session

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        output = getattr(node, "workeroutput", None) or {}
        self.session.add_stored(output.get("tuning_runs", []))
        self.session.interrupted = self.session.interrupted or bool(output.get("tuning_interrupted"))
        for bench, path in output.get("tuning_hypotheses", {}).items():
            if bench not in self.session.studies:
                self.session.studies[bench] = _study_from(path)


def _study_from(path: str):
    """A benchmark module's HYPOTHESIS, imported by file (pytest imported it by a name only its worker knows)."""
    spec = importlib.util.spec_from_file_location(f"_tuning_study_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HYPOTHESIS
