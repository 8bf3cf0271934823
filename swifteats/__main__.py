"""``python -m swifteats`` runs the CLI."""

from swifteats.cli import app

app()
