import pytest

from harness import Budget, ConfigError
from harness.core.budget import parse_overrides


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(max_epochs=0, num_trials=4), "max_epochs"),
        (dict(max_epochs=3, num_trials=0), "num_trials"),
        (dict(max_epochs=3, num_trials=None), "no limit"),
        (dict(max_epochs=3, num_trials=4, max_concurrent_trials=0), "max_concurrent_trials"),
        (dict(max_epochs=3, num_trials=4, cpus_per_trial=0), "cpus_per_trial"),
        (dict(max_epochs=3, num_trials=4, gpus_per_trial=1.5), "gpus_per_trial"),
        (dict(max_epochs=3, num_trials=4, wallclock_s=0), "wallclock_s"),
        (dict(max_epochs=2.5, num_trials=4), "max_epochs"),
    ],
)
def test_bad_budgets_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Budget(**kwargs)


def test_wallclock_alone_is_a_limit():
    assert Budget(max_epochs=3, num_trials=None, wallclock_s=60).num_trials is None


def test_overrides_parse_and_revalidate():
    budget = Budget(max_epochs=9, num_trials=12)
    changed = budget.with_overrides(parse_overrides(["max_epochs=3", "wallclock_s=30", "gpus_per_trial=auto"]))
    assert (changed.max_epochs, changed.wallclock_s, changed.gpus_per_trial) == (3, 30.0, None)
    with pytest.raises(ConfigError, match="no limit"):
        budget.with_overrides({"num_trials": "none"})
    with pytest.raises(ConfigError, match="unknown field"):
        budget.with_overrides({"epochs": "3"})
    with pytest.raises(ConfigError, match="whole number"):
        budget.with_overrides({"max_epochs": "three"})
    with pytest.raises(ConfigError, match="name=value"):
        parse_overrides(["max_epochs"])


def test_an_equal_compute_budget_is_a_limit_and_is_checked():
    budget = Budget(max_epochs=9, num_trials=None, total_epochs=108)
    assert budget.nominal_trials == 12 and budget.to_dict()["total_epochs"] == 108
    assert "total_epochs" not in Budget(max_epochs=9, num_trials=12).to_dict()  # fixed-trial budgets keep their form
    with pytest.raises(ConfigError, match="total_epochs must be a whole number >= max_epochs"):
        Budget(max_epochs=9, num_trials=None, total_epochs=5)
    with pytest.raises(ConfigError, match="no limit"):
        Budget(max_epochs=9, num_trials=None)
    assert budget.with_overrides({"total_epochs": "216"}).total_epochs == 216
