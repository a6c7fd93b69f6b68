"""Channel handlers: each accepted channel runs in its own greenlet.

The verdict always comes first: an exec command (and the file transfer of a legacy
``scp``) is judged before the upstream connection is even opened, a forward before the
channel is accepted. Only then is the target reached (one upstream transport per
client connection, opened on first use) and the channel bridged by :mod:`relay`.
Shell channels are recorded as asciicasts and their typed command lines reconstructed
for the audit (never enforced); exec output is captured up to a limit.
"""

from __future__ import annotations

import codecs
import logging
import time
from typing import Any

import paramiko

from bastion.context import AuditGate
from bastion.core.types import Command, Decision, Event, FileOp, Forward, Verdict
from plugins.ssh.commands import CommandDetector
from plugins.ssh.options import forward_allowed
from plugins.ssh.recording import CastWriter
from plugins.ssh.relay import ExitInfo, bridge_session, bridge_stream
from plugins.ssh.scp import parse_scp, scp_refusal
from plugins.ssh.server import ChannelRequest
from plugins.ssh.session import DEFAULT_RULE, SSHSession, denial_text
from plugins.ssh.sftp import SftpBridge
from plugins.ssh.upstream import UpstreamError, request_pty

log = logging.getLogger("bastion.ssh")

DENIED_STATUS = 126
"""Exit status of a refused exec ("command cannot execute", as a shell reports it)."""
UPSTREAM_FAILED_STATUS = 255


def judge_forward(sess: SSHSession, req: ChannelRequest) -> Decision:
    """Verdict for ``ssh -L``: rules first; when no rule speaks, only ``allow_forward`` destinations."""
    host, port = req.dest
    event = Forward(session=sess.session, host=host, port=port)
    decision, audit = sess.decide(event, can_hold=False)
    if decision.verdict is Verdict.ALLOW and decision.rule == DEFAULT_RULE:
        patterns = list(sess.opts.allow_forward) + list(sess.session.target.options.get("allow_forward", []))
        if not forward_allowed(patterns, host, port):
            sess.denied += 1
            decision = Decision.deny(rule="ssh:allow_forward", reason="destination not in allow_forward",
                                     message=f"forwarding to {host}:{port} is not allowed")
    req.forward = event
    if decision.verdict is not Verdict.ALLOW:
        sess.forwards += 1
        sess.emit("forward", {"event_id": event.id, "host": host, "port": port, "origin": f"{req.origin[0]}",
                              **sess.verdict_data(decision, audit)})
    return decision


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
            run_sftp(sess, chan, req)
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


def _open_upstream(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest) -> paramiko.Channel | None:
    try:
        up = sess.upstream.open_session()
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
    events: list[Event] = [FileOp(session=sess.session, op=scp.op, path=scp.path)] if scp else []
    events.append(Command(session=sess.session, line=line))
    decision, event = Decision.allow(), events[-1]
    audit: tuple[Decision, ...] = ()
    for event in events:
        decision, audit = sess.decide(event, cancelled=lambda: chan.closed)
        if decision.verdict is not Verdict.ALLOW:
            break
    sess.commands += 1
    base: dict[str, Any] = {"event_id": event.id, "mode": "exec", "line": sess.redact(line), "channel": number,
                            **({"scp": {"op": scp.op, "path": scp.path, "recursive": scp.recursive}} if scp else {})}
    if decision.verdict is Verdict.ALLOW:
        # Recorded before it runs: a command never runs without a durable record, even if
        # the bastion dies before it ends; if that record cannot be written, it does not run.
        if not sess.emit("command.start", base):
            decision = AuditGate(sess.ctx).unrecorded()
    if decision.verdict is not Verdict.ALLOW:
        text = denial_text("file transfer" if scp and isinstance(event, FileOp) else "command", decision, event)
        _refuse_channel(chan, text, DENIED_STATUS, req.pty is not None, scp_refusal(text) if scp else b"")
        sess.emit("command", {**base, **sess.verdict_data(decision, audit), "exit_status": DENIED_STATUS})
        return
    up = _open_upstream(sess, chan, req)
    if up is None:
        sess.emit("command", {**base, **sess.verdict_data(decision, audit), "result": "upstream unavailable"})
        return
    started = time.monotonic()
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
    sess.emit("command", {**base, **sess.verdict_data(decision, audit), **_exit_data(sess, info),
                          "duration_ms": round((time.monotonic() - started) * 1000, 1),
                          "output": sess.redact(capture.text()), "output_truncated": capture.size >= capture.limit})


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
    sess.emit("recording", {"channel": number, "path": str(cast.path), "format": "asciicast-v2",
                            "duration_s": round(duration, 3), "events": cast.events,
                            "output_bytes": cast.output_bytes})


def run_shell(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest, number: int) -> None:
    up = _open_upstream(sess, chan, req)
    if up is None:
        return
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
    sess.emit("channel", {"channel": number, "type": "shell", "pty": req.pty is not None,
                          "term": req.pty.term.decode("ascii", "replace") if req.pty else "",
                          "env": sorted(req.env)})
    info = bridge_session(chan, up, on_input=on_input, on_output=on_output, on_stderr=cast.output,
                          live=sess.live_streams())
    req.on_resize = None
    _close_cast(sess, cast, number)
    sess.emit("channel.end", {"channel": number, "type": "shell", **_exit_data(sess, info)})


def _audit_shell_command(sess: SSHSession, line: str, number: int) -> None:
    # Audit-only: typed lines are reconstructed from the echo and can be evaded, so the
    # pipeline's verdict is recorded as what it *would* do and never enforced.
    event = Command(session=sess.session, line=line, mode="shell")
    outcome = sess.ctx.pipeline.decide(event)
    sess.commands += 1
    sess.emit("command", {"event_id": event.id, "mode": "shell", "line": sess.redact(line), "channel": number,
                          "audit_only": True, "would": outcome.decision.verdict.name.lower(),
                          "rule": outcome.decision.rule})


def run_sftp(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest) -> None:
    up = _open_upstream(sess, chan, req)
    if up is None:
        return
    try:
        up.invoke_subsystem("sftp")
    except (paramiko.SSHException, EOFError, OSError):
        _refuse_channel(chan, "bastion: the target has no sftp subsystem", UPSTREAM_FAILED_STATUS, False)
        return
    SftpBridge(sess, chan, up).run()


def run_forward(sess: SSHSession, chan: paramiko.Channel, req: ChannelRequest) -> None:
    assert req.forward is not None and req.decision is not None
    event, started = req.forward, time.monotonic()
    data: dict[str, Any] = {"event_id": event.id, "host": event.host, "port": event.port,
                            "origin": req.origin[0], **sess.verdict_data(req.decision)}
    sess.forwards += 1
    if not sess.emit("forward.start", data):  # a tunnel is on record before it opens, or not at all
        chan.close()
        sess.emit("forward", {**data, **sess.verdict_data(AuditGate(sess.ctx).unrecorded()),
                              "result": "refused"})
        return
    try:
        up = sess.upstream.get().open_channel("direct-tcpip", req.dest, req.origin,
                                              timeout=sess.opts.upstream_timeout)
    except (UpstreamError, paramiko.SSHException, EOFError, OSError) as exc:
        chan.close()
        sess.emit("forward", {**data, "result": "failed", "error": getattr(exc, "message", "") or repr(exc)})
        return
    bytes_in, bytes_out = bridge_stream(chan, up, sess.touch)
    sess.count(bytes_in, bytes_out)
    sess.emit("forward", {**data, "result": "closed", "bytes_in": bytes_in, "bytes_out": bytes_out,
                          "duration_s": round(time.monotonic() - started, 3)})
