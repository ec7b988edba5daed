"""Repo-root conftest: the harness's pytest plugin for both benchmarks/ and tests/.

`pip install` registers the plugin through the pytest11 entry point; a checkout used without installing it
(PYTHONPATH=.) loads it here instead. Loading it both ways would register it twice.
"""

from importlib.metadata import entry_points

_installed = any(ep.value == "harness.fronts.pytest_plugin" for ep in entry_points(group="pytest11"))
pytest_plugins = [] if _installed else ["harness.fronts.pytest_plugin"]
