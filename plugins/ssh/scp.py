"""Legacy scp (``scp -O``, and OpenSSH < 9): the exec command names the transfer.

``scp -O local host:dir`` makes the client run ``scp -t dir`` on the server (upload:
the server is the sink), ``scp -O host:file .`` runs ``scp -f file`` (download). The
bastion judges this as ``FileOp``\\ s before the command runs upstream. A denied
transfer is answered in the scp protocol itself (``\\x02`` + message) so the client
prints the reason. Pure: no I/O.

The line is parsed as the target's shell parses it (policies.shell), so the endpoint is
found in any flag order (``-B -t``, ``-t -v -B``, ``-prt``), under wrappers
(``command scp``, ``exec scp``, ``sudo scp``, ``sh -c 'scp -t x'``) and by any path
(``/usr/bin/scp``). A line that looks like an scp endpoint but cannot be judged exactly
is an :class:`UnparseableScp`: the plugin refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policies.shell import SimpleCommand, Word, parse

_FLAGS = frozenset("dpvqrBTO3AR")
"""Options an scp endpoint accepts without a value (-r recursive, -d target is a dir…)."""
_WITH_VALUE = frozenset("cFiJlmoPSDX")
_MENTION = re.compile(r"scp.*(^|\s|['\"])-[-A-Za-z0-9]*[tf]", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ScpRequest:
    op: str
    """``open-write`` for an upload (``-t``), ``open-read`` for a download (``-f``)."""
    path: str
    """The first path; ``paths`` has them all (a download may name several sources)."""
    recursive: bool = False
    paths: tuple[str, ...] = ()
    via: tuple[str, ...] = ()
    """Wrappers the endpoint runs under (``sudo``…)."""

    def __post_init__(self) -> None:
        if not self.paths:
            object.__setattr__(self, "paths", (self.path,))


@dataclass(frozen=True, slots=True)
class UnparseableScp:
    """An exec line that starts an scp endpoint the bastion cannot judge exactly: refuse it."""

    reason: str
    op: str = "scp-unparseable"
    path: str = ""
    recursive: bool = False


def parse_scp(command: str) -> ScpRequest | UnparseableScp | None:
    """The transfer an ``scp -t``/``scp -f`` line asks for; None if the line starts no
    scp endpoint (it is then judged as a command only)."""
    parsed = parse(command)
    if parsed.unknown:
        return UnparseableScp(f"unparseable scp endpoint: {parsed.unknown[0]}") if _MENTION.search(command) else None
    found: list[ScpRequest | UnparseableScp] = []
    for cmd in parsed.commands:
        if cmd.program == "scp":
            request = _endpoint(cmd)
            if request is not None:
                found.append(request)
    if not found:
        return None
    if len(found) > 1:
        return UnparseableScp("unparseable scp endpoint: several scp endpoints in one line")
    request = found[0]
    wrappers = len(request.via) if isinstance(request, ScpRequest) else 0
    if isinstance(request, ScpRequest) and len(parsed.commands) != wrappers + 1:
        return UnparseableScp("unparseable scp endpoint: scp runs together with other commands")
    return request


def _endpoint(cmd: SimpleCommand) -> ScpRequest | UnparseableScp | None:
    """``scp``'s own options (BSD getopt: they end at the first operand)."""
    argv = cmd.argv
    mode, recursive, i = "", False, 1
    while i < len(argv):
        word, i = argv[i], i + 1
        if not word.static:
            return UnparseableScp(f"unparseable scp endpoint: option {word.text!r} not known before it runs")
        text = word.text
        if text == "--" or not text.startswith("-") or text == "-":
            i -= text != "--"
            break
        for j, letter in enumerate(text[1:], start=1):
            if letter in "tf":
                if mode and mode != letter:
                    return UnparseableScp("unparseable scp endpoint: both -t and -f")
                mode = letter
            elif letter == "r":
                recursive = True
            elif letter in _WITH_VALUE:
                i += 0 if text[j + 1:] else 1
                break
            elif letter not in _FLAGS:
                endpoint = mode or any(re.fullmatch(r"-[A-Za-z]*[tf][A-Za-z]*", w.text) for w in argv)
                return UnparseableScp(f"unparseable scp endpoint: option -{letter}") if endpoint else None
    if not mode:
        return None  # scp as a client on the target: a command like any other
    return _request(mode, recursive, argv[i:], cmd.via)


def _request(mode: str, recursive: bool, operands: tuple[Word, ...],
             via: tuple[str, ...]) -> ScpRequest | UnparseableScp:
    if any(not w.static for w in operands):
        return UnparseableScp("unparseable scp endpoint: a path not known before it runs (expansion or wildcard)")
    paths = tuple(w.text for w in operands)
    if not paths or (mode == "t" and len(paths) != 1):
        return UnparseableScp(f"unparseable scp endpoint: scp -{mode} with {len(paths)} paths")
    return ScpRequest("open-write" if mode == "t" else "open-read", paths[0], recursive, paths, via)


def scp_refusal(message: str) -> bytes:
    """A fatal scp protocol error line: the client prints ``message`` and stops."""
    return b"\x02" + message.replace("\n", " ").encode("utf-8", errors="replace") + b"\n"
