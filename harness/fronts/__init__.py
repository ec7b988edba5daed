"""The front doors, each a thin layer over :class:`harness.session.Session`.

* ``pytest_plugin``: the pytest hooks (options, parametrization, the ``tuning_run`` fixture, the summary);
* ``pytest_xdist``: carrying runs from pytest-xdist workers to their controller;
* ``cli``: ``python -m harness report | gate | baseline | agreement | record-table``;
* ``record_table``: recording a learning-curve table by sweeping a live benchmark.
"""
