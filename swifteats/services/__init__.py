"""The two HTTP + Kafka services, thin around the domain."""
