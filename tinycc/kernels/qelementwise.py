"""Integer kernels: (being written)."""

from __future__ import annotations

INTEGER_KERNELS: dict = {}
