"""The Driver Assignment Service: consumes requests, claims drivers, answers."""
