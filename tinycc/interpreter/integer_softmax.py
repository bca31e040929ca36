"""Integer reference kernels: (being written)."""

from __future__ import annotations
