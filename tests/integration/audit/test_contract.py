"""The index contract, identical for sqlite, OpenSearch and Elasticsearch: what a search finds, and how."""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest

from bastion.audit.backends import BackendUnavailable
from bastion.audit.query import Search
from bastion.audit.state import IndexState
from tests.integration.audit.scenario import CARD, mysql_session, ssh_session


@pytest.fixture
def scenario(audit_env):
    mysql = mysql_session(audit_env)
    ssh = ssh_session(audit_env)
    live = ssh_session(audit_env, user="carol", end=False)
    audit_env.emit("auth", "", protocol="mysql", result="refused", reason="bad token", client_addr="10.0.0.9:1")
    audit_env.index()
    return {"mysql": mysql, "ssh": ssh, "live": live}


def sessions_of(page):
    return {h.doc["session"] for h in page.hits}


def test_statement_fragment_finds_the_mysql_session(audit_env, scenario):
    page = audit_env.search.search(Search(text="customers WHERE city"))
    assert sessions_of(page) == {scenario["mysql"]}
    hit = page.hits[0]
    assert hit.doc["type"] == "query" and hit.doc["user"] == "alice" and hit.doc["target"] == "shop-db"
    assert "<mark>customers</mark>" in " ".join(hit.highlights["statement"])
    assert hit.doc["data"]["masked"] == {"email:email": 3}


def test_command_finds_the_ssh_session(audit_env, scenario):
    page = audit_env.search.search(Search(text="needle"))
    assert {h.doc["type"] for h in page.hits} == {"command"}
    assert sessions_of(page) == {scenario["ssh"], scenario["live"]}
    assert {h.doc["user"] for h in page.hits} == {"bob", "carol"} and page.hits[0].doc["protocol"] == "ssh"


def test_file_path_finds_the_file_operation(audit_env, scenario):
    for text in ('"/srv/reports/q3-revenue.csv"', "q3-revenue.csv", "reports"):
        page = audit_env.search.search(Search(text=text))
        assert [h.doc["type"] for h in page.hits] == ["fileop", "fileop"], text
        assert sessions_of(page) == {scenario["ssh"], scenario["live"]}


def test_word_from_terminal_output_finds_the_session(audit_env, scenario):
    page = audit_env.search.search(Search(text="marmoset"))
    assert sessions_of(page) == {scenario["ssh"], scenario["live"]}
    assert {h.doc["type"] for h in page.hits} == {"output"}
    assert all(h.doc["user"] in ("bob", "carol") for h in page.hits)
    assert "<mark>marmoset</mark>" in " ".join(page.hits[0].highlights["output"])
    assert "\x1b" not in page.hits[0].doc["output"]


def test_terminal_output_is_masked_before_indexing(audit_env, scenario):
    assert audit_env.search.search(Search(text='"4111 1111 1111 1111"')).total == 0
    assert audit_env.search.search(Search(text="card on file")).total == 2
    page = audit_env.search.search(Search(type=("output",), size=100))
    assert all(CARD not in h.doc["output"] for h in page.hits)


def test_filters(audit_env, scenario):
    s = audit_env.search
    assert {h.doc["user"] for h in s.search(Search(user=("alice",), size=100)).hits} == {"alice"}
    denied = s.search(Search(verdict=("deny",)))
    assert [h.doc["statement"] for h in denied.hits] == ["DELETE FROM orders WHERE id = 7"]
    assert s.search(Search(rule=("no-delete",))).total == 1
    assert {h.doc["protocol"] for h in s.search(Search(protocol=("ssh",), size=100)).hits} == {"ssh"}
    assert s.search(Search(type=("session.start",), target=("shop-db",))).total == 1
    assert s.search(Search(type=("auth",))).hits[0].doc["result"] == "refused"
    assert s.search(Search(session=(scenario["mysql"],))).total == 3
    assert s.search(Search(text="customers", user=("bob",))).total == 0
    everything = s.search(Search(size=1000, order="oldest")).hits
    middle = everything[len(everything) // 2].time
    later = s.search(Search(since=middle, size=1000)).hits
    earlier = s.search(Search(until=middle, size=1000)).hits
    assert len(later) + len(earlier) == len(everything) and min(h.time for h in later) >= middle


def test_pagination_with_search_after(audit_env):
    sid = mysql_session(audit_env)
    for i in range(120):
        audit_env.emit("query", sid, protocol="mysql", command="query", statement=f"SELECT {i} FROM paged_table",
                       verdict="allow", rule="r")
    audit_env.index()
    for order in ("newest", "oldest"):
        seen: list[str] = []
        q = Search(text="paged_table", size=25, order=order)
        pages = 0
        while True:
            page = audit_env.search.search(q)
            assert page.total == 120
            seen += [h.doc["statement"] for h in page.hits]
            pages += 1
            if not page.next_cursor:
                break
            q = Search(text="paged_table", size=25, order=order, after=page.next_cursor)
        expected = [f"SELECT {i} FROM paged_table" for i in range(120)]
        assert seen == (expected if order == "oldest" else expected[::-1])
        assert pages in (5, 6)


def test_session_timeline_and_live_sessions(audit_env, scenario):
    timeline = audit_env.search.session_timeline(scenario["ssh"])
    types = [h.doc["type"] for h in timeline]
    assert types[0] == "session.start" and types[-1] == "session.end"
    assert "output" not in types and types.count("command") == 2
    with_output = audit_env.search.session_timeline(scenario["ssh"], include_output=True)
    assert len(with_output) > len(timeline)
    live = audit_env.search.live_sessions()
    assert {s["session"] for s in live} == {scenario["mysql"], scenario["live"]}
    assert {s["user"] for s in live} == {"alice", "carol"}


def test_exports_stream_every_hit(audit_env, scenario):
    q = Search(session=(scenario["mysql"],))
    rows = list(csv.DictReader(io.StringIO("".join(audit_env.search.export_csv(q)))))
    assert {r["type"] for r in rows} == {"session.start", "query"} and len(rows) == 3
    lines = [json.loads(line) for line in "".join(audit_env.search.export_json(q)).splitlines()]
    assert len(lines) == 3 and all(line["session"] == scenario["mysql"] for line in lines)


def test_indexing_twice_stores_each_event_once(audit_env, scenario):
    before = audit_env.search.search(Search(size=1000)).total
    # forget the position (as if the indexer crashed after every write): everything is sent again
    state = IndexState(audit_env.dir / "audit" / "indexer.db", audit_env.backend.key + "-other")
    audit_env.indexer.state = state
    assert audit_env.index() > 0
    hits = audit_env.search.search(Search(size=1000)).hits
    assert len(hits) == before == len({h.id for h in hits})


def test_crash_between_write_and_commit_resends_without_duplicates(audit_env, monkeypatch):
    sid = mysql_session(audit_env)
    commit = audit_env.indexer.state.commit

    def crash(*args, **kwargs):
        raise BackendUnavailable("simulated crash before the position was saved")

    monkeypatch.setattr(audit_env.indexer.state, "commit", crash)
    with pytest.raises(BackendUnavailable):
        audit_env.indexer.step()
    monkeypatch.setattr(audit_env.indexer.state, "commit", commit)
    audit_env.index()
    page = audit_env.search.search(Search(session=(sid,)))
    assert page.total == 3 and len({h.id for h in page.hits}) == 3


def test_searches_answer_while_the_first_index_is_created(audit_env):
    """The first bulk request creates the daily index; searches racing it answer (an engine
    replies 503 until the new index's primary shard has started)."""
    sid = mysql_session(audit_env)
    results: list[int] = []
    indexing = threading.Thread(target=audit_env.index)
    indexing.start()
    while indexing.is_alive() or not results:
        results.append(audit_env.search.search(Search(session=(sid,))).total)
    indexing.join()
    audit_env.backend.refresh()
    assert audit_env.search.search(Search(session=(sid,))).total == 3
    assert set(results) <= {0, 1, 2, 3}
