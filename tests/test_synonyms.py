"""User synonyms: the file format, its errors, and what they add to a query."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import frsearch
from frsearch.cli import cli

RULES = """
# abbreviations
CDD => contrat à durée déterminée
CDI, contrat à durée indéterminée   # both ways
"""


@pytest.fixture()
def index() -> frsearch.Index:
    with frsearch.Index() as index:
        index.add_documents([
            {"id": "cdd", "title": "", "body": "Un CDD de six mois."},
            {"id": "long", "title": "", "body": "Le contrat à durée déterminée est conclu pour une tâche précise."},
            {"id": "cdi", "title": "", "body": "Embauche en CDI."},
            {"id": "loose", "title": "", "body": "Le contrat de travail à durée indéterminée est la forme normale."},
        ])
        yield index


def ids(results: frsearch.SearchResults) -> list[str]:
    return sorted(hit.id for hit in results)


def test_one_way_rule_adds_the_phrase_and_keeps_the_word(index: frsearch.Index) -> None:
    synonyms = frsearch.parse_synonyms(RULES)
    assert ids(index.search("CDD")) == ["cdd"]
    assert ids(index.search("CDD", synonyms=synonyms)) == ["cdd", "long"]
    # One way only: the long form does not find the abbreviation.
    assert "cdd" not in ids(index.search('"contrat à durée déterminée"', synonyms=synonyms))


def test_equivalence_works_both_ways_and_reads_words_like_the_analyzer(index: frsearch.Index) -> None:
    synonyms = frsearch.parse_synonyms(RULES)
    assert ids(index.search("cdi", synonyms=synonyms)) == ["cdi"]  # the phrase is not in "loose"
    # Plural, no accents: the analyzer's terms match the rule's.
    found = ids(index.search("contrats a duree indeterminee", synonyms=synonyms))
    assert "cdi" in found and "loose" in found  # the typed words still count as free words


def test_highlights_show_the_synonym_found(index: frsearch.Index) -> None:
    hit = next(h for h in index.search("CDD", synonyms=frsearch.parse_synonyms(RULES)) if h.id == "long")
    # The synonym is a phrase: highlighted as one, where it occurs.
    assert [hit.snippet.text[s:e] for s, e in hit.snippet.spans] == ["contrat à durée déterminée"]


def test_quoted_prefix_and_excluded_words_are_not_expanded(index: frsearch.Index) -> None:
    synonyms = frsearch.parse_synonyms(RULES)
    assert ids(index.search('"CDD de six mois"', synonyms=synonyms)) == ["cdd"]
    assert ids(index.search("CD*", synonyms=synonyms)) == ["cdd", "cdi"]
    assert "long" in ids(index.search("contrat -CDD", synonyms=synonyms))


def test_spelling_help_is_for_the_typed_words(index: frsearch.Index) -> None:
    synonyms = frsearch.parse_synonyms("CDD => contrat zzyzx")
    results = index.search("CDD", synonyms=synonyms)
    assert ids(results) == ["cdd"] and results.suggestion is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a => b => c", "line 1: more than one '=>'"),
        ("=> contrat", "line 1: nothing on left of '=>'"),
        ("\ncontrat =>", "line 2: nothing on right of '=>'"),
        ("contrat", "line 1: a rule needs two sides"),
        ("le, la", "line 1: 'le' has only stopwords or punctuation"),
    ],
)
def test_malformed_rules_name_their_line(text: str, message: str) -> None:
    with pytest.raises(frsearch.SynonymsError, match=message):
        frsearch.parse_synonyms(text, "rules.txt")


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("CDD => contrat à durée".encode("latin-1"))
    with pytest.raises(frsearch.SynonymsError, match="is not UTF-8"):
        frsearch.load_synonyms(tmp_path / "latin1.txt")
    with pytest.raises(frsearch.SynonymsError, match="No such file"):
        frsearch.load_synonyms(tmp_path / "missing.txt")
    with pytest.raises(frsearch.SynonymsError, match="it is a folder"):
        frsearch.load_synonyms(tmp_path)
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + "CDD => contrat".encode())
    assert len(frsearch.load_synonyms(tmp_path / "bom.txt")) == 1


def test_cli_option(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Un CDD de six mois.", encoding="utf-8")
    (tmp_path / "docs" / "b.txt").write_text("Le contrat à durée déterminée.", encoding="utf-8")
    (tmp_path / "syn.txt").write_text(RULES, encoding="utf-8")
    (tmp_path / "bad.txt").write_text("CDD => a => b", encoding="utf-8")
    runner = CliRunner()
    index = str(tmp_path / "ix")
    assert runner.invoke(cli, ["index", "--index", index, str(tmp_path / "docs")]).exit_code == 0
    plain = runner.invoke(cli, ["query", "--index", index, "--json", "CDD"])
    expanded = runner.invoke(cli, ["query", "--index", index, "--json", "--synonyms", str(tmp_path / "syn.txt"), "CDD"])
    assert plain.stdout.count('"path"') == 1 and expanded.stdout.count('"path"') == 2
    bad = runner.invoke(cli, ["query", "--index", index, "--synonyms", str(tmp_path / "bad.txt"), "CDD"])
    assert bad.exit_code == 2
    assert "bad.txt, line 1: more than one '=>'" in bad.stderr and "Traceback" not in bad.output
