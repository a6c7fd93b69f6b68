"""What the channel handlers share: refusing a channel, opening its upstream twin, its
asciicast recording and the exit data its end record carries."""

from __future__ import annotations

import logging
from typing import Any

import paramiko

from bastion.core import records
from bastion.core.types import Channel
from bastion.guard import Admission
from plugins.ssh.recording import CastWriter
from plugins.ssh.relay import ExitInfo
from plugins.ssh.server import ChannelRequest
from plugins.ssh.session import SSHSession, denial_text
from plugins.ssh.upstream import request_pty
from plugins.ssh.upstream_transport import UpstreamError

log = logging.getLogger("bastion.ssh")

DENIED_STATUS = 126
"""Exit status of a refused exec ("command cannot execute", as a shell reports it)."""
UPSTREAM_FAILED_STATUS = 255


def refuse_channel(chan: paramiko.Channel, message: str, status: int, pty: bool, stdout: bytes = b"") -> None:
    try:
        if stdout:  # scp speaks its own protocol on stdout: the client prints this line itself
            chan.sendall(stdout)
        else:
            chan.sendall_stderr((message + ("\r\n" if pty else "\n")).encode())
        chan.send_exit_status(status)
        chan.shutdown_write()
    except (OSError, EOFError, paramiko.SSHException):
        pass
    chan.close()


def open_upstream(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest,
                   admission: Admission) -> paramiko.Channel | None:
    try:
        up = sess.upstream.open_session(admission)
        if req.pty is not None:
            p = req.pty
            request_pty(up, p.term, p.width, p.height, p.width_px, p.height_px, p.modes)
        for key, value in req.env.items():
            up.set_environment_variable(key, value)
    except UpstreamError as exc:
        refuse_channel(chan, f"bastion: {exc.message}", UPSTREAM_FAILED_STATUS, req.pty is not None)
        return None
    except (paramiko.SSHException, EOFError, OSError) as exc:
        refuse_channel(chan, "bastion: the target refused the terminal request", UPSTREAM_FAILED_STATUS,
                        req.pty is not None)
        log.info("upstream channel setup failed: %r", exc, extra={"session_id": sess.session.id})
        return None
    return up


def open_channel(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest, request: str,
                  data: dict[str, Any]) -> tuple[Admission, paramiko.Channel] | None:
    """Admit a shell or subsystem channel and open its upstream twin; a refused one is
    closed with the reason, one the target refuses is recorded as such."""
    ruling = sess.guard.admit(Channel(session=sess.session, request=request), records.CHANNEL_END, data,
                              cancelled=lambda: chan.closed)
    if not isinstance(ruling, Admission):
        refuse_channel(chan, denial_text(request, ruling), DENIED_STATUS, req.pty is not None)
        return None
    up = open_upstream(sess, chan, req, ruling)
    if up is None:
        sess.guard.finish(ruling, {"result": "upstream unavailable"})
        return None
    return ruling, up


def exit_data(sess: SSHSession, info: ExitInfo) -> dict[str, Any]:
    sess.count(info.bytes_in, info.bytes_out)
    return {"exit_status": info.status, "exit_signal": info.signal, "bytes_in": info.bytes_in,
            "bytes_out": info.bytes_out}


def terminal_size(req: ChannelRequest) -> tuple[int, int]:
    """Terminal columns and rows; clients send 0 when they do not know (not a tty)."""
    return ((req.pty.width or 80), (req.pty.height or 24)) if req.pty else (80, 24)


def start_cast(sess: SSHSession, req: ChannelRequest, number: int, command: str = "") -> CastWriter:
    p = req.pty
    s = sess.session
    return CastWriter(sess.recording_path(number), *terminal_size(req),
                      term=p.term.decode("ascii", errors="replace") if p else "",
                      title=f"{s.identity.subject} on {s.target.name} as {s.account}",
                      record_input=sess.opts.record_input, command=command, redact=sess.redact)


def close_cast(sess: SSHSession, cast: CastWriter, number: int) -> None:
    duration = cast.close()
    sess.recordings.append(str(cast.path))
    sess.emit(records.RECORDING, {"channel": number, "path": str(cast.path), "format": "asciicast-v2",
                            "duration_s": round(duration, 3), "events": cast.events,
                            "output_bytes": cast.output_bytes})
