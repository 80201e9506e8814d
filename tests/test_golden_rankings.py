"""Golden rankings: the hits the engine returned before the core redesign (issue 14).

``tests/fixtures/golden_rankings.json`` holds, for a few hundred queries on the two test
collections in ``../shared/bench-data/`` (piaf-train and codedutravail-dev, every document
indexed, since idf depends on the whole collection) and on the seeds, the ids and exact
scores (``float.hex``) of the top hits, the total and the suggested spelling, under several
sets of ranking options; for the seeds, the snippets too. The search core must return exactly
that. A deliberate ranking change regenerates the fixture in the same commit, which says why::

    python tests/test_golden_rankings.py --record

The collections are read from ``FRSEARCH_BENCH_DATA`` or from ``../shared/bench-data`` next to
the repository; without them the collection tests are skipped (the seeds' test still runs).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import pytest

import frsearch

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "golden_rankings.json"
COLLECTIONS = ("piaf-train", "codedutravail-dev")
#: Every QUERY_STEP-th query of a collection, up to QUERIES_PER_COLLECTION of them.
QUERIES_PER_COLLECTION = 150
DEPTH = 20

#: Option sets (changes from the defaults) each collection query runs under; the first is
#: the defaults, searched DEPTH deep (past the first ten hits: feedback orders them); the
#: others 10 deep on the first OTHER_OPTIONS_QUERIES queries.
OPTION_SETS: list[dict[str, Any]] = [
    {},
    {"k1": 0.9, "b": {"title": 0.75, "body": 0.75}, "weights": {"title": 3.0, "body": 1.0}, "idf_exponent": 1.0},
    {"coordination": 0.0, "proximity_weight": 0.0, "window_weight": 0.0},
    {"typo_tolerance": False, "feedback_docs": 0, "proximity_slop": 2, "proximity_triple_weight": 0.0},
    {"window_size": 20, "expansion_weight": 0.5, "related_weight": 0.3, "feedback_weight": 0.5},
]
OTHER_OPTIONS_QUERIES = 40

#: Queries on the seeds: the query syntax, typos, filters and pages.
SEED_QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("Lei Jun blacklist", {}),
    ("etats unis", {}),
    ('"etats unis"', {}),
    ("etats unsi", {}),
    ("États-Unis", {}),
    ("xiaomi AND facebook", {}),
    ("xiaomi OR tesla", {}),
    ("xiaomi NOT facebook", {}),
    ("xiaomi -smartphone", {}),
    ("+xiaomi smartphone", {}),
    ("(xiaomi OR facebook) etats", {}),
    ("titre:xiaomi", {}),
    ("title:(etats unis)", {}),
    ("smart*", {}),
    ("xiaomy~", {}),
    ("zukerbrg~2", {}),
    ('"lei jun"~2', {}),
    ("comment Xiaomi a été blacklisté", {}),
    ("casse-croûte", {}),
    ("gouvernement chinois entreprise", {"limit": 3}),
    ("le la les xiaomi", {}),
    ("électrique véhicule", {}),
    ("Tesla", {"offset": 1, "limit": 2}),
    ("xiaomi", {"sort": "path"}),
    ("xiaomi", {"glob": "00[12]_*"}),
    ("NOT xiaomi", {}),
    ("blacklisté", {"synonyms": "liste noire => blacklist"}),
]


def bench_data() -> Path | None:
    """The folder of the test collections, or None."""
    given = os.environ.get("FRSEARCH_BENCH_DATA")
    folder = Path(given) if given else ROOT.parent / "shared" / "bench-data"
    return folder if all((folder / name / "corpus.jsonl").is_file() for name in COLLECTIONS) else None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def collection_queries(folder: Path) -> list[str]:
    queries = [q["text"] for q in read_jsonl(folder / "queries.jsonl")]
    step = max(1, len(queries) // QUERIES_PER_COLLECTION)
    return queries[::step][:QUERIES_PER_COLLECTION]


def build_collection(folder: Path) -> frsearch.Index:
    index = frsearch.Index()
    index.add_documents(
        {"id": d["id"], "title": d.get("title") or "", "body": d.get("text") or ""}
        for d in read_jsonl(folder / "corpus.jsonl")
    )
    return index


def set_options(index: frsearch.Index, changes: dict[str, Any]) -> None:
    index.engine().options = replace(frsearch.SearchOptions(), **changes)


def record_results(results: frsearch.SearchResults, snippets: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "total": results.total,
        "suggestion": results.suggestion,
        "hits": [[Path(hit.id).name, hit.score.hex()] for hit in results],
    }
    if snippets:
        out["snippets"] = [
            [hit.snippet.text, [list(s) for s in hit.snippet.spans], [list(s) for s in hit.title_spans]]
            if hit.snippet else None
            for hit in results
        ]
    return out


def run_collection(index: frsearch.Index, queries: list[str]) -> list[dict[str, Any]]:
    runs = []
    for number, changes in enumerate(OPTION_SETS):
        set_options(index, changes)
        chosen = queries if number == 0 else queries[:OTHER_OPTIONS_QUERIES]
        depth = DEPTH if number == 0 else 10
        runs.append({
            "options": changes,
            "results": {q: record_results(index.search(q, limit=depth, snippets=False)) for q in chosen},
        })
    set_options(index, {})
    return runs


def run_seeds(index: frsearch.Index) -> list[dict[str, Any]]:
    out = []
    for query, kwargs in SEED_QUERIES:
        kwargs = dict(kwargs)
        if "synonyms" in kwargs:
            kwargs["synonyms"] = frsearch.parse_synonyms(kwargs["synonyms"])
        out.append({"query": query, **record_results(index.search(query, **kwargs), snippets=True)})
    return out


def seeds_index(where: Path) -> frsearch.Index:
    index = frsearch.Index(where / ".frsearch")
    index.index_paths([str(SEEDS)])
    return index


def record() -> None:
    import tempfile

    data = bench_data()
    if data is None:
        raise SystemExit("the test collections are not in ../shared/bench-data nor FRSEARCH_BENCH_DATA")
    fixture: dict[str, Any] = {"collections": {}}
    for name in COLLECTIONS:
        with build_collection(data / name) as index:
            fixture["collections"][name] = run_collection(index, collection_queries(data / name))
    with tempfile.TemporaryDirectory() as tmp, seeds_index(Path(tmp)) as index:
        fixture["seeds"] = run_seeds(index)
    FIXTURE.write_text(json.dumps(fixture, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_seed_rankings_and_snippets_are_the_recorded_ones(golden: dict[str, Any], tmp_path: Path) -> None:
    with seeds_index(tmp_path) as index:
        assert run_seeds(index) == golden["seeds"]


@pytest.fixture(scope="module", params=COLLECTIONS)
def collection(request: pytest.FixtureRequest) -> Iterator[tuple[str, frsearch.Index, list[str]]]:
    data = bench_data()
    if data is None:
        pytest.skip("the test collections are not in ../shared/bench-data (set FRSEARCH_BENCH_DATA)")
    with build_collection(data / request.param) as index:
        yield request.param, index, collection_queries(data / request.param)


@pytest.mark.slow
def test_collection_rankings_are_the_recorded_ones(
    golden: dict[str, Any], collection: tuple[str, frsearch.Index, list[str]]
) -> None:
    name, index, queries = collection
    expected = golden["collections"][name]
    actual = run_collection(index, queries)
    assert [run["options"] for run in actual] == [run["options"] for run in expected]
    for got, want in zip(actual, expected):
        differ = [q for q in want["results"] if got["results"].get(q) != want["results"][q]]
        assert not differ, f"{len(differ)} queries rank differently under {want['options']}: {differ[:5]}"
        assert got["results"].keys() == want["results"].keys()


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        raise SystemExit("usage: python tests/test_golden_rankings.py --record")
    record()
