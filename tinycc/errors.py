"""User-facing errors: one line each, naming the file, node and reason."""

from __future__ import annotations


class TinyccError(Exception):
    """An error the user can act on; the CLI prints it without a traceback."""
