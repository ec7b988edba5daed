"""`pip install` of the project registers the pytest plugin and installs no top-level `datasets` package."""

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_pip_install_registers_the_plugin_and_puts_no_datasets_package_in_site_packages(tmp_path):
    target = tmp_path / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
                    str(target), str(ROOT)], check=True, capture_output=True, timeout=600)
    assert (target / "harness" / "fronts" / "pytest_plugin.py").is_file() and (target / "strategies" / "asha.py").is_file()
    assert not (target / "datasets").exists()  # it would shadow Hugging Face's datasets
    (entry_points,) = target.glob("tuning_bench-*.dist-info/entry_points.txt")
    assert "[pytest11]" in entry_points.read_text() and "tuning_bench = harness.fronts.pytest_plugin" in entry_points.read_text()
    # Outside any checkout, with only the installed copy on the path, pytest loads the plugin: its options are listed.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=outside, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(target)}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "hyperparameter-tuning benchmarks" in done.stdout and "total_epochs" in done.stdout
