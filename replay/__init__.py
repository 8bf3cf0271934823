"""The replay harness: order logs through the services on a simulated clock."""
