"""The pruned evaluation (frsearch.pruning) gives exactly the hits, scores and totals of the
exhaustive one, and does skip documents.

The collection is made of the seeds' sentences, shuffled into 3,000 documents with a fixed
seed, plus exact copies (ties broken by document number) and deletions across segments; the
queries cover free words, question words, phrases, AND, OR, NOT, prefixes, typos, fields,
nested groups and split words, under several option sets and page sizes.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import frsearch
from frsearch import pruning

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

OPTION_SETS: list[dict[str, Any]] = [
    {},
    {"coordination": 0.0},
    {"proximity_weight": 0.0, "window_weight": 0.0},
    {"k1": 0.9, "b": {"title": 0.75, "body": 0.75}, "idf_exponent": 1.0, "proximity_slop": 2, "window_size": 20},
    {"related_forms": False, "typo_tolerance": False, "proximity_triple_weight": 0.0, "feedback_docs": 0},
    {"weights": {"title": -0.5, "body": 1.0}, "coordination": -0.3},  # weights no bound holds for
]
#: (offset, limit) of the pages compared: feedback_docs=0 lets pages past the tenth hit prune.
PAGES = [(0, 1), (0, 10), (5, 5), (0, 50)]


def sentences() -> list[list[str]]:
    """Each seed article's sentences."""
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out.append([s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4])
    return out


def build() -> tuple[frsearch.Index, list[str]]:
    """Documents on one article's topic each: mostly its sentences, the first ones far more
    often than the last (as words are in real text), some of other articles."""
    rng = random.Random(18)
    articles = sentences()
    docs = []
    for n in range(3000):
        own = articles[rng.randrange(len(articles))]
        weights = [1 / (i + 1) for i in range(len(own))]
        chosen = [
            rng.choices(own, weights)[0] if rng.random() < 0.85 else rng.choice(rng.choice(articles))
            for _ in range(rng.randint(1, 12))
        ]
        title = " ".join(rng.choices(own, weights)[0].split()[: rng.randint(2, 8)])
        docs.append({"id": f"d{n}", "title": title, "body": " ".join(chosen)})
    docs += [{**docs[rng.randrange(3000)], "id": f"copy{n}"} for n in range(300)]
    index = frsearch.Index()
    index.add_documents(docs[:1700])  # two segments, with deleted and replaced documents
    index.add_documents(docs[1700:])
    for n in range(0, 3000, 37):
        index.delete(f"d{n}")
    index.add_documents([{**docs[n], "id": f"d{n + 1}"} for n in range(0, 3000, 53)])
    return index, [s for article in articles for s in article]


def words_by_frequency(pool: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for sentence in pool:
        for word in re.findall(r"[^\W\d_]{4,}", sentence.lower()):
            counts[word] = counts.get(word, 0) + 1
    return sorted((w for w in counts if searchable(w)), key=lambda w: (-counts[w], w))


def searchable(word: str) -> bool:
    try:
        frsearch.parse_query(word)
    except frsearch.QueryError:
        return False  # a stopword
    return True


def queries(pool: list[str]) -> list[str]:
    rng = random.Random(7)
    words = words_by_frequency(pool)
    common, middle, rare = words[:40], words[40:200], words[200:]
    pick = lambda band: rng.choice(band)  # noqa: E731
    out = []
    for _ in range(30):
        n = rng.randint(2, 5)
        out.append(" ".join(pick(rng.choice((common, common, middle, rare))) for _ in range(n)))
    for _ in range(8):
        out.append(pick(common))
        out.append(f"{pick(common)} {pick(rare)}")
        out.append(f"comment {pick(common)} {pick(middle)}")
        sentence = rng.choice(pool).split()
        at = rng.randrange(max(1, len(sentence) - 3))
        out.append('"' + " ".join(sentence[at : at + 3]) + '" ' + pick(common))
        out.append(f"{pick(common)} ET {pick(middle)} {pick(common)}")
        out.append(f"{pick(common)} OU {pick(middle)}")
        out.append(f"{pick(common)} {pick(middle)} SAUF {pick(common)}")
        out.append(f"({pick(common)} OU {pick(middle)}) {pick(common)}")
        out.append(f"{pick(common)} {pick(middle)} OU {pick(common)} {pick(rare)} {pick(common)}")
        out.append(f"{pick(rare)} OU {pick(common)} {pick(middle)} SAUF {pick(middle)}")
        out.append(f"({pick(common)} {pick(middle)}) {pick(common)}")
        out.append(f"{pick(common)[:4]}* {pick(middle)}")
        word = pick(middle)
        out.append(f"{word[:2]}{word[3]}{word[2]}{word[4:]} {pick(common)}")  # a typo
        out.append(f"title:{pick(common)} {pick(common)}")
        out.append(f"{pick(common)} {pick(common)} -{pick(middle)}")
        common_word = pick(common)
        out.append(f"{common_word} {common_word} {pick(middle)}")
    hyphenated = sorted({w for sentence in pool for w in re.findall(r"\w+-\w+", sentence)})
    out += [f"{word} {pick(common)}" for word in hyphenated[:6]]  # split words: a phrase OR a group
    for _ in range(4):  # required words with an exclusion
        out.append(f"{pick(common)} ET {pick(common)} SAUF {pick(middle)}")
        out.append(f"+{pick(common)} +{pick(middle)} {pick(common)} -{pick(common)}")
    return out


@pytest.fixture(scope="module")
def collection() -> Iterator[tuple[frsearch.Index, list[str]]]:
    index, pool = build()
    with index:
        yield index, queries(pool)


def page(index: frsearch.Index, query: str, offset: int, limit: int, prune: bool) -> dict[str, Any]:
    index.engine().prune = prune
    results = index.search(query, offset=offset, limit=limit)
    return {
        **results.as_dict(explain=True),
        "hits": [(hit.docnum, hit.score.hex(), hit.matched_terms, hit.as_dict()) for hit in results],
    }


@pytest.mark.parametrize("changes", OPTION_SETS, ids=[",".join(c) or "defaults" for c in OPTION_SETS])
def test_pruned_pages_are_the_exhaustive_ones(collection: tuple[frsearch.Index, list[str]], changes: dict[str, Any]) -> None:
    index, chosen = collection
    index.engine().options = replace(frsearch.SearchOptions(), **changes)
    try:
        for query in chosen:
            for offset, limit in PAGES:
                exhaustive = page(index, query, offset, limit, prune=False)
                pruned = page(index, query, offset, limit, prune=True)
                assert pruned == exhaustive, (query, offset, limit)
    finally:
        index.engine().options = frsearch.SearchOptions()
        index.engine().prune = None


@pytest.mark.parametrize("changes", [{}, {"proximity_weight": 0.0}], ids=["defaults", "no-proximity"])
def test_pruning_scores_fewer_documents_than_match(
    collection: tuple[frsearch.Index, list[str]], monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]
) -> None:
    """The page comes from a part of the matching documents: the best 200 (the proximity
    bonuses' depth) of most queries, the best 10 of nearly every one when the bonuses are off."""
    index, chosen = collection
    seen: list[tuple[int, int]] = []
    original = pruning._by_blocks

    def spy(blocks: Any, score: Any, depth: int) -> Any:
        found = original(blocks, score, depth)
        matching = int(np.count_nonzero(np.unpackbits(np.bitwise_or.reduce([f.bits for f in blocks.lists]))))
        seen.append((len(found[0]), matching))
        return found

    monkeypatch.setattr(pruning, "_by_blocks", spy)
    index.engine().prune = True
    index.engine().options = replace(frsearch.SearchOptions(), **changes)
    try:
        for query in chosen:
            index.search(query, limit=10)
    finally:
        index.engine().options = frsearch.SearchOptions()
        index.engine().prune = None
    assert len(seen) > 100
    pruned = [scored for scored, matching in seen if scored < matching]
    scored, matching = sum(s for s, _m in seen), sum(m for _s, m in seen)
    if changes:
        assert len(pruned) > 0.95 * len(seen) and scored < 0.6 * matching
    else:
        assert len(pruned) > 0.6 * len(seen) and scored < 0.9 * matching


def test_pages_that_need_every_score_are_not_pruned(collection: tuple[frsearch.Index, list[str]]) -> None:
    """Feedback past the tenth hit, sorting by path and filters read every matching document."""
    index, chosen = collection
    engine = index.engine()
    assert engine._prunable(10)
    assert not engine._prunable(11)  # feedback reorders hits past the tenth
    assert not engine._prunable(0)
    engine.options = replace(frsearch.SearchOptions(), feedback_docs=0)
    try:
        assert engine._prunable(200) and not engine._prunable(201)
    finally:
        engine.options = frsearch.SearchOptions()


def test_small_indexes_score_every_document_unless_told(
    collection: tuple[frsearch.Index, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default only an index of PRUNE_MIN_DOCS documents or more prunes (below, pruning
    costs more than it saves); ``engine.prune`` decides otherwise."""
    index, chosen = collection
    calls: list[str] = []
    original = pruning.Pruner.best

    def spy(self: pruning.Pruner, root: Any, k: int) -> Any:
        calls.append("pruned")
        return original(self, root, k)

    monkeypatch.setattr(pruning.Pruner, "best", spy)
    assert index.engine().prune is None and len(index) < pruning.PRUNE_MIN_DOCS
    index.search(chosen[0])
    assert calls == []
    monkeypatch.setattr("frsearch.search.PRUNE_MIN_DOCS", len(index))
    index.search(chosen[0])
    assert calls == ["pruned"]
    index.engine().prune = False
    try:
        index.search(chosen[0])
    finally:
        index.engine().prune = None
    assert calls == ["pruned"]
