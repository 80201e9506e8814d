"""The quality harness's metrics (benchmarks/quality/metrics.py) follow trec_eval.

Checked by hand on small cases, and against trec_eval itself (through
ir-measures' pytrec_eval provider) on synthetic runs with ties, graded
relevance and missing queries, when ir-measures is installed.
"""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

METRICS_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "quality" / "metrics.py"


def _load_metrics() -> ModuleType:
    # benchmarks/ is not a package on the test path: load the module from its file.
    spec = importlib.util.spec_from_file_location("quality_metrics", METRICS_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


metrics = _load_metrics()


# ---------------------------------------------------------------------------
# By hand


QRELS = {
    "q1": {"a": 2, "b": 1, "c": 0, "d": 1},
    "q2": {"x": 1},  # not in the run: scores 0
    "q3": {"y": 0},  # nothing relevant: not evaluated
}
RUN = {
    "q1": {"z": 5.0, "c": 3.0, "a": 1.0, "b": 1.0},  # a and b tie: b (greater docid) first
    "q4": {"x": 1.0},  # not judged: ignored
}


def test_ranking_ties_by_docid_descending() -> None:
    assert metrics.rank_documents(RUN["q1"]) == ["z", "c", "b", "a"]


def test_scores_compared_in_single_precision() -> None:
    # 1 + 2**-24 is 1.0 as a C float, so this is a tie: docid descending decides.
    assert metrics.rank_documents({"a": 1.0 + 2**-24, "b": 1.0}) == ["b", "a"]
    assert metrics.rank_documents({"a": 1.0 + 2**-22, "b": 1.0}) == ["a", "b"]


def test_measures_by_hand() -> None:
    per_query = metrics.evaluate(RUN, QRELS)
    assert list(per_query) == ["q1", "q2"]
    q1 = per_query["q1"]
    # Ranking z c b a: gains 0 0 1 2 at ranks 1-4; ideal gains 2 1 1.
    dcg = 1 / math.log2(4) + 2 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert q1["nDCG@10"] == pytest.approx(dcg / idcg)
    assert q1["RR@10"] == pytest.approx(1 / 3)
    assert q1["R@10"] == pytest.approx(2 / 3)
    assert q1["R@100"] == pytest.approx(2 / 3)
    assert per_query["q2"] == {m: 0.0 for m in metrics.MEASURES}
    means = metrics.mean(per_query)
    assert means["nDCG@10"] == pytest.approx(dcg / idcg / 2)
    assert means["RR@10"] == pytest.approx(1 / 6)


def test_cutoffs() -> None:
    run = {f"d{i:03d}": 100.0 - i for i in range(150)}  # d000 first
    rels = {"d010": 1, "d050": 3, "d120": 1}
    ranking = metrics.rank_documents(run)
    assert metrics.reciprocal_rank_at(ranking, rels, 10) == 0.0  # d010 is at rank 11
    assert metrics.reciprocal_rank_at(ranking, rels, 11) == pytest.approx(1 / 11)
    assert metrics.recall_at(ranking, rels, 10) == 0.0
    assert metrics.recall_at(ranking, rels, 100) == pytest.approx(2 / 3)
    assert metrics.ndcg_at(ranking, rels, 10) == 0.0


def test_rank_preserving_scores_keep_the_system_order() -> None:
    # Equal, rising and float32-equal scores, as an engine may return them.
    hits = [("m", 2.0), ("a", 2.0), ("z", 9.0), ("b", 1.0 + 2**-24), ("c", 1.0), ("d", 0.0), ("e", 0.0)]
    scores = metrics.rank_preserving_scores([s for _d, s in hits])
    assert all(a > b for a, b in zip(scores, scores[1:]))
    assert scores[:2] == [2.0, metrics._float32_below(2.0)]
    run = {doc: score for (doc, _), score in zip(hits, scores)}
    assert metrics.rank_documents(run) == [d for d, _s in hits]
    # Already strictly decreasing in single precision: unchanged.
    assert metrics.rank_preserving_scores([3.5, 2.25, -1.0]) == [3.5, 2.25, -1.0]


def test_run_file_round_trip(tmp_path: Path) -> None:
    hits = [("doc-b", 12.345678), ("doc-a", 12.345678), ("doc-c", 0.5)]
    scores = metrics.rank_preserving_scores([s for _d, s in hits])
    path = tmp_path / "x.run"
    metrics.write_run(path, {"q1": list(zip([d for d, _ in hits], scores))}, "tag")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split()[:4] == ["q1", "Q0", "doc-b", "1"] and lines[0].endswith(" tag")
    assert metrics.rank_documents(metrics.read_run(path)["q1"]) == ["doc-b", "doc-a", "doc-c"]
    with pytest.raises(ValueError):
        metrics.write_run(path, {}, "two words")


def test_read_qrels_three_or_four_columns(tmp_path: Path) -> None:
    path = tmp_path / "qrels"
    path.write_text("q1\td1\t1\nq1 0 d2 2\n\nq2\td3\t0\n", encoding="utf-8")
    assert metrics.read_qrels(path) == {"q1": {"d1": 1, "d2": 2}, "q2": {"d3": 0}}
    path.write_text("q1 d1\n", encoding="utf-8")
    with pytest.raises(ValueError):
        metrics.read_qrels(path)


# ---------------------------------------------------------------------------
# Against trec_eval


def _synthetic(seed: int) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]]]:
    """Qrels and a run with graded relevance, many ties and queries missing on either side."""
    rng = random.Random(seed)
    docs = [f"D{i:04d}" for i in range(400)]
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for q in range(40):
        qid = f"q{q}"
        if q % 10 != 9:  # every tenth query: not judged
            judged = rng.sample(docs, rng.randint(1, 30))
            qrels[qid] = {d: rng.choice((0, 0, 1, 1, 2, 3)) for d in judged}
        if q % 7 != 3:  # every seventh query: no result
            retrieved = rng.sample(docs, rng.randint(1, 150))
            # Few distinct scores, so ties are common; some differ only below float precision.
            run[qid] = {d: rng.choice((1.0, 2.5, 2.5 + 1e-9, 7.0, rng.random())) for d in retrieved}
            # Make relevant documents likely to be retrieved, some of them high.
            for d, rel in list(qrels.get(qid, {}).items())[:10]:
                if rel and rng.random() < 0.7:
                    run[qid][d] = rng.choice((7.0, 7.0 + 1e-7, 3.0, 1.0, 1.0 + 2**-30))
    qrels["only-zeros"] = {"D0001": 0}
    run["only-zeros"] = {"D0001": 1.0}
    return qrels, run


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_trec_eval(seed: int) -> None:
    ir_measures = pytest.importorskip("ir_measures")
    from ir_measures import RR, R, nDCG

    qrels, run = _synthetic(seed)
    ours = metrics.evaluate(run, qrels)
    judged = metrics.judged_queries(qrels)
    assert set(ours) == set(judged) and "only-zeros" not in ours

    evaluator = ir_measures.pytrec_eval.evaluator([nDCG @ 10, R @ 10, R @ 100, RR], qrels)
    reference: dict[str, dict[str, float]] = {q: {} for q in judged}
    for m in evaluator.iter_calc(run):
        if m.query_id in reference:
            reference[m.query_id][str(m.measure)] = m.value
    expected_means = {m: 0.0 for m in metrics.MEASURES}
    for qid in judged:
        ref = reference[qid]
        rr = ref.get("RR", 0.0)
        # trec_eval's recip_rank has no cutoff: RR@10 is it when the first relevant is in the top 10.
        rr_at_10 = rr if rr > 0 and round(1 / rr) <= 10 else 0.0
        expected = {
            "nDCG@10": ref.get("nDCG@10", 0.0),
            "RR@10": rr_at_10,
            "R@10": ref.get("R@10", 0.0),
            "R@100": ref.get("R@100", 0.0),
        }
        assert ours[qid] == pytest.approx(expected, abs=1e-9), qid
        for name, value in expected.items():
            expected_means[name] += value / len(judged)
    # ir-measures' own aggregate also counts queries without a relevant document (as 0);
    # the harness averages over judged queries only, as its brief says.
    assert metrics.mean(ours) == pytest.approx(expected_means, abs=1e-9)
