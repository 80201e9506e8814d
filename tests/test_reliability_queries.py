"""Anything pasted into a query: a QueryError at worst, never another exception or a traceback.

Hypothesis generates queries from words, operators (AND/OR/NOT/ET/OU/SAUF),
quotes, parentheses, fields (known and unknown), wildcards, fuzzy marks,
random Unicode and very long input, and feeds them to the library
(Index.search) and to the CLI. Pathological queries answer within a safety
bound (not a benchmark) or are refused with a message.
"""

from __future__ import annotations

import string
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import frsearch
from frsearch.cli import cli
from tests.test_reliability_support import TALLY

# The CLI costs about three times as much a query (a process's worth of work in-process).
LIBRARY_EXAMPLES = 9000
CLI_EXAMPLES = 1000

DOCS = [
    ("a", "Xiaomi blacklisté par les États-Unis", "L’État américain a placé Xiaomi sur liste noire en 2014, selon Lei Jun."),
    ("b", "Tesla et les voitures électriques", "Des véhicules électriques à Singapour : 7,7 % du marché aujourd’hui."),
    ("c", "La montagne en hiver", "Les élèves de l’école partent à la montagne avec leurs professeurs."),
    ("d", "Smartphones : le marché", "Smart, smartphone, smartwatch : l’œuvre de Xiaomi et d’Apple <script>."),
    ("e", "Facebook et la justice", "Le tribunal a jugé Facebook ; Mark Zuckerberg ne commente pas."),
]
WORDS = [
    "xiaomi", "Xiaomi", "États-Unis", "etats", "unis", "l'État", "L’État", "blacklisté", "blacklist",
    "montagne", "Singapour", "smart", "smartphone", "œuvre", "oeuvre", "2014", "7,7", "aujourd'hui",
    "qu'il", "Lei", "Jun", "lei jun", "tesla", "facebook", "zuckerberg", "élèves", "le", "la", "les",
    "des", "et", "ou", "a", "é", "x", "xiaomy", "zukerbrg", "montagn", "12345678901234567890",
]
OPERATORS = ["AND", "OR", "NOT", "ET", "OU", "SAUF", "&&", "||", "and", "Or", "+", "-", "!"]
PUNCTUATION = [
    '"', "«", "»", "“", "”", "„", "(", ")", "((", "))", "*", "~", "~2", "~0", "~99", "~-1", "~1.5",
    ":", "::", "title:", "titre:", "body:", "texte:", "contenu:", "text:", "TITLE:", "foo:", "http://",
    "\\", "'", "’", "?", "^2", "[", "]", "{", "}", "/", "%", "…", "\x00", "\t", "\n", "\x1b[31m", "\u202e",
]
SUFFIXES = ["*", "~", "~2", "~1", "*~", "**", "~~", "*2", "~3", "~abc", ""]
FIELDS = ["title:", "titre:", "body:", "texte:", "contenu:", "foo:", "TITRE:", ""]

token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(OPERATORS),
    st.sampled_from(PUNCTUATION),
    st.text(max_size=6),  # any Unicode, surrogates included
    st.text(alphabet=string.ascii_lowercase, min_size=4, max_size=9),  # unknown words: typo expansion
    st.builds(lambda w, s: w + s, st.sampled_from(WORDS), st.sampled_from(SUFFIXES)),
    st.builds(lambda f, w: f + w, st.sampled_from(FIELDS),
              st.sampled_from(WORDS + ['"lei jun"', "(xiaomi OR tesla)", "(", '"', "*", "~2"])),
)
separator = st.sampled_from([" ", " ", " ", "", "  ", "\t", "\u00a0"])
token_list = st.lists(st.tuples(token, separator), max_size=16).map(lambda xs: "".join(t + s for t, s in xs))
queries = st.one_of(
    token_list,
    token_list,
    token_list,
    st.text(max_size=60),
    # Very long input: a long run of a word or sign (beyond the 2,000 characters the parser
    # takes, too), or deep parentheses. Runs of hundreds of words the index lacks are in
    # the pathological tests below.
    st.builds(lambda t, n: (t + " ") * n, st.sampled_from(WORDS[:20] + OPERATORS[:6] + PUNCTUATION[:20]),
              st.sampled_from([1, 2, 3, 10, 50, 120, 1500])),
    st.builds(lambda t, n: t * n, st.sampled_from(["(", ")", '"', "*", "~", "«", ":", "-", "+"]),
              st.sampled_from([2, 31, 32, 33, 100, 1999, 2000, 2001, 10_000])),
)


@pytest.fixture(scope="module")
def library_index() -> frsearch.Index:
    index = frsearch.Index()
    index.add_documents([{"id": i, "title": t, "body": b} for i, t, b in DOCS])
    return index


@pytest.fixture(scope="module")
def disk_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    where = tmp_path_factory.mktemp("queries") / "idx"
    with frsearch.Index(where) as index:
        index.add_documents([{"id": i, "title": t, "body": b} for i, t, b in DOCS])
    return str(where)


def check_results(results: frsearch.SearchResults) -> None:
    assert results.total >= len(results.hits)
    for hit in results:
        assert isinstance(hit.title, str) and isinstance(hit.score, float)
        if hit.snippet is not None:
            for start, end in hit.snippet.spans:
                assert 0 <= start < end <= len(hit.snippet.text)
        for start, end in hit.title_spans:
            assert 0 <= start < end <= len(hit.title)


@pytest.mark.slow
def test_generated_queries_on_the_library() -> None:
    counts = {"answered": 0, "refused": 0}
    index = frsearch.Index()
    index.add_documents([{"id": i, "title": t, "body": b} for i, t, b in DOCS])
    options = index.engine().options

    @settings(max_examples=LIBRARY_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(queries, st.sampled_from([False] * 7 + [True]), st.sampled_from([0, 0, 0, 2]))
    def run(query: str, spelling: bool, offset: int) -> None:
        # Spelling help (close spellings of unknown words, suggestions) costs a few ms for
        # each unknown word: one query in eight gets it here; the CLI test below always
        # has it, as users do.
        options.typo_tolerance = spelling
        try:
            results = index.search(query, limit=3, offset=offset, suggest=spelling)
        except frsearch.QueryError as exc:
            assert exc.message and "\n" not in exc.message
            counts["refused"] += 1
            return
        check_results(results)
        counts["answered"] += 1

    run()
    assert sum(counts.values()) >= LIBRARY_EXAMPLES
    assert counts["answered"] > LIBRARY_EXAMPLES // 3, counts
    TALLY["generated queries run (library)"] = sum(counts.values())


@pytest.mark.slow
def test_generated_queries_on_the_cli(disk_index: str) -> None:
    runner = CliRunner()
    counts: dict[int | str, int] = {0: 0, 1: 0, 2: 0}
    formats = ["--format=plain", "--format=ansi", "--format=html", "--json", "--jsonl"]

    @settings(max_examples=CLI_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(queries, st.sampled_from(formats), st.booleans())
    def run(query: str, fmt: str, separate: bool) -> None:
        # Without "--" a query that starts with "-" is read as an option: a usage error, exit 2.
        args = ["query", "--index", disk_index, "--limit", "3", fmt, *(["--"] if separate else []), query]
        result = runner.invoke(cli, args, catch_exceptions=False)
        assert result.exit_code in (0, 1, 2), result.exit_code
        output = result.stdout + result.stderr
        assert "Traceback" not in output, output
        assert "internal error" not in output, output
        if result.exit_code == 2:
            # click reports an option that lacks its value (a query such as "--page" without
            # "--" before it) as "Error: ..." without the usage line.
            assert result.stderr.startswith(("frsearch: error: ", "Usage: ", "Error: ")), result.stderr
        counts[result.exit_code] += 1

    run()
    assert sum(counts.values()) >= CLI_EXAMPLES
    assert counts[0] > 0 and counts[1] > 0 and counts[2] > 0, counts
    TALLY["generated queries run (CLI)"] = sum(counts.values())


# ---------------------------------------------------------------------------
# Pathological queries

BOUND = 2.0  # seconds: a safety bound on a small index, not a benchmark


@pytest.fixture(scope="module")
def big_vocabulary() -> frsearch.Index:
    """A small index with a big vocabulary: 20,000 distinct words, many starting with "ab"."""
    import random

    rnd = random.Random(5)
    words = {"ab" + "".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randrange(2, 9))) for _ in range(12000)}
    words |= {"".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randrange(3, 10))) for _ in range(8000)}
    ordered = sorted(words)
    index = frsearch.Index()
    index.add_documents(
        {"id": str(n), "title": f"Document {n}", "body": " ".join(ordered[i] for i in range(n, len(ordered), 20))}
        for n in range(20)
    )
    return index


def _word(n: int, seed: int) -> str:
    import random

    rnd = random.Random(seed)
    return "".join(rnd.choice("bcdfghjklmnpqrstvz") for _ in range(n))


PATHOLOGICAL = {
    "star alone": "*",
    "one-letter prefix": "a*",
    "two-letter prefix": "ab*",
    "three-letter prefix": "abc*",
    "many prefixes": " ".join(["ab*"] * 400),
    "10,000 characters": "xiaomi " * 1430,
    "2,000 characters of one word": ("xiaomi " * 300)[:1995],
    "31 nested parentheses": "(" * 31 + "xiaomi" + ")" * 31,
    "1,000 nested parentheses": "(" * 1000 + "xiaomi",
    "500 OR'ed words": " OR ".join(f"mot{i}" for i in range(500)),
    "300 OR'ed short words": " OR ".join(["ab", "xy", "ok"] * 100)[:1990],
    "fuzzy words": " ".join(f"{_word(9, i)}~2" for i in range(150))[:1990],
    "unknown long words": " ".join(_word(9, i) for i in range(200))[:1990],
    "long phrase": '"' + " ".join(_word(6, i) for i in range(280))[:1980] + '"',
    "unbalanced quotes": '"' * 999,
    "operators only": " ".join(["AND", "OR", "NOT"] * 300)[:1990],
    "700 one-letter words": "x " * 700,
    "600 times 'Or'": "Or " * 600,
}
@pytest.mark.parametrize("vocabulary", ["small", "big"])
@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_queries_answer_quickly_or_are_refused(
    name: str, vocabulary: str, library_index: frsearch.Index, big_vocabulary: frsearch.Index,
) -> None:
    index = library_index if vocabulary == "small" else big_vocabulary
    query = PATHOLOGICAL[name]
    started = time.perf_counter()
    try:
        results = index.search(query)
        check_results(results)
    except frsearch.QueryError as exc:
        assert exc.message and "\n" not in exc.message
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND, f"{name}: {elapsed:.2f} s"
    TALLY["pathological queries"] = TALLY.get("pathological queries", 0) + 1


def test_pathological_queries_in_the_cli(tmp_path: Path, disk_index: str) -> None:
    runner = CliRunner()
    for name, query in PATHOLOGICAL.items():
        result = runner.invoke(cli, ["query", "--index", disk_index, "--", query], catch_exceptions=False)
        assert result.exit_code in (0, 1, 2), name
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, name
        if result.exit_code == 2:
            assert result.stderr.startswith("frsearch: error: ") and len(result.stderr.splitlines()) <= 2, name
