"""Journal record -> index document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.audit.schema import (
    SCHEMA_VERSION,
    SESSION_FIELDS,
    SessionInfo,
    doc_id,
    document,
    encode_data,
    index_name,
    index_template,
)


def record(type_: str, data: dict, seq: int = 7, session: str = "s1") -> dict:
    return {"seq": seq, "prev": "p", "hash": "h",
            "event": {"type": type_, "session_id": session, "at": 1700000000.25, "data": data, "id": "", "schema": 1}}


def test_query_document_carries_session_context():
    info = SessionInfo(user="alice", target="shop-db", protocol="mysql", account="admin", client_addr="1.2.3.4:5")
    doc = document(record("query", {"statement": "SELECT 1", "verdict": "deny", "rule": "r", "event_id": "e1",
                                    "reason": "no", "error": ""}), "node1", info)
    assert doc["id"] == "node1:000000000007" and doc["time"] == 1700000000250
    assert (doc["user"], doc["target"], doc["protocol"], doc["account"]) == ("alice", "shop-db", "mysql", "admin")
    assert doc["statement"] == "SELECT 1" and doc["verdict"] == "deny" and doc["message"] == "no"
    assert doc["event_id"] == "e1" and doc["schema"] == 1 and doc["command"] == ""  # the record's own version


def test_an_execution_shows_its_parameters_after_its_statement():
    data = {"statement": "SELECT * FROM t WHERE a = ? AND b = ?", "command": "execute", "event_id": "e1.3",
            "prepared": "e1", "params": ["'************1111'", "NULL"]}
    doc = document(record("query", data), "node1", None)
    assert doc["statement"] == "SELECT * FROM t WHERE a = ? AND b = ?\nUSING '************1111', NULL"
    assert doc["event_id"] == "e1.3" and doc["data"]["prepared"] == "e1"
    unversioned = record("query", data)
    del unversioned["event"]["schema"]
    assert document(unversioned, "node1", None)["schema"] == SCHEMA_VERSION == 2
    no_params = document(record("query", {**data, "params": []}), "node1", None)
    assert no_params["statement"] == data["statement"]


def test_ssh_documents():
    cmd = document(record("command", {"line": "ls -la", "mode": "shell", "audit_only": True, "would": "deny"}),
                   "n", None)
    assert cmd["command"] == "ls -la" and cmd["verdict"] == "deny" and cmd["path"] == ""
    scp = document(record("command", {"line": "scp -t /tmp/x", "scp": {"op": "write", "path": "/tmp/x"},
                                      "verdict": "allow"}), "n", None)
    assert scp["path"] == "/tmp/x"
    fop = document(record("fileop", {"op": "rename", "path": "/a", "target_path": "/b", "result": "ok"}), "n", None)
    assert fop["path"] == "/a\n/b" and fop["result"] == "ok"
    start = document(record("session.start", {"user": "bob", "target": "h", "protocol": "ssh"}), "n", None)
    assert start["user"] == "bob" and start["protocol"] == "ssh"


def test_ids_indices_and_template():
    assert doc_id("n", 12, "o0003") == "n:000000000012:o0003"
    assert index_name("bastion-audit", 1700000000250) == "bastion-audit-2023.11.14"
    template = index_template("bastion-audit", replicas=1)
    assert template["index_patterns"] == ["bastion-audit-*"]
    props = template["template"]["mappings"]["properties"]
    assert props["user"]["type"] == "keyword" and props["statement"]["analyzer"] == "audit_text"
    assert props["time"]["type"] == "date" and props["data"]["enabled"] is False
    assert template["template"]["settings"]["number_of_replicas"] == 1


def test_every_document_has_the_session_fields():
    doc = document(record("query", {"statement": "SELECT 1", "user": "own"}), "n", SessionInfo(target="t"))
    assert {f: doc[f] for f in SESSION_FIELDS} == {"user": "own", "target": "t", "protocol": "", "account": "",
                                                   "client_addr": ""}
    assert list(doc)[-6:] == ["data", *SESSION_FIELDS]


@pytest.mark.parametrize(("data", "encoded"), [
    ({"b": 1, "a": [1.5, None, True], "c": {"z": "", "y": "x"}}, '{"a":[1.5,null,true],"b":1,"c":{"y":"x","z":""}}'),
    ({"statement": "SELECT 'é' -- ✓"}, '{"statement":"SELECT \'é\' -- ✓"}'),  # UTF-8, not \\u escapes
    ({"big": 2 ** 70}, '{"big":1180591620717411303424}'),  # past 64 bits: through json
    ({"path": Path("/tmp/x")}, '{"path":"/tmp/x"}'),  # not JSON: its str
    ({}, "{}"),
])
def test_encode_data_is_compact_sorted_json(data, encoded):
    assert encode_data({"data": data}) == encoded
    assert json.loads(encoded) == json.loads(json.dumps(data, default=str))


def test_encode_data_writes_nan_as_null():
    assert encode_data({"data": {"ms": float("nan"), "cap": float("inf")}}) == '{"cap":null,"ms":null}'
