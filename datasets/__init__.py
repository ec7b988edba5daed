"""Data sets, each a module whose ``load(seed)`` returns :class:`harness.run.live.data.DataSplits`.

This folder is used in place from the repository root and never installed into site-packages,
where a top-level ``datasets`` would shadow Hugging Face's package of that name.
"""
