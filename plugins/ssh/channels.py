"""Channel handlers: each accepted channel runs in its own greenlet.

The verdict always comes first: an exec command (and the file transfer of a legacy
``scp``), a shell or a subsystem is admitted by the session's guard before the upstream
connection is even opened, a forward before the channel is accepted. Only with the
admission is the target reached (one upstream transport per client connection, opened
on first use) and the channel bridged by :mod:`relay`.
Shell channels are recorded as asciicasts and their typed command lines reconstructed
for the audit (never enforced); exec output is captured up to a limit.
"""

from __future__ import annotations

import codecs
import logging
from typing import Any

import paramiko

from bastion.core import records
from bastion.core.types import Channel, Command, Decision, Event, FileOp, Forward, Verdict
from bastion.guard import Admission
from plugins.ssh.options import forward_allowed
from plugins.ssh.recording import CastWriter
from plugins.ssh.relay import ExitInfo, bridge_session, bridge_stream
from plugins.ssh.scp import ScpRequest, UnparseableScp, parse_scp, scp_refusal
from plugins.ssh.server import ChannelRequest
from plugins.ssh.session import DEFAULT_RULE, SSHSession, denial_text
from plugins.ssh.sftp import SftpBridge
from plugins.ssh.shell_lines import CommandDetector
from plugins.ssh.upstream import request_pty
from plugins.ssh.upstream_transport import UpstreamError

log = logging.getLogger("bastion.ssh")

DENIED_STATUS = 126
"""Exit status of a refused exec ("command cannot execute", as a shell reports it)."""
UPSTREAM_FAILED_STATUS = 255


def judge_forward(sess: SSHSession, req: ChannelRequest) -> Decision:
    """Admit ``ssh -L`` (it cannot wait for an approval: it runs inside the protocol's
    callback). Rules first; when no rule speaks, only ``allow_forward`` destinations."""
    host, port = req.dest
    event = Forward(session=sess.session, host=host, port=port)

    def allow_forward(decision: Decision) -> Decision:
        if decision.verdict is not Verdict.ALLOW or decision.rule != DEFAULT_RULE:
            return decision
        patterns = list(sess.opts.allow_forward) + list(sess.session.target.options.get("allow_forward", []))
        if forward_allowed(patterns, host, port):
            return decision
        return Decision.deny(rule="ssh:allow_forward", reason="destination not in allow_forward",
                             message=f"forwarding to {host}:{port} is not allowed")

    sess.forwards += 1
    ruling = sess.guard.admit(event, records.FORWARD, {"host": host, "port": port, "origin": req.origin[0]},
                              can_hold=False, refine=allow_forward)
    if isinstance(ruling, Admission):
        req.admission = ruling
    return ruling.decision


def handle(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest) -> None:
    """Run one accepted channel to its end; never raises."""
    number = sess.next_channel()
    try:
        if req.kind == "direct-tcpip":
            run_forward(sess, chan, req)
            return
        if not req.ready.wait(timeout=sess.opts.channel_request_timeout):
            chan.close()
            return
        if req.request == "exec":
            run_exec(sess, chan, req, number)
        elif req.request == "shell":
            run_shell(sess, chan, req, number)
        else:
            run_sftp(sess, chan, req, number)
    except Exception:  # noqa: BLE001 - one broken channel must not end the session
        log.exception("channel handler failed", extra={"session_id": sess.session.id})
        chan.close()
    finally:
        req.done = True


def _refuse_channel(chan: paramiko.Channel, message: str, status: int, pty: bool, stdout: bytes = b"") -> None:
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


def _open_upstream(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest,
                   admission: Admission) -> paramiko.Channel | None:
    try:
        up = sess.upstream.open_session(admission)
        if req.pty is not None:
            p = req.pty
            request_pty(up, p.term, p.width, p.height, p.width_px, p.height_px, p.modes)
        for key, value in req.env.items():
            up.set_environment_variable(key, value)
    except UpstreamError as exc:
        _refuse_channel(chan, f"bastion: {exc.message}", UPSTREAM_FAILED_STATUS, req.pty is not None)
        return None
    except (paramiko.SSHException, EOFError, OSError) as exc:
        _refuse_channel(chan, "bastion: the target refused the terminal request", UPSTREAM_FAILED_STATUS,
                        req.pty is not None)
        log.info("upstream channel setup failed: %r", exc, extra={"session_id": sess.session.id})
        return None
    return up


class _Capture:
    """The first ``limit`` bytes of an exec's output, for the audit event."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        if self.size < self.limit:
            self.parts.append(data[:self.limit - self.size])
            self.size += len(self.parts[-1])

    def text(self) -> str:
        return b"".join(self.parts).decode("utf-8", errors="replace")


def run_exec(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest, number: int) -> None:
    line = req.command.decode("utf-8", errors="replace")
    scp = parse_scp(line)
    events: list[Event] = []
    if isinstance(scp, ScpRequest):  # legacy scp: each path is a file transfer, judged before the command
        home = sess.upstream.home()
        events = [FileOp(session=sess.session, op=scp.op, path=p, home=home) for p in scp.paths]
    events.append(Command(session=sess.session, line=line))
    sess.commands += 1
    data: dict[str, Any] = {"mode": "exec", "channel": number,
                            **({"scp": {"op": scp.op, "path": scp.path, "recursive": scp.recursive}} if scp else {})}

    def unparseable_scp(decision: Decision) -> Decision:
        if not isinstance(scp, UnparseableScp) or decision.verdict is not Verdict.ALLOW:
            return decision
        return Decision.deny(rule="ssh:scp-unparseable", reason=scp.reason,
                             message="this scp transfer cannot be judged, so it is refused")

    ruling = sess.guard.admit(events, records.COMMAND, data, text=line, cancelled=lambda: chan.closed,
                              refine=unparseable_scp, refused={"exit_status": DENIED_STATUS})
    if not isinstance(ruling, Admission):
        text = denial_text("file transfer" if scp and isinstance(ruling.event, FileOp) else "command", ruling)
        _refuse_channel(chan, text, DENIED_STATUS, req.pty is not None, scp_refusal(text) if scp else b"")
        return
    up = _open_upstream(sess, chan, req, ruling)
    if up is None:
        sess.guard.finish(ruling, {"result": "upstream unavailable"})
        return
    capture = _Capture(sess.opts.exec_capture_bytes)
    cast = _cast(sess, req, number, line) if req.pty is not None else None

    def on_input(data: bytes) -> None:
        sess.touch()
        if cast is not None:
            cast.input(data)

    def on_output(data: bytes) -> None:
        capture.add(data)
        if cast is not None:
            cast.output(data)

    up.exec_command(req.command)
    info = bridge_session(chan, up, on_input=on_input, on_output=on_output, on_stderr=capture.add,
                          live=sess.live_streams())
    if cast is not None:
        _close_cast(sess, cast, number)
    sess.guard.finish(ruling, {**_exit_data(sess, info), "output": sess.redact(capture.text()),
                               "output_truncated": capture.size >= capture.limit})


def _open_channel(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest, request: str,
                  data: dict[str, Any]) -> tuple[Admission, paramiko.Channel] | None:
    """Admit a shell or subsystem channel and open its upstream twin; a refused one is
    closed with the reason, one the target refuses is recorded as such."""
    ruling = sess.guard.admit(Channel(session=sess.session, request=request), records.CHANNEL_END, data,
                              cancelled=lambda: chan.closed)
    if not isinstance(ruling, Admission):
        _refuse_channel(chan, denial_text(request, ruling), DENIED_STATUS, req.pty is not None)
        return None
    up = _open_upstream(sess, chan, req, ruling)
    if up is None:
        sess.guard.finish(ruling, {"result": "upstream unavailable"})
        return None
    return ruling, up


def _exit_data(sess: SSHSession, info: ExitInfo) -> dict[str, Any]:
    sess.count(info.bytes_in, info.bytes_out)
    return {"exit_status": info.status, "exit_signal": info.signal, "bytes_in": info.bytes_in,
            "bytes_out": info.bytes_out}


def _size(req: ChannelRequest) -> tuple[int, int]:
    """Terminal columns and rows; clients send 0 when they do not know (not a tty)."""
    return ((req.pty.width or 80), (req.pty.height or 24)) if req.pty else (80, 24)


def _cast(sess: SSHSession, req: ChannelRequest, number: int, command: str = "") -> CastWriter:
    p = req.pty
    s = sess.session
    return CastWriter(sess.recording_path(number), *_size(req),
                      term=p.term.decode("ascii", errors="replace") if p else "",
                      title=f"{s.identity.subject} on {s.target.name} as {s.account}",
                      record_input=sess.opts.record_input, command=command, redact=sess.redact)


def _close_cast(sess: SSHSession, cast: CastWriter, number: int) -> None:
    duration = cast.close()
    sess.recordings.append(str(cast.path))
    sess.emit(records.RECORDING, {"channel": number, "path": str(cast.path), "format": "asciicast-v2",
                            "duration_s": round(duration, 3), "events": cast.events,
                            "output_bytes": cast.output_bytes})


def run_shell(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest, number: int) -> None:
    opened = _open_channel(sess, chan, req, "shell", {
        "channel": number, "type": "shell", "pty": req.pty is not None,
        "term": req.pty.term.decode("ascii", "replace") if req.pty else "", "env": sorted(req.env)})
    if opened is None:
        return
    admission, up = opened
    cast = _cast(sess, req, number)
    detector = CommandDetector(*_size(req))
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
    _close_cast(sess, cast, number)
    sess.guard.finish(admission, _exit_data(sess, info))


def _audit_shell_command(sess: SSHSession, line: str, number: int) -> None:
    # Audit-only: typed lines are reconstructed from the echo and can be evaded, so the
    # pipeline's verdict is recorded as what it *would* do and never enforced.
    event = Command(session=sess.session, line=line, mode="shell")
    outcome = sess.ctx.pipeline.decide(event)
    sess.commands += 1
    sess.emit(records.COMMAND, {"event_id": event.id, "mode": "shell", **sess.redact_request(line), "channel": number,
                          "audit_only": True, "would": outcome.decision.verdict.name.lower(),
                          "rule": outcome.decision.rule})


def run_sftp(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest, number: int) -> None:
    opened = _open_channel(sess, chan, req, "subsystem:sftp", {"channel": number, "type": "sftp"})
    if opened is None:
        return
    admission, up = opened
    try:
        up.invoke_subsystem("sftp")
    except (paramiko.SSHException, EOFError, OSError):
        _refuse_channel(chan, "bastion: the target has no sftp subsystem", UPSTREAM_FAILED_STATUS, False)
        sess.guard.finish(admission, {"result": "no sftp subsystem"})
        return
    info = SftpBridge(sess, chan, up).run()
    sess.guard.finish(admission, _exit_data(sess, info))


def run_forward(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest) -> None:
    admission = req.admission
    assert admission is not None  # only admitted forwards get a channel (server.check_channel_direct_tcpip_request)
    try:
        up = sess.upstream.open_forward(admission, req.dest, req.origin)
    except (UpstreamError, paramiko.SSHException, EOFError, OSError) as exc:
        chan.close()
        sess.guard.finish(admission, {"result": "failed", "error": getattr(exc, "message", "") or repr(exc)})
        return
    bytes_in, bytes_out = bridge_stream(chan, up, sess.touch)
    sess.count(bytes_in, bytes_out)
    sess.guard.finish(admission, {"result": "closed", "bytes_in": bytes_in, "bytes_out": bytes_out})
