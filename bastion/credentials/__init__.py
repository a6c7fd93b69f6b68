"""Target credentials beyond the vault: rotation (``rotate``)."""

from __future__ import annotations
