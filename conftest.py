"""Repo-root conftest: loads the harness's pytest plugin for both benchmarks/ and tests/."""

pytest_plugins = ["harness.fronts.pytest_plugin"]
