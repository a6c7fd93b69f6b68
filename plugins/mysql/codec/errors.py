"""Codec errors, split h11-style by who is to blame.

* :class:`LocalProtocolError`: *we* misused the codec (built a packet with an
  impossible field, fed a tracker that is already done, asked to mask a column
  that cannot be rewritten). It is a bug on the bastion side.
* :class:`RemoteProtocolError`: the *peer* sent bytes that are truncated,
  oversized or otherwise not valid MySQL protocol. Every parser in this package
  raises it (and nothing else: never ``IndexError`` or ``struct.error``) on
  malformed input, so the relay can catch one type and close the session.
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base class of every error raised by the MySQL codec."""


class LocalProtocolError(ProtocolError):
    """The caller used the codec API incorrectly (a bastion bug)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent malformed, truncated, oversized or unexpected data."""
