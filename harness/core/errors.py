"""The errors the harness reports as one line: bad input (ConfigError), data that is missing or corrupt, and a
session that cannot go on (SessionHalted: the cluster's head lost, the results folder full).

Data-set modules raise DataMissing and DataCorrupt; the pytest plugin skips a case for the first and
fails it for the second, naming the file, without knowing how any data set is stored.
"""


class ConfigError(ValueError):
    """A benchmark, budget, search space or strategy that cannot run as given."""


class DataMissing(Exception):
    """The data set is not on disk and could not be downloaded; benchmarks skip with this message."""


class DataCorrupt(ValueError):
    """A data file exists but cannot be read as what it should be; the message names the file."""


class SessionHalted(Exception):
    """The session cannot go on: every later case would fail the same way. The message is the one line to show.

    The run in flight is not stored; the runs that finished are, and ``--resume`` completes the rest once the
    cause is fixed.
    """


class ClusterLost(SessionHalted):
    """The Ray cluster's head stopped answering during a run; the message names its address."""


class ResultsUnwritable(SessionHalted):
    """A run record could not be written into the results folder (full, gone, read-only); the message names it."""
