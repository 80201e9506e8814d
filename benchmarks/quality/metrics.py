"""Retrieval metrics with trec_eval's conventions, and TREC run/qrels files.

Kept free of frsearch imports so that it can be tested, and reused on any
run file, on its own.

Conventions (those of trec_eval, so numbers can be checked with it):

* A run is ``{qid: {docid: score}}``. Documents are ranked by score
  descending, ties broken by docid descending (plain string comparison);
  the rank column of a run file is ignored, as trec_eval ignores it.
  Scores are compared in single precision, as trec_eval stores them (a C
  ``float``): 29.068717 and 29.068716 are a tie there, and here too.
* Relevant means ``rel > 0``. nDCG's gain is ``rel`` itself (graded),
  discounted by ``log2(rank + 1)``; the ideal ranking is made from the
  qrels' judgments of that query, cut at the same depth.
* ``RR@k`` is 1/rank of the first relevant document within the top k, else 0.
* ``R@k`` is the number of relevant documents in the top k over the number of
  relevant documents in the qrels.
* Means are taken over the queries the caller evaluates (by default every
  query with at least one relevant document); a query missing from the run
  scores 0 on every measure, like ``trec_eval -c``.
"""

from __future__ import annotations

import math
import os
import struct
from typing import Iterable, Iterator, Mapping, Sequence

__all__ = [
    "MEASURES",
    "Qrels",
    "Run",
    "as_float32",
    "evaluate",
    "evaluate_ranking",
    "format_score",
    "judged_queries",
    "mean",
    "ndcg_at",
    "rank_documents",
    "rank_preserving_scores",
    "read_qrels",
    "read_run",
    "recall_at",
    "reciprocal_rank_at",
    "write_run",
]

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]

#: The measures computed for every query, in the order they are shown.
MEASURES: tuple[str, ...] = ("nDCG@10", "RR@10", "R@10", "R@100")


# ---------------------------------------------------------------------------
# Ranking


def as_float32(score: float) -> float:
    """``score`` rounded to single precision, the precision trec_eval compares scores in."""
    return float(struct.unpack("<f", struct.pack("<f", score))[0])


def _float32_below(value: float) -> float:
    """The largest single-precision number below ``value`` (itself single precision)."""
    if value == 0.0:
        return -float(struct.unpack("<f", struct.pack("<I", 1))[0])
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    bits = bits - 1 if value > 0 else bits + 1
    return float(struct.unpack("<f", struct.pack("<I", bits))[0])


def rank_documents(scores: Mapping[str, float]) -> list[str]:
    """Docids in trec_eval's order: score descending (single precision), then docid descending."""
    keyed = sorted(scores.items(), key=lambda kv: (as_float32(kv[1]), kv[0]), reverse=True)
    return [doc for doc, _ in keyed]


def rank_preserving_scores(scores: Sequence[float]) -> list[float]:
    """Scores for a run file that make trec_eval's sort give back the system's own order.

    ``scores`` are in the order the system returned its hits. Each score is
    kept (in single precision) unless it is not strictly below the one
    before it; then it is set just below that one. Why: an engine's hit order
    is what a user sees, but an engine may break ties its own way (Whoosh and
    frsearch by internal document number) or show scores that are not its
    sort key (frsearch's Hit.score leaves out its "all words first" bonus).
    Write the result with ``format_score`` so that it reads back the same.
    """
    out: list[float] = []
    for score in scores:
        value = as_float32(score)
        if out and value >= out[-1]:
            value = _float32_below(out[-1])
        out.append(value)
    return out


def format_score(score: float) -> str:
    """A score as text that reads back as the same single-precision number."""
    return f"{as_float32(score):.9g}"


# ---------------------------------------------------------------------------
# Measures of one ranked list


def ndcg_at(ranking: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    """nDCG@k with gain = rel (graded) and a log2(rank + 1) discount."""
    dcg = 0.0
    for i, doc in enumerate(ranking[:k]):
        rel = rels.get(doc, 0)
        if rel > 0:
            dcg += rel / math.log2(i + 2)
    ideal = sorted((rel for rel in rels.values() if rel > 0), reverse=True)[:k]
    idcg = sum(rel / math.log2(i + 2) for i, rel in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def reciprocal_rank_at(ranking: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    """1/rank of the first relevant document in the top k, 0 when there is none."""
    for i, doc in enumerate(ranking[:k]):
        if rels.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def recall_at(ranking: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    """Share of the query's relevant documents found in the top k."""
    relevant = sum(1 for rel in rels.values() if rel > 0)
    if relevant == 0:
        return 0.0
    found = sum(1 for doc in ranking[:k] if rels.get(doc, 0) > 0)
    return found / relevant


def evaluate_ranking(ranking: Sequence[str], rels: Mapping[str, int]) -> dict[str, float]:
    """Every measure of MEASURES for one ranked list of docids."""
    return {
        "nDCG@10": ndcg_at(ranking, rels, 10),
        "RR@10": reciprocal_rank_at(ranking, rels, 10),
        "R@10": recall_at(ranking, rels, 10),
        "R@100": recall_at(ranking, rels, 100),
    }


# ---------------------------------------------------------------------------
# Whole runs


def judged_queries(qrels: Qrels) -> list[str]:
    """Queries with at least one relevant document, in qrels order."""
    return [qid for qid, rels in qrels.items() if any(rel > 0 for rel in rels.values())]


def evaluate(run: Run, qrels: Qrels, qids: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
    """Per-query measures for ``qids`` (default: every judged query of ``qrels``).

    Queries without a relevant document are left out (no measure is defined
    for them); queries missing from the run score 0.
    """
    wanted = judged_queries(qrels) if qids is None else list(qids)
    out: dict[str, dict[str, float]] = {}
    for qid in wanted:
        rels = qrels.get(qid, {})
        if not any(rel > 0 for rel in rels.values()):
            continue
        out[qid] = evaluate_ranking(rank_documents(run.get(qid, {})), rels)
    return out


def mean(per_query: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The mean of each measure over the queries given (0 for no query)."""
    n = len(per_query)
    return {m: (sum(q[m] for q in per_query.values()) / n if n else 0.0) for m in MEASURES}


# ---------------------------------------------------------------------------
# Files


def _rows(path: str | os.PathLike[str], widths: Sequence[int]) -> Iterator[tuple[int, list[str]]]:
    """(line number, columns) of each non-blank line, checked to have one of ``widths`` columns."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) not in widths:
                expected = " or ".join(str(w) for w in widths)
                raise ValueError(f"{path}:{number}: expected {expected} columns, got {len(parts)}")
            yield number, parts


def read_qrels(path: str | os.PathLike[str]) -> Qrels:
    """Read qrels: ``qid docid rel`` (tab- or space-separated), or TREC's ``qid 0 docid rel``."""
    qrels: Qrels = {}
    for number, parts in _rows(path, (3, 4)):
        qid, doc, rel = parts if len(parts) == 3 else (parts[0], parts[2], parts[3])
        try:
            qrels.setdefault(qid, {})[doc] = int(rel)
        except ValueError:
            raise ValueError(f"{path}:{number}: relevance {rel!r} is not an integer") from None
    return qrels


def read_run(path: str | os.PathLike[str]) -> Run:
    """Read a TREC run file (``qid Q0 docid rank score tag``); a repeated docid keeps its first line."""
    run: Run = {}
    for _number, (qid, _q0, doc, _rank, score, _tag) in _rows(path, (6,)):
        run.setdefault(qid, {}).setdefault(doc, float(score))
    return run


def write_run(
    path: str | os.PathLike[str], rankings: Mapping[str, Sequence[tuple[str, float]]], tag: str
) -> None:
    """Write a TREC run file from ``{qid: [(docid, score), ...]}`` in rank order."""
    if not tag or any(c.isspace() for c in tag):
        raise ValueError(f"a run tag must be one word, not {tag!r}")
    with open(path, "w", encoding="utf-8") as handle:
        for qid, hits in rankings.items():
            for rank, (doc, score) in enumerate(hits, 1):
                handle.write(f"{qid} Q0 {doc} {rank} {format_score(score)} {tag}\n")
