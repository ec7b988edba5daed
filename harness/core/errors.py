"""The errors the harness reports as one line: bad input (ConfigError), and data that is missing or corrupt.

Data-set modules raise DataMissing and DataCorrupt; the pytest plugin skips a case for the first and
fails it for the second, naming the file, without knowing how any data set is stored.
"""


class ConfigError(ValueError):
    """A benchmark, budget, search space or strategy that cannot run as given."""


class DataMissing(Exception):
    """The data set is not on disk and could not be downloaded; benchmarks skip with this message."""


class DataCorrupt(ValueError):
    """A data file exists but cannot be read as what it should be; the message names the file."""
