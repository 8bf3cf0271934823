"""The Order Service: takes orders over HTTP, publishes requests, applies answers."""
