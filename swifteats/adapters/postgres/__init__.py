"""PostgreSQL: versioned schema, the order store and the transactional outbox."""
