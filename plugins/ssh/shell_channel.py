"""The shell channel: recorded as an asciicast, its typed command lines reconstructed for
the audit (audit-only: they can be evaded, so their verdict is never enforced)."""

from __future__ import annotations

import codecs
import logging
from typing import Any

import paramiko

from bastion.core import records
from bastion.core.types import Command
from plugins.ssh.channel_setup import close_cast, exit_data, open_channel, start_cast, terminal_size
from plugins.ssh.relay import bridge_session
from plugins.ssh.server import ChannelRequest
from plugins.ssh.session import SSHSession
from plugins.ssh.shell_lines import CommandDetector

log = logging.getLogger("bastion.ssh")


def run_shell(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest, number: int) -> None:
    opened = open_channel(sess, chan, req, "shell", {
        "channel": number, "type": "shell", "pty": req.pty is not None,
        "term": req.pty.term.decode("ascii", "replace") if req.pty else "", "env": sorted(req.env)})
    if opened is None:
        return
    admission, up = opened
    cast = start_cast(sess, req, number)
    detector = CommandDetector(*terminal_size(req))
    out_text = codecs.getincrementaldecoder("utf-8")(errors="replace")
    in_text = codecs.getincrementaldecoder("utf-8")(errors="replace")

    detecting = [True]

    def detect(feed: Any, text: str) -> list[str]:
        # The detector is an audit aid: if the terminal emulator trips over some output,
        # stop detecting for this channel rather than disturb the session.
        if detecting[0]:
            try:
                return list(feed(text) or [])
            except Exception:  # noqa: BLE001
                log.exception("shell command detection stopped", extra={"session_id": sess.session.id})
                detecting[0] = False
        return []

    def on_output(data: bytes) -> None:
        cast.output(data)
        for line in detect(detector.output, out_text.decode(data)):
            _audit_shell_command(sess, line, number)

    def on_input(data: bytes) -> None:
        sess.touch()
        cast.input(data)
        detect(detector.input, in_text.decode(data))

    def on_resize(width: int, height: int, width_px: int, height_px: int) -> None:
        try:
            up.resize_pty(width, height, width_px, height_px)
        except (paramiko.SSHException, OSError):
            pass
        cast.resize(width, height)
        detector.resize(width or 80, height or 24)

    req.on_resize = on_resize
    up.invoke_shell()
    info = bridge_session(chan, up, on_input=on_input, on_output=on_output, on_stderr=cast.output,
                          live=sess.live_streams())
    req.on_resize = None
    close_cast(sess, cast, number)
    sess.guard.finish(admission, exit_data(sess, info))


def _audit_shell_command(sess: SSHSession, line: str, number: int) -> None:
    # Audit-only: typed lines are reconstructed from the echo and can be evaded, so the
    # pipeline's verdict is recorded as what it *would* do and never enforced.
    event = Command(session=sess.session, line=line, mode="shell")
    outcome = sess.ctx.pipeline.decide(event)
    sess.commands += 1
    sess.emit(records.COMMAND, {"event_id": event.id, "mode": "shell", **sess.redact_request(line), "channel": number,
                          "audit_only": True, "would": outcome.decision.verdict.name.lower(),
                          "rule": outcome.decision.rule})
