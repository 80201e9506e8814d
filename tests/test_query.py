"""Parsing: the query syntax into a typed tree, malformed input, limits."""

from __future__ import annotations

import pytest

import frsearch
from frsearch.query import parse_query


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "(Xiaomi", "Xiaomi)", "OR Xiaomi", "Xiaomi NOT", "foo:Xiaomi",
     "Xiaomi AND", "((((Xiaomi))))", '"Lei Jun"~', "Xiaomi ~ *", "***Xiaomi", "Xia*mi"],
)
def test_malformed_queries_search_what_can_be_read(seed_index: frsearch.Index, query: str) -> None:
    results = seed_index.search(query)
    assert isinstance(results.total, int)


@pytest.mark.parametrize(
    "query", ["", "   ", "le la les", "!!!", "*", "a*", "NOT", "AND", "()", '""', "title:", "-", "+"]
)
def test_queries_with_nothing_searchable_raise_query_error(seed_index: frsearch.Index, query: str) -> None:
    with pytest.raises(frsearch.QueryError):
        seed_index.search(query)


def test_deep_nesting_and_long_queries_are_refused() -> None:
    with pytest.raises(frsearch.QueryError, match="deep"):
        parse_query("(" * 100 + "x" + ")" * 100)
    with pytest.raises(frsearch.QueryError, match="too long"):
        parse_query("mot " * 2000)


def test_a_split_word_with_a_wildcard_keeps_each_part_once() -> None:
    assert parse_query("etats-uni*").describe() == "(+etat +uni*)"
    assert parse_query("États-Unis").describe() == '("etat unis" OR (etat unis))'
    assert [w.term for w in parse_query("États-Unis").words()] == ["etat", "unis"]


def test_an_ordinal_written_with_a_space_is_one_query_word() -> None:
    assert parse_query("13 ème étage").describe() == "(13 etag)"
    assert parse_query("le 1 er mai").describe() == "(1 mai)"
    assert parse_query("1 erreur").describe() == "(1 erreur)"
