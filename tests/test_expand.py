"""Word expansion: related forms, typo tolerance, did-you-mean."""

from __future__ import annotations

from dataclasses import replace

import pytest

import frsearch
from tests.conftest import index_of as _index_of
from tests.conftest import names


def search(index: frsearch.Index, query: str, **kw: object) -> list[str]:
    return names(index.search(query, **kw))


def test_a_free_word_finds_the_forms_snowball_stems_apart() -> None:
    # Snowball gives démission "demiss" but démissionner "demission", and licencié
    # "licenc" but licenciement "licenci": each word meets the other form, ranked below
    # its own and, inside a phrase or with the option off, not at all.
    index = _index_of(
        "La démission du salarié est écrite.",
        "Le salarié peut démissionner sans motif.",
        "Le licenciement pour motif personnel.",
        "Le salarié licencié reçoit une indemnité.",
        "Rien de tout cela ici.",
    )
    assert [hit.id for hit in index.search("démission")] == ["d0", "d1"]
    assert [hit.id for hit in index.search("démissionner")] == ["d1", "d0"]
    assert [hit.id for hit in index.search("licencié")] == ["d3", "d2"]
    assert [hit.id for hit in index.search('"démission du salarié"')] == ["d0"]
    index.options = replace(index.options, related_forms=False)
    assert [hit.id for hit in index.search("démission")] == ["d0"]


def test_a_related_form_weighs_less_than_the_word_even_when_rarer() -> None:
    # "contr" (contrer) is one of a word family's rarer neighbours of "contrat": it may
    # find a document, but never outranks one with the word itself.
    index = _index_of(
        *[f"Le contrat numéro {i}." for i in range(30)],
        "Il faut contrer cette idée.",
    )
    ids = [hit.id for hit in index.search("contrat", limit=40)]
    assert ids[-1] == "d30" and len(ids) == 31


def test_typo_in_an_unknown_word_is_tolerated(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "Zukerberg")[0] == "000_60564f4e513c8b83.txt"
    assert search(seed_index, "Singapoure")[0] == "004_772669a71db343fa.txt"


def test_a_word_found_nowhere_does_not_empty_a_question(seed_index: frsearch.Index) -> None:
    assert search(seed_index, "pourquoi Xiaomi est-il blacklisté zzzyzzx")[0] == "001_259af9e2aad0fd78.txt"


@pytest.mark.parametrize(
    "query, suggestion",
    [
        ("Zukerberg Facebok", "Zuckerberg Facebook"),
        ("vehicules electrqiues", "vehicules électriques"),
        # Too unsure to suggest (a 6-letter name one edit from a name; two edits), still found.
        ("Xiaomy", None),
        ("etats unsi", None),
        ("singapore", None),
    ],
)
def test_did_you_mean_replaces_only_the_mistyped_words(
    seed_index: frsearch.Index, query: str, suggestion: str | None
) -> None:
    results = seed_index.search(query)
    assert results.suggestion == suggestion and results.total > 0


def test_no_suggestion_when_every_word_is_known(seed_index: frsearch.Index) -> None:
    assert seed_index.search("Lei Jun blacklist").suggestion is None
    assert seed_index.search("Xiaomi", suggest=False).suggestion is None


def test_osa_distance_counts_a_swap_as_one_edit() -> None:
    from frsearch.search import osa_distance

    assert osa_distance("unsi", "unis") == 1
    assert osa_distance("chat", "chats") == 1
    assert osa_distance("abc", "abc") == 0
    assert osa_distance("kitten", "sitting") == 3
