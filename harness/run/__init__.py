"""Running one (problem, strategy, seed) through Ray Tune, live or replayed, into a run record.

* ``runner``: ``run(problem, strategy, seed)``, the same for live runs and replays;
* ``backend``: what a live run and a replay do differently, behind one interface; ``recorder``: the trials' epochs;
* ``ray_session``: a local Ray on loopback (no dashboard), or a cluster's address; ``invariants``: what every run must satisfy;
* ``live/``: real training in Ray actors; ``replay/``: recorded learning curves on a simulated clock.
"""
