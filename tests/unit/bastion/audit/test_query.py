"""The shared query builder: FTS5 expressions, SQL clauses and the OpenSearch DSL agree."""

from __future__ import annotations

import pytest

from bastion.audit.query import Search, decode_cursor, dsl, encode_cursor, fts_match, mark, page_from_dsl, sql_where
from bastion.audit.schema import TEXT_FIELDS


def test_terms_split_like_the_analyzer():
    q = Search(text='customers "/etc/passwd" users.email Café_X')
    assert fts_match(q) == '"customers" AND "etc passwd" AND "users email" AND "café_x"'
    body = dsl(q)
    must = body["query"]["bool"]["must"]
    assert [m["multi_match"]["query"] for m in must] == ["customers", "etc passwd", "users email", "café_x"]
    assert [m["multi_match"]["type"] for m in must] == ["best_fields", "phrase", "phrase", "best_fields"]
    assert all(m["multi_match"]["fields"] == list(TEXT_FIELDS) for m in must)


def test_punctuation_only_text_means_no_text_query():
    assert fts_match(Search(text=" ./- ")) == ""
    assert dsl(Search(text="--"))["query"]["bool"]["must"] == [{"match_all": {}}]
    assert "highlight" not in dsl(Search(text="--"))


def test_filters_time_range_and_cursor():
    cursor = encode_cursor((1700000000123, "n:000000000042"))
    q = Search(user=("alice", "bob"), verdict=("deny",), since=1700000000.0, until=1700000100.5, after=cursor)
    clauses, params = sql_where(q)
    assert clauses[0] == "d.user IN (?,?)" and params[:2] == ["alice", "bob"]
    assert "d.time >= ?" in clauses and 1700000000000 in params and 1700000100500 in params
    assert clauses[-1] == "(d.time < ? OR (d.time = ? AND d.id < ?))"
    body = dsl(q)
    assert {"terms": {"user": ["alice", "bob"]}} in body["query"]["bool"]["filter"]
    assert {"range": {"time": {"gte": 1700000000000, "lt": 1700000100500}}} in body["query"]["bool"]["filter"]
    assert body["search_after"] == [1700000000123, "n:000000000042"]
    assert body["sort"] == [{"time": {"order": "desc"}}, {"id": {"order": "desc"}}]
    oldest = sql_where(Search(order="oldest", after=cursor))[0]
    assert oldest[-1] == "(d.time > ? OR (d.time = ? AND d.id > ?))"


def test_cursor_round_trip_and_garbage():
    assert decode_cursor(encode_cursor((5, "a:b"))) == (5, "a:b")
    with pytest.raises(ValueError):
        decode_cursor("not-a-cursor")


def test_search_validation():
    with pytest.raises(ValueError):
        Search(size=0)
    with pytest.raises(ValueError):
        Search(order="sideways")  # type: ignore[arg-type]


def test_highlights_are_escaped():
    assert mark("<b>\x02x\x03</b>") == "&lt;b&gt;<mark>x</mark>&lt;/b&gt;"


def test_page_from_engine_response():
    response = {"hits": {"total": {"value": 10000, "relation": "gte"}, "hits": [
        {"_source": {"id": "n:1", "time": 1500, "type": "query"}, "sort": [1500, "n:1"],
         "highlight": {"statement": ["a \x02b\x03"]}}]}}
    page = page_from_dsl(response, Search(size=1))
    assert page.total == 10000 and not page.total_exact
    assert page.hits[0].time == 1.5 and page.hits[0].highlights == {"statement": ["a <mark>b</mark>"]}
    assert decode_cursor(page.next_cursor or "") == (1500, "n:1")
    assert page_from_dsl(response, Search(size=2)).next_cursor is None
