"""BastionServer: the authenticated session is made once, whoever asks first."""

from __future__ import annotations

from typing import Any

import gevent

from plugins.ssh.options import SSHOptions
from plugins.ssh.server import BastionServer


class _Authenticated:
    """The one transport method ``ensure_session`` consults."""

    def is_authenticated(self) -> bool:
        return True


def test_concurrent_askers_get_one_session() -> None:
    made: list[object] = []

    def make(session: Any) -> Any:
        gevent.sleep(0.01)  # beginning a session waits on the journal and the state store
        made.append(object())
        return made[-1]

    server = BastionServer(None, SSHOptions(), ("127.0.0.1", 1), _Authenticated(),  # type: ignore[arg-type]
                           make, lambda sess, req: None)  # type: ignore[arg-type, return-value]
    server.session = object()  # type: ignore[assignment]
    askers = [gevent.spawn(server.ensure_session) for _ in range(5)]
    gevent.joinall(askers, raise_error=True)
    assert len(made) == 1
    assert {g.value for g in askers} == {made[0]}


def test_no_session_before_authentication() -> None:
    server = BastionServer(None, SSHOptions(), ("127.0.0.1", 1), _Authenticated(),  # type: ignore[arg-type]
                           lambda s: s, lambda sess, req: None)  # type: ignore[arg-type, return-value]
    assert server.ensure_session() is None
