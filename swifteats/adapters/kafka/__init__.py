"""Kafka through kafka-python: client factories, a consumer loop and the event bus."""
