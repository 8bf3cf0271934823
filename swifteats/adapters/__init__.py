"""Thin adapters that connect the pure core to Kafka, Redis, PostgreSQL and memory."""
