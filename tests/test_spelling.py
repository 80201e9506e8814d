"""Did you mean: offered only for mistyped words, in the user's own words (issues 19 and 13)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import frsearch

LABOUR_LAW = [
    ("Congés payés", "Le salarié a droit à un congé payé de deux jours et demi par mois."),
    ("Mariage", "Le congé pour mariage ou pour la conclusion d'un pacs dure quatre jours. "
                "Les jours sont comprenant les samedis."),
    ("Clause", "La clause de non-concurrence doit être limitée dans le temps."),
    ("Licenciement", "Le licenciement pour faute grave prive du préavis. Le licencié reçoit ses documents."),
    ("Pourvoi", "Le pourvoi en cassation est formé dans un délai de deux mois."),
    ("Sabbatique", "Le congé sabbatique dure de six à onze mois. Le harnais est fourni."),
    ("Rupture", "La rupture conventionnelle collective est homologuée. Le comité a voté."),
    ("Sécurité", "Le port des équipements est obligatoire au chantier de Bury. Le maçon de Mâcon."),
    ("Excès", "Les excès de vitesse et le reste du temps de travail; le commerce et la commune."),
    ("Conseil", "Le conseil de prud'hommes juge les litiges entre employeur et salarié."),
]


@pytest.fixture(scope="module")
def labour() -> frsearch.Index:
    index = frsearch.Index()
    index.add_documents({"id": title, "title": title, "body": body} for title, body in LABOUR_LAW)
    return index


def suggestion(index: frsearch.Index, query: str) -> str | None:
    return index.search(query).suggestion


def close_spellings(index: frsearch.Index, query: str) -> list[str]:
    lines = index.search(query).explain()
    return [line for line in lines if "searched as close spellings" in line]


@pytest.mark.parametrize(
    "query",
    [
        # Issue 13: question words are never "corrected" (they were: comprenant, Pourvoi, comme).
        "combien de jours de congé pour un mariage ?",
        "pourquoi le licenciement",
        "Pourquoi le licenciement",
        "comment calculer le congé",
        # Issue 19: acronyms, French words and names are left alone.
        "chèque vacances et CSE",
        "remise STC",
        "DUERP",
        "port de la burqa",
        "loi sur la laïcité en entreprise",
        "formalisme contrat",
        "barème Macron",
        "Nantes",
        "article L1234-5",
        "tickets resto",
        "calcul excel",
        # One edit that keeps the index term: more often a form the lexicon lacks than a typo.
        "harnai",
        # The first letter is spared (apnée is missing from the lexicon; panée is a word).
        "apnée du sommeil",
        # A more frequent word of another term is as close (conger: congé, congre).
        "conger payer",
        # An elision written with a space is no split word.
        "l' employeur",
    ],
)
def test_no_suggestion_for_words_that_were_meant(labour: frsearch.Index, query: str) -> None:
    assert suggestion(labour, query) is None


@pytest.mark.parametrize(
    "query, corrected",
    [
        # Only the mistyped word changes: stopwords, case and punctuation stay as typed.
        ("clause de non concurence", "clause de non concurrence"),
        ("Licenciment pour faute grave ?", "Licenciement pour faute grave ?"),
        ("congé sabattique", "congé sabbatique"),  # two doubling slips count as one
        ("rupture conventionelle colective", "rupture conventionnelle collective"),
        # A space after an apostrophe split a word in two.
        ("conseil des prud' hommes", "conseil des prud'hommes"),
        # Operators, quotes, fields, required and excluded words survive (issue 13).
        ("congé ET marriage", "congé ET mariage"),
        ('"congé sabatique" OR titre:licenciment', '"congé sabbatique" OR titre:licenciement'),
        ("+licenciment -sabatique", "+licenciement -sabbatique"),
        ("(licenciment OU rupture) SAUF sabatique", "(licenciement OU rupture) SAUF sabbatique"),
    ],
)
def test_suggestion_is_the_typed_query_with_only_mistyped_words_replaced(
    labour: frsearch.Index, query: str, corrected: str
) -> None:
    assert suggestion(labour, query) == corrected


def test_prefix_and_fuzzy_words_are_not_corrected(labour: frsearch.Index) -> None:
    assert suggestion(labour, "licenciment~ sabatique") == "licenciment~ sabbatique"
    assert suggestion(labour, "licenci* marriage") == "licenci* mariage"


def test_a_word_the_documents_use_is_not_corrected() -> None:
    # licenciment stems as licencié does; written so in a document, it was meant.
    index = frsearch.Index()
    index.add_documents([
        {"id": "a", "title": "", "body": "Le licenciement pour faute grave."},
        {"id": "b", "title": "", "body": "Licenciment est le nom de la société."},
    ])
    assert suggestion(index, "licenciment") is None
    assert suggestion(index, "licencimeent") == "licenciement"  # a swap away from the other word


def test_a_misspelt_name_is_corrected_to_a_name_of_the_documents(seed_index: frsearch.Index) -> None:
    assert suggestion(seed_index, "Zukerberg Facebok") == "Zuckerberg Facebook"
    # The ranking still searches a short word's swap (unsi: unis); did-you-mean does not
    # offer it, as uns, one edit away too, is more frequent.
    results = seed_index.search("etats unsi")
    assert results.suggestion is None and "unis" in results.expansions["unsi"]


@pytest.mark.parametrize("query", ["CSE", "DUERP", "STC", "burqa", "port de la burqa", "laïcité",
                                   "combien", "comment", "pourquoi", "formalisme"])
def test_words_that_were_meant_are_not_searched_as_unrelated_spellings(
    labour: frsearch.Index, query: str
) -> None:
    results = labour.search(query + " congé")
    assert close_spellings(labour, query + " congé") == [], results.explain()


def test_a_word_that_was_meant_still_finds_its_own_family() -> None:
    index = frsearch.Index()
    index.add_documents([{"id": "a", "title": "", "body": "L'alcool est interdit sur le chantier."},
                         {"id": "b", "title": "", "body": "Le chantier ferme à midi."}])
    # alcoolémie is French and not indexed; alcool is of its family.
    assert [hit.id for hit in index.search("alcoolémie chantier")][0] == "a"


def test_when_nothing_else_is_found_close_spellings_are_searched_anyway(labour: frsearch.Index) -> None:
    # burqa is left alone while the query finds something; alone, it finds its close spellings.
    assert labour.search("burqa").total > 0
    assert labour.search("laïcité").total > 0 or labour.search("laïcité").explain()


def test_the_edit_limits_are_those_stated() -> None:
    from frsearch import spelling

    words = spelling.lexicon()
    assert spelling.edit_kind("sabattique", "sabbatique") == "double"
    assert spelling.edit_kind("unsi", "unis") == "swap"
    assert spelling.edit_kind("concurence", "concurrence") == "double"
    assert spelling.edit_kind("licenciment", "licenciement") == "edit"
    assert spelling.edit_kind("singapore", "singapour") is None  # two edits: never
    assert "licenciement" in words.near("licenciment")
    assert "reste" in words.near("resto")  # one edit, but a 5-letter word: not a correction


def test_the_lexicon_is_loaded_only_when_a_word_is_not_in_the_index() -> None:
    code = """
        import frsearch, frsearch.spelling as spelling
        with frsearch.Index() as index:
            index.add("a", "Congés", "Le congé payé du salarié.")
            index.search("congé salarié")
            print(spelling._LEXICON is None)
            index.search("congé salarie licenciment")
            print(spelling._LEXICON is None)
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]


def test_without_the_lexicon_nothing_breaks(monkeypatch: pytest.MonkeyPatch, labour: frsearch.Index) -> None:
    from frsearch import spelling

    monkeypatch.setattr(spelling, "_LEXICON", spelling.Lexicon({}))
    assert suggestion(labour, "CSE") is None
    assert labour.search("licenciment faute").total > 0


def test_protection_reasons() -> None:
    from frsearch import spelling

    assert spelling.protection("combien", "combien", frozenset({"combien"})) == "question word"
    assert spelling.protection("CSE", "cse") == "acronym"
    assert spelling.protection("L1234", "l1234") == "number or reference"
    assert spelling.protection("McDonald's", "mcdonalds") == "name"
    assert spelling.protection("laïcité", "laicite") == "French word"
    assert spelling.protection("allaitante", "allaitante") == "French word"  # allaitant + e
    assert spelling.protection("licenciment", "licenciment") is None
    assert spelling.names("barème Macron") == {"Macron"} and spelling.names("Nantes") == {"Nantes"}
    assert spelling.names("Licenciment pour faute") == frozenset()


def test_the_ranking_applies_the_stated_edit_limits() -> None:
    index = frsearch.Index()
    index.add_documents([{"id": "a", "title": "", "body": "Le garage est fermé le dimanche."},
                         {"id": "b", "title": "", "body": "Le magasin est fermé le lundi."},
                         {"id": "c", "title": "", "body": "La convention collective s'applique."}])
    # Six letters, two edits from garage: not searched as it while the query finds something.
    assert close_spellings(index, "gorago fermé") == []
    # A swap in a short word, and two edits in a word of seven letters or more, are searched.
    assert close_spellings(index, "gaarge fermé") and close_spellings(index, "magazinn fermé")


def test_a_text_writes_a_form_of_a_folded_word_in_any_case_and_accents() -> None:
    from frsearch.spelling import writes_form, written_forms

    def writes(text: str, folded: str) -> bool:
        return writes_form(text, written_forms(folded))

    assert writes("Il a été blacklisté.", "blacklist")  # up to three more letters
    assert writes("Des sociétés blacklistées", "blacklist")
    assert not writes("un blacklistement", "blacklist")  # four more: another word
    assert not writes("reblacklist", "blacklist")  # inside a word
    assert not writes("blacklist2", "blacklist")
    assert writes("Les CONGÉS", "conges") and writes("un congé", "conges")  # without its -s
    assert writes("Le cœur du sujet", "coeur") and writes("COEUR", "coeur")
    assert writes("les États-Unis", "etats")
    assert writes("un état", "etats") and not writes("", "etats")
    assert not writes("moi", "mois")  # a stem left shorter than four letters is not a form
