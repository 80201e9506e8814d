"""Searching end to end: the seed behaviours, the query syntax, filters, sorts, pages, threads."""

from __future__ import annotations

import pytest

import frsearch
from frsearch.search import parse_query
from tests.conftest import index_of as _index_of
from tests.conftest import names


def search(index: frsearch.Index, query: str, **kw: object) -> list[str]:
    return names(index.search(query, **kw))


def test_lei_jun_blacklist_finds_001_first(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "Lei Jun blacklist")[0] == "001_259af9e2aad0fd78.txt"


def test_etats_unis_finds_001_and_003_and_highlights_as_written(seed_index: frsearch.Index) -> None:
    results = seed_index.search("etats unis")
    found = names(results)
    assert "001_259af9e2aad0fd78.txt" in found and "003_94e0374b50dd973d.txt" in found
    hit = next(h for h in results if h.path.endswith("001_259af9e2aad0fd78.txt"))
    highlighted = [hit.snippet.text[s:e] for s, e in hit.snippet.spans]
    assert "États-Unis" in highlighted
    assert [hit.title[s:e] for s, e in hit.title_spans] == ["États-Unis"]


def test_hyphenated_compound_phrase_and_accented_forms(seed_index: frsearch.Index) -> None:
    plain = set(search(seed_index, "etats unis"))
    assert set(search(seed_index, '"etats unis"')) <= plain
    # A free hyphenated word finds its parts together or apart.
    assert set(search(seed_index, "États-Unis")) == plain
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, '"etats unis"')


def test_a_hyphenated_word_ranks_its_phrase_first_then_finds_either_part() -> None:
    index = _index_of(
        "Une pause pour le croûte du pain et la casse du matériel.",
        "La pause casse-croûte est due après six heures.",
        "Le casse est couvert par l'assurance.",
        "Rien de tout cela ici.",
    )
    assert [hit.id for hit in index.search("casse-croûte")][0] == "d1"
    assert {hit.id for hit in index.search("casse-croûte")} == {"d0", "d1", "d2"}
    assert [hit.id for hit in index.search("pause casse-croûte")][0] == "d1"
    # Only a part exists anywhere: the word still finds it.
    assert [hit.id for hit in _index_of("Le casse du siècle.").search("casse-brique")] == ["d0"]


def test_a_hyphenated_word_stays_a_phrase_when_quoted_required_excluded_or_numbered() -> None:
    assert parse_query('"casse-croûte"').describe() == '"cass crout"'
    assert parse_query("+casse-croûte pause").describe() == '(+"cass crout" paus)'
    assert parse_query("pause -casse-croûte").describe() == '(paus -"cass crout")'
    assert parse_query("L1234-5").describe() == '"l1234 5"'
    index = _index_of("Le casse est couvert.", "La pause casse-croûte.")
    assert [hit.id for hit in index.search("pause -casse-croûte")] == []
    assert [hit.id for hit in index.search("casse -casse-croûte")] == ["d0"]


def test_phrase_and_word(seed_index: frsearch.Index) -> None:
    assert search(seed_index, '"Lei Jun" Tesla')[0] == "002_8d6083a8515aed8c.txt"


def test_french_or(seed_index: frsearch.Index) -> None:
    assert sorted(search(seed_index, "Zuckerberg OU Musk")) == [
        "000_60564f4e513c8b83.txt", "002_8d6083a8515aed8c.txt"]
    assert sorted(search(seed_index, "Zuckerberg OR Musk")) == sorted(search(seed_index, "Zuckerberg OU Musk"))


def test_french_not(seed_index: frsearch.Index) -> None:
    expected = ["001_259af9e2aad0fd78.txt", "002_8d6083a8515aed8c.txt", "003_94e0374b50dd973d.txt"]
    assert sorted(search(seed_index, "Xiaomi SAUF Facebook")) == expected
    assert sorted(search(seed_index, "Xiaomi NOT Facebook")) == expected
    assert sorted(search(seed_index, "Xiaomi -Facebook")) == expected


def test_and_and_required(seed_index: frsearch.Index) -> None:
    both = sorted(search(seed_index, "Zuckerberg ET Xiaomi"))
    assert both == ["000_60564f4e513c8b83.txt"]
    assert sorted(search(seed_index, "+Zuckerberg Xiaomi")) == both
    assert sorted(search(seed_index, "Zuckerberg AND Xiaomi")) == both


def test_parentheses(seed_index: frsearch.Index) -> None:
    assert sorted(search(seed_index, "(Zuckerberg OU Musk) SAUF Tesla")) == ["000_60564f4e513c8b83.txt"]


def test_title_field(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "title:Singapour") == ["004_772669a71db343fa.txt"]
    assert search(seed_index, "titre:Singapour") == ["004_772669a71db343fa.txt"]


def test_accents_and_plurals(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "véhicules électriques")[0] == "002_8d6083a8515aed8c.txt"
    assert search(seed_index, "vehicule electrique")[0] == "002_8d6083a8515aed8c.txt"


def test_prefix_and_fuzzy(seed_index: frsearch.Index) -> None:
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, "blacklis*")
    assert len(search(seed_index, "Xiaomy~")) == 5
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, "etat~")
    assert "000_60564f4e513c8b83.txt" in search(seed_index, "Zuckerbergg~2")


def test_phrase_slop(seed_index: frsearch.Index) -> None:
    assert not search(seed_index, '"Xiaomi patron"')
    assert search(seed_index, '"Xiaomi patron"~10')


def test_phrase_across_stopwords(seed_index: frsearch.Index) -> None:
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, '"liste noire des États-Unis"')
    assert "001_259af9e2aad0fd78.txt" in search(seed_index, '"liste noire États-Unis"')


def test_pagination_and_total(seed_index: frsearch.Index) -> None:
    all_hits = search(seed_index, "Xiaomi", limit=10)
    assert len(all_hits) == 5
    assert search(seed_index, "Xiaomi", limit=2, offset=2) == all_hits[2:4]
    assert seed_index.search("Xiaomi", limit=1).total == 5


def test_explain_shows_terms_fields_and_expansions(seed_index: frsearch.Index) -> None:
    lines = seed_index.search("etats unsi -Facebook title:xiaomi smart*").explain()
    text = "\n".join(lines)
    assert lines[0].startswith("query: ")
    assert "etats -> etat" in text
    assert "unsi -> unsi: not in the index" in text
    assert "xiaomi -> xiaom (in title only)" in text
    assert "smart -> smart prefix: matches smartphon" in text
    assert "Facebook -> facebook" in text


def test_filters_by_folder_and_glob(tmp_path, seeds_copy) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.md").write_text("# Xiaomi ailleurs\n\nUn autre texte sur Xiaomi.", encoding="utf-8")
    index = frsearch.Index()
    index.index_paths([str(seeds_copy), str(other)])
    assert len(index.search("Xiaomi")) == 6
    assert names(index.search("Xiaomi", under=str(other))) == ["note.md"]
    assert len(index.search("Xiaomi", under=str(seeds_copy))) == 5
    assert names(index.search("Xiaomi", glob="*.md")) == ["note.md"]
    assert names(index.search("Xiaomi", glob="00[12]_*")) in (
        ["001_259af9e2aad0fd78.txt", "002_8d6083a8515aed8c.txt"],
        ["002_8d6083a8515aed8c.txt", "001_259af9e2aad0fd78.txt"],
    )
    assert index.search("Xiaomi", glob="*.md").total == 1


def test_sort_by_path_and_mtime(seeds_copy) -> None:
    import os
    import time

    newest = seeds_copy / "003_94e0374b50dd973d.txt"
    os.utime(newest, (time.time() + 100, time.time() + 100))
    index = frsearch.Index()
    index.index_paths([str(seeds_copy)])
    by_path = names(index.search("Xiaomi", sort="path"))
    assert by_path == sorted(by_path)
    assert names(index.search("Xiaomi", sort="mtime"))[0] == newest.name
    with pytest.raises(frsearch.QueryError):
        index.search("Xiaomi", sort="size")


def test_searching_from_several_threads(seed_index: frsearch.Index) -> None:
    from concurrent.futures import ThreadPoolExecutor

    queries = ["Lei Jun blacklist", "etats unis", "Zuckerberg OU Musk", "title:Singapour"] * 10
    expected = {q: names(seed_index.search(q)) for q in set(queries)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda q: (q, names(seed_index.search(q))), queries))
    assert all(found == expected[q] for q, found in results)


def test_every_spelling_of_an_ordinal_finds_the_others() -> None:
    index = _index_of(
        "Le bureau est dans le 13e arrondissement.",
        "Une église du XIXe siècle.",
        "Le 1er mai est chômé.",
    )
    for query in ("13ème arrondissement", "13eme", "13 ème", "XIIIe", "13e"):
        assert [hit.id for hit in index.search(query)] == ["d0"], query
    for query in ("19ème siècle", "XIXème", "19e"):
        assert [hit.id for hit in index.search(query)][0] == "d1", query
    hit = index.search("1ère mai")[0]
    assert hit.id == "d2"
    assert [hit.snippet.text[s:e] for s, e in hit.snippet.spans] == ["1er mai"]


