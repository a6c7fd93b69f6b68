"""The Kibana / OpenSearch Dashboards assets in docs/kibana: the index template the bastion
installs (field types as docs/audit.md documents them) and a data view with a saved search.

Checked against each live engine the way Kibana reads an index: ``_mapping`` and
``_field_caps`` of the daily indices the indexer created (types, searchable, aggregatable),
and the saved search's query (``verdict:deny``, the same in KQL and Lucene syntax) run with
its sort, finding exactly the denied events of the scenario.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bastion.audit.schema import KEYWORD_FIELDS, TEXT_FIELDS, index_template
from tests.integration.audit.conftest import ENGINES, make_env
from tests.integration.audit.scenario import mysql_session, ssh_session
from tests.integration.conftest import ROOT

KIBANA = ROOT / "docs" / "kibana"
DOCUMENTED = {**{f: "keyword" for f in KEYWORD_FIELDS}, **{f: "text" for f in TEXT_FIELDS},
              "path.raw": "keyword", "seq": "long", "schema": "integer", "time": "date"}
"""Field types as the table in docs/audit.md (section 1, "Index documents") gives them."""


def saved_objects() -> dict[str, dict[str, Any]]:
    lines = (KIBANA / "bastion-audit.ndjson").read_text().splitlines()
    return {obj["type"]: obj for obj in map(json.loads, lines)}


def test_committed_template_is_the_one_the_bastion_installs() -> None:
    assert json.loads((KIBANA / "index-template.json").read_text()) == index_template("bastion-audit", 1)


def test_documented_types_are_the_template_types() -> None:
    props = index_template("bastion-audit")["template"]["mappings"]["properties"]
    mapped = {name: spec["type"] for name, spec in props.items() if name != "data"}
    mapped["path.raw"] = props["path"]["fields"]["raw"]["type"]
    assert mapped == DOCUMENTED
    doc = (ROOT / "docs" / "audit.md").read_text()
    assert all(f"`{name}`" in doc for name in DOCUMENTED)


def test_saved_search_uses_the_data_view_and_mapped_fields() -> None:
    objects = saved_objects()
    view, search = objects["index-pattern"], objects["search"]
    assert view["attributes"]["title"] in index_template("bastion-audit")["index_patterns"]
    assert DOCUMENTED[view["attributes"]["timeFieldName"]] == "date"
    assert [r["id"] for r in search["references"]] == [view["id"]]
    attrs = search["attributes"]
    assert set(attrs["columns"]) <= set(DOCUMENTED)
    assert all(DOCUMENTED[field] in ("date", "keyword", "long") for field, _ in attrs["sort"])
    source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert source["indexRefName"] == search["references"][0]["name"]


@pytest.fixture(params=ENGINES)
def engine_env(request, tmp_path: Path):
    with make_env(request, tmp_path, request.param) as env:
        yield env


def test_live_index_reads_as_kibana_expects(engine_env) -> None:
    env = engine_env
    mysql_session(env)
    ssh_session(env)
    env.index()
    env.backend.refresh()
    client, pattern = env.backend.client, env.backend.pattern  # type: ignore[attr-defined]

    mappings = dict(client.indices.get_mapping(index=pattern))
    assert mappings, "the indexer created no daily index"
    for index in mappings.values():
        props = index["mappings"]["properties"]
        assert {f: props[f]["type"] for f in props if f != "data"} == {
            f: t for f, t in DOCUMENTED.items() if "." not in f}
        assert props["path"]["fields"]["raw"]["type"] == "keyword"
        assert props["data"]["enabled"] is False

    caps = dict(client.field_caps(index=pattern, fields="*"))["fields"]
    for field, kind in DOCUMENTED.items():
        cap = caps[field][kind]
        assert cap["searchable"], field
        assert cap["aggregatable"] == (kind != "text"), field  # Kibana can chart every non-text field
    assert "data.statement" not in caps  # the whole event is kept in _source only

    search = saved_objects()["search"]["attributes"]
    source = json.loads(search["kibanaSavedObjectMeta"]["searchSourceJSON"])
    body = {"query": {"query_string": {"query": source["query"]["query"]}},
            "sort": [{field: order} for field, order in search["sort"]], "_source": search["columns"]}
    hits = dict(client.search(index=pattern, body=body))["hits"]["hits"]
    assert [h["_source"].get("statement") for h in hits] == ["DELETE FROM orders WHERE id = 7"]
    assert hits[0]["_source"]["user"] == "alice" and hits[0]["_source"]["rule"] == "no-delete"
