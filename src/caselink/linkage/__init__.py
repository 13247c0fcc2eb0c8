"""Linkage: find deaths that belong together (DESIGN §3).

Modules, one idea each: ``features`` (the case table, as of each case's date), ``comparisons``
(Splink comparisons and blocking rules), ``model`` (the model file), ``scoring`` (Splink on DuckDB),
``series`` (stable series ids and alerts), ``pipeline`` (link and replay), ``incremental`` (the store
side: series tables, alerts, audit), ``explain``, ``training``, ``evaluate``, ``crimelinkage``,
``demo_story``.
"""
