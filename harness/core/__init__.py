"""The core: what a benchmark is made of and what a run leaves behind. Imports nothing else of the harness.

* ``problem``: a live :class:`Problem` (data and a model) and a :class:`ReplayProblem` (a learning-curve table);
* ``space``, ``budget``: the search space and the compute budget;
* ``strategy``: what a strategy hands Ray Tune (searcher, scheduler) and what it declares it supports;
* ``records``: run, trial and epoch records, outcomes and clocks; ``store``: atomic, never-overwritten storage;
* ``provenance``: commit, versions, device; ``study``: a study's question, answered from its runs; ``errors``.
"""
