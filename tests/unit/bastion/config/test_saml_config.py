"""The ``saml`` section and ``public_host``: validation with precise messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.config.load import load_settings
from bastion.config.model import SAMLConfig
from bastion.config.schema import ConfigError


def load(tmp_path: Path, saml: dict[str, Any], **top: Any):  # type: ignore[no-untyped-def]
    path = tmp_path / "bastion.yaml"
    path.write_text(yaml.safe_dump({"state_dir": "./var", "saml": saml, **top}))
    return load_settings(path)


def test_defaults(tmp_path: Path) -> None:
    cfg = load(tmp_path, {"idp_metadata_file": "idp.xml"}).config
    saml = cfg.saml
    assert saml is not None
    assert saml.idp_metadata_file == str(tmp_path / "idp.xml")  # resolved against the config's directory
    assert saml.entity_id == "http://127.0.0.1:8080/saml/metadata"
    assert saml.session_lifetime == 8 * 3600 and saml.login_timeout == 600 and saml.clock_skew == 60
    assert saml.attribute_names["groups"] == "eduPersonAffiliation"
    assert cfg.public_host is None


def test_partial_attributes_keep_defaults(tmp_path: Path) -> None:
    saml = load(tmp_path, {"idp_metadata_url": "https://idp/x", "attributes": {"groups": "memberOf"}}).config.saml
    assert saml is not None and saml.attribute_names == {
        "user_id": "uid", "email": "mail", "display_name": "displayName", "groups": "memberOf"}


@pytest.mark.parametrize(("saml", "message"), [
    ({}, "set exactly one of idp_metadata_url and idp_metadata_file"),
    ({"idp_metadata_url": "https://a", "idp_metadata_file": "b"}, "set exactly one"),
    ({"idp_metadata_url": "ftp://idp/metadata"}, "must be an http(s) URL"),
    ({"idp_metadata_file": "x", "sp_base_url": "bastion.example.com"}, "sp_base_url"),
    ({"idp_metadata_file": "x", "sp_base_url": "https://b/?x=1"}, "without query"),
    ({"idp_metadata_file": "x", "roles": {"superuser": ["root"]}}, "unknown role(s) superuser"),
    ({"idp_metadata_file": "x", "attributes": {"phone": "tel"}}, "unknown field(s) phone"),
    ({"idp_metadata_file": "x", "clock_skew": 301}, "clock_skew must be between 0 and 300"),
    ({"idp_metadata_file": "x", "session_lifetime": 10}, "session_lifetime must be at least 60"),
    ({"idp_metadata_file": "x", "login_timeout": 5}, "login_timeout must be between 30 and 3600"),
    ({"idp_metadata_file": "x", "allow_unsolicited": "yes"}, "saml.allow_unsolicited: expected true or false"),
    ({"idp_metadata_file": "x", "session_lifetme": 3600}, "saml.session_lifetme: unknown key"),
])
def test_invalid(tmp_path: Path, saml: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, saml)
    assert message in str(err.value)
    assert str(tmp_path / "bastion.yaml") in str(err.value)


def test_public_host(tmp_path: Path) -> None:
    assert load(tmp_path, {"idp_metadata_file": "x"}, public_host="db.example").config.public_host == "db.example"


def test_sp_entity_id_override() -> None:
    saml = SAMLConfig(idp_metadata_file="x", sp_base_url="https://b.example/", sp_entity_id="urn:bastion")
    assert saml.entity_id == "urn:bastion" and saml.base_url == "https://b.example"
