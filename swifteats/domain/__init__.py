"""The pure core: geo, ETA, scoring, ranking, events and the order lifecycle.

Nothing under ``swifteats.domain`` imports Kafka, Redis, PostgreSQL, HTTP or
data-frame libraries; ``tests/unit/test_domain_purity.py`` keeps it that way.
"""
