"""An in-process web app with a test IdP (own key pair, metadata file); Flask test client only."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from bastion.config.load import load_settings
from bastion.context import PluginContext
from bastion.core.contracts import AuditEvent
from bastion.state.store import StateStore
from bastion.state.tokens import TokenStore
from bastion.state.vault import Vault
from bastion.web import create_app
from tests.samlkit import TestIdP, encode, request_id_from_redirect

BASE = "http://127.0.0.1:8080"
ACS = f"{BASE}/saml/acs"
ENTITY = f"{BASE}/saml/metadata"

ACCESS = [
    {"id": "dba-admin", "groups": ["dba"], "targets": ["shop-db"], "account": "admin",
     "description": "DBAs work with the admin account"},
    {"id": "dev-readonly", "groups": ["developers"], "targets": ["shop-db"], "account": "readonly",
     "roles": ["ro"]},
    {"id": "ops-ssh", "groups": ["dba"], "targets": ["demo-host"], "account": "sshdemo"},
]


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def emit(self, event: AuditEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass

    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture(scope="session")
def test_idp() -> TestIdP:
    return TestIdP.generate()


def write_config(workdir: Path, idp: TestIdP, saml: dict[str, Any] | None = None, **top: Any) -> Path:
    (workdir / "idp.xml").write_text(idp.metadata())
    (workdir / "access.yaml").write_text(yaml.safe_dump({"access": ACCESS}))
    config: dict[str, Any] = {
        "state_dir": str(workdir / "var"),
        "listeners": {"web": {"port": 8080}, "mysql": {"port": 3307}, "ssh": {"port": 2222}},
        "targets": [
            {"name": "shop-db", "protocol": "mysql", "host": "10.0.0.5", "port": 3306, "tags": ["prod"],
             "accounts": ["readonly", "admin"]},
            {"name": "demo-host", "protocol": "ssh", "host": "10.0.0.6", "port": 22, "accounts": ["sshdemo"]},
        ],
        "policies": {"files": ["access.yaml"]},
        "tokens": {"default_ttl": 3600, "max_ttl": 43200},
        "saml": {"idp_metadata_file": "idp.xml", "sp_base_url": BASE,
                 "roles": {"admin": ["admins"], "approver": ["approvers"], "auditor": ["auditors"]},
                 **(saml or {})},
        **top,
    }
    if config.pop("no_saml", False):
        del config["saml"]
    path = workdir / "bastion.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@dataclass
class Web:
    app: Flask
    ctx: PluginContext
    sink: ListSink
    idp: TestIdP
    client: FlaskClient
    clients: list[FlaskClient] = field(default_factory=list)

    def new_client(self) -> FlaskClient:
        return self.app.test_client()

    def start_login(self, client: FlaskClient | None = None, next_path: str = "/") -> str:
        """GET /saml/login; the AuthnRequest ID the SP remembered."""
        resp = (client or self.client).get("/saml/login", query_string={"next": next_path})
        assert resp.status_code == 302, resp.data
        return request_id_from_redirect(resp.headers["Location"])

    def response_for(self, request_id: str | None, **kw: Any) -> str:
        kw.setdefault("acs", ACS)
        kw.setdefault("audience", ENTITY)
        return encode(self.idp.response(in_response_to=request_id, **kw))

    def post_acs(self, saml_response: str, client: FlaskClient | None = None, relay_state: str = "/") -> Any:
        return (client or self.client).post("/saml/acs", data={"SAMLResponse": saml_response,
                                                               "RelayState": relay_state})

    def login(self, user: str = "alice", groups: tuple[str, ...] = ("dba", "admins"),
              client: FlaskClient | None = None, next_path: str = "/", **kw: Any) -> Any:
        rid = self.start_login(client, next_path)
        resp = self.post_acs(self.response_for(rid, user=user, groups=groups, **kw), client, relay_state=next_path)
        assert resp.status_code == 303, resp.data
        return resp

    def csrf(self, client: FlaskClient | None = None) -> str:
        with (client or self.client).session_transaction() as sess:
            if "csrf" not in sess:
                sess["csrf"] = secrets.token_urlsafe(32)
            return str(sess["csrf"])


def build_web(workdir: Path, idp: TestIdP, saml: dict[str, Any] | None = None, **top: Any) -> Web:
    path = write_config(workdir, idp, saml, **top)
    settings = load_settings(path, known_protocols={"mysql", "ssh"})
    store = StateStore(settings.config.state.url)
    store.migrate()
    sink = ListSink()
    ctx = PluginContext(settings=settings, store=store, tokens=TokenStore(store), vault=Vault(store, os.urandom(32)),
                        sinks=[sink])
    app = create_app(ctx, test_config={"TESTING": True})
    return Web(app, ctx, sink, idp, app.test_client())


@pytest.fixture
def make_web(tmp_path: Path, test_idp: TestIdP) -> Iterator[Callable[..., Web]]:
    made: list[Web] = []

    def make(saml: dict[str, Any] | None = None, **top: Any) -> Web:
        workdir = tmp_path / f"w{len(made)}"
        workdir.mkdir()
        web = build_web(workdir, test_idp, saml, **top)
        made.append(web)
        return web

    yield make
    for web in made:
        web.ctx.store.dispose()


@pytest.fixture
def web(make_web: Callable[..., Web]) -> Web:
    return make_web()
