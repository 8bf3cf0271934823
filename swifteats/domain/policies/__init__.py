"""The assignment policies, one module each, behind one interface and one registry.

- ``base``: the interface (``DispatchPolicy.decide(orders, drivers, now)``) and what a
  policy sees: ``OpenOrder``, ``DriverView``, ``PolicyContext``; what it returns:
  ``Assignment``.
- ``registry``: every policy by name, with a one-line description, whether it is
  windowed and its parameters (defaults and types); ``build_policy`` makes one.
- ``greedy``: ``greedy-score`` and ``nearest``, one request at a time (the Assigner's
  orderings, and ``OneAtATime`` for the same through ``decide``).
- ``batch_matching``: ``batch-matching``, a minimum-cost matching every window.
- ``route_matching``: ``bundling`` and ``rolling-horizon``, bundled routes matched to
  drivers free now or soon.
- ``support``: what the windowed policies share (matching, travel matrices, bundles).
"""
