"""The stack's one error: a server that can be neither reached nor started, and what to do."""

from __future__ import annotations

INSTALL_HINT = 'from the checkout: pip install -e ".[stack]"'
"""How to get the server binaries the stack starts when nothing answers."""


class StackError(RuntimeError):
    """A component can be neither reached nor started; the message names it and says why."""
