"""Per-connection state of an SSH session and what its channels record."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bastion.core.carry import LiveStream
from bastion.guard import Refusal
from bastion.session import BaseSession
from plugins.ssh.options import SSHOptions
from policies.shell.redact import redact_command

log = logging.getLogger("bastion.ssh")

DEFAULT_RULE = "pipeline:default"
"""The pipeline's answer when no stage spoke about a non-Connect event (see core/pipeline.py)."""


@dataclass(kw_only=True)
class SSHSession(BaseSession):
    """One authenticated client connection and everything recorded about it."""

    opts: SSHOptions
    channels: int = 0
    commands: int = 0
    file_ops: int = 0
    forwards: int = 0
    bytes_in: int = 0
    """Channel payload client → target, over all channels."""
    bytes_out: int = 0
    recordings: list[str] = field(default_factory=list)
    last_activity: float = field(default_factory=time.monotonic)
    opened_at: float = field(default_factory=time.monotonic)
    upstream: Any = None
    """The lazily opened upstream link (``upstream.UpstreamLink``), set by the plugin."""

    text_field: ClassVar[str] = "line"

    def touch(self) -> None:
        """Client traffic seen: the idle timer restarts."""
        self.last_activity = time.monotonic()

    def next_channel(self) -> int:
        self.channels += 1
        return self.channels

    def recording_path(self, channel: int) -> Path:
        return self.ctx.settings.state_dir / "recordings" / f"{self.session.id}-{channel}.cast"

    def live_masker(self) -> Callable[[bytes], bytes] | None:
        """Masking of one chunk shown to the user (masking rules in scope), or None if none
        apply. For data whose chunks must keep their length (SFTP reads); streams use
        :meth:`live_streams`."""
        if not self.masks.masks_live:
            return None
        mask = self.masks.live
        return lambda data: mask(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def live_streams(self) -> Callable[[], LiveStream] | None:
        """A new live masker per output stream (values cut across SSH packets are masked
        whole), or None if no masking rule is in scope."""
        if not self.masks.masks_live:
            return None
        mask = self.masks.live
        return lambda: LiveStream(mask)

    def redact_request(self, text: str) -> dict[str, Any]:
        """A command line for the record: masked within each segment between shell syntax,
        so a value that looks like a secret never swallows the commands around it."""
        return self._fields(text, redact_command)

    def count(self, bytes_in: int, bytes_out: int) -> None:
        self.bytes_in += bytes_in
        self.bytes_out += bytes_out

    def end_data(self) -> dict[str, Any]:
        return {"channels": self.channels, "commands": self.commands, "file_ops": self.file_ops,
                "forwards": self.forwards, "recordings": list(self.recordings), "bytes_in": self.bytes_in,
                "bytes_out": self.bytes_out, "masked_output": dict(self.masks.live_counts)}


def denial_text(what: str, refusal: Refusal) -> str:
    """The message a user sees for a refused request (rule and event reference included)."""
    return f"bastion: {what} denied: {refusal.message()}"
