"""Grubhub MDRP instances as replay inputs, and the evaluator's solution files.

- ``instance`` — an instance folder read in place, and the replay input made of it;
- ``solution`` — the three solution files' names, headers and records;
- ``export`` — a replay's routes written as those files;
- ``check`` — our own check of the files (``parse`` reads them back, ``rules`` holds
  every rule of ``MDRP_SOLUTION_FORMAT.md``, ``metrics`` the evaluator's figures).
"""
