"""Snippets: the passages shown for a hit and the spans of its words."""

from __future__ import annotations

import pytest

import frsearch
from frsearch.snippets import make_snippet


def test_snippet_spans_point_at_highlighted_words() -> None:
    body = "Début du texte.\n\nLes   États-Unis ont placé Xiaomi sur liste noire. " + "Bla. " * 100 + "Fin Xiaomi."
    snippet = make_snippet(body, {"etat", "unis", "xiaom"})
    words = [snippet.text[s:e] for s, e in snippet.spans]
    assert words[:2] == ["États-Unis", "Xiaomi"]
    assert "  " not in snippet.text and "\n" not in snippet.text


def test_snippet_without_match_is_the_start_of_the_text() -> None:
    snippet = make_snippet("Un texte sans rien de spécial.", {"absent"})
    assert snippet.text == "Un texte sans rien de spécial." and snippet.spans == []


def test_snippets_are_the_same_when_long_texts_are_searched_by_counted_spans(
    seed_index: frsearch.Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    import frsearch.search
    import frsearch.snippets

    queries = ["etats unis", "Lei Jun blacklist", "Xiaomi chine", "données personnelles facebook", "13e"]
    runs = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(frsearch.search, "COUNTED_SPANS_CHARS", threshold)
        monkeypatch.setattr(frsearch.snippets, "COUNTED_SPANS_CHARS", threshold)
        runs.append([
            [(h.id, h.snippet, h.title_spans) for h in seed_index.search(q)] for q in queries
        ])
    assert runs[0] == runs[1]
    assert any(hit[1].spans for hits in runs[0] for hit in hits)


def test_a_snippet_fragment_keeps_the_matches_it_was_chosen_for() -> None:
    # "Lei Jun" ends a few characters before the fragment's edge: it is shown, highlighted.
    body = ("Une phrase de remplissage sans rien. " * 8) + "Un award à l’origine du blacklisting de " \
        "Xiaomi La récompense est décernée tous les cinq ans aux grands entrepreneurs chinois. " \
        "Aux côtés de Lei Jun, on retrouve donc Ding Lei. " + ("Encore du texte sans intérêt. " * 8)
    words = {"blacklisting": "blacklist", "lei": "Lei", "jun": "Jun"}
    snippet = make_snippet(body, {"blacklisting", "lei", "jun"}, words=words)
    highlighted = [snippet.text[s:e] for s, e in snippet.spans]
    assert "blacklisting" in highlighted and "Lei Jun" in highlighted


def test_related_forms_count_as_their_word_when_fragments_are_chosen() -> None:
    body = "Le mot blacklist ici. " + "Rien. " * 60 + "Et blacklisting là. " + "Rien. " * 60 + "Lei Jun enfin."
    by_term = make_snippet(body, {"blacklist", "blacklisting", "lei", "jun"}, fragments=2)
    by_word = make_snippet(
        body, {"blacklist", "blacklisting", "lei", "jun"}, fragments=2,
        words={"blacklist": "blacklist", "blacklisting": "blacklist", "lei": "Lei", "jun": "Jun"},
    )
    assert "Lei Jun" not in [by_term.text[s:e] for s, e in by_term.spans]
    assert "Lei Jun" in [by_word.text[s:e] for s, e in by_word.spans]
