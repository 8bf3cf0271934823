"""The pure core: geo, ETA, scoring, ranking, events, the order lifecycle, the fleet model and
the assignment policies (one request at a time, or windowed over many: ``policies``).

Nothing under ``swifteats.domain`` imports Kafka, Redis, PostgreSQL, HTTP or
data-frame libraries (numpy and scipy, for the batch policies' matrices and matching,
are not I/O); ``tests/unit/test_domain_purity.py`` keeps it that way.
"""
