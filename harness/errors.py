"""The one error type for bad input: the pytest plugin turns it into a one-line usage error."""


class ConfigError(ValueError):
    """A benchmark, budget, search space or strategy that cannot run as given."""
