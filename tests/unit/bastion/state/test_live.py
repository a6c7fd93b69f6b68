"""Which open sessions must end: an administrator asked, their token was revoked, or (when
configured) it expired — as any process sees it through the state store."""

from __future__ import annotations

import pytest

from bastion.state.live import LiveSessions
from bastion.state.store import StateStore
from bastion.state.tokens import TokenStore


@pytest.fixture()
def store(tmp_path):
    s = StateStore(f"sqlite:///{tmp_path}/state.db")
    s.migrate()
    return s


def open_session(live: LiveSessions, sid: str, token_id: str | None) -> None:
    live.register(sid, node="n1", user="bob", target="db", protocol="mysql", client_addr="c:1",
                  token_id=token_id, started_at=1.0)


def test_revoked_expired_and_ended_sessions_are_due(store):
    live, tokens = LiveSessions(store), TokenStore(store)
    _, keep = tokens.issue("bob", {"dev"}, 600)
    _, revoked = tokens.issue("bob", {"dev"}, 600)
    _, short = tokens.issue("bob", {"dev"}, 1)
    for sid, info in (("keep", keep), ("revoked", revoked), ("short", short), ("ended", keep)):
        open_session(live, sid, info.id)
    tokens.revoke(revoked.id)
    live.request_end("ended", "INC-1")
    later = short.expires_at + 1
    assert live.due(["keep", "revoked", "short", "ended"], end_on_expiry=False, now=later) == {
        "revoked": "its token was revoked", "ended": "ended by an administrator: INC-1"}
    assert live.due(["keep", "short"], end_on_expiry=True, now=later) == {"short": "its token expired"}


def test_a_restarted_node_forgets_what_it_left_registered(store):
    live = LiveSessions(store)
    open_session(live, "a", None)
    live.register("b", node="other", user="x", target="t", protocol="ssh", client_addr="c", token_id=None,
                  started_at=1.0)
    assert live.forget_node("n1") == 1 and [s.id for s in live.list()] == ["b"]
    assert not live.request_end("a", "gone")
