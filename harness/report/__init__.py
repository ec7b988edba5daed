"""What a session writes for people to read: one table writer, the plots, and report.md / report.html.

* ``tables``: the comparison table (terminal, Markdown, CSV), for all benchmarks and for each one;
* ``plots``: matplotlib PNGs, a fixed colour per strategy;
* ``document``: report.md and the self-contained report.html, and ``write_report``, which writes everything;
* ``terminal``: what a session prints at its end.
"""
