"""frsearch.opensearch: exported settings, bulk lines and queries (golden fixtures), the analysis
run through Lucene when Java is here, pushing to a fake cluster on 127.0.0.1, and to a live
cluster when FRSEARCH_TEST_CLUSTER names one (e.g. http://127.0.0.1:9200)."""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

import frsearch
from frsearch import opensearch
from frsearch.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "opensearch"
#: Set to 1 to write the golden fixtures again from the current code (then review the diff).
REGENERATE = os.environ.get("FRSEARCH_REGENERATE_GOLDEN") == "1"

sys.path.insert(0, str(ROOT / "benchmarks" / "opensearch"))
import lucene  # noqa: E402

QUERIES = [
    "Lei Jun blacklist",
    '"lei jun"~2 Tesla',
    "xiaomi SAUF facebook",
    "xiaomi ET (facebook OU google) -tesla",
    "+salariée NOT démission",
    "title:smart* xiaomy~",
    "titre:\"ministère des sports\"",
    "États-Unis",
    "etats-uni*",
    "comment créer une entreprise",
    "L1234-5",
    "XIXe siècle 13 ème arrondissement",
]
DOCUMENTS = [
    {"id": "a", "title": "Xiaomi blacklisté", "body": "Les États-Unis ont placé Xiaomi sur liste noire.",
     "source": "seeds", "tags": ["tech", 2]},
    {"id": "b/é", "title": "Le XIXe siècle", "body": "L’État et l'Église au 13 ème arrondissement."},
    {"id": "x" * 600, "title": "Un identifiant trop long", "body": "Il est remplacé par son empreinte."},
]


def golden(name: str, value: Any) -> Any:
    path = FIXTURES / name
    if REGENERATE:
        path.write_text(json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8")
    return json.loads(path.read_text("utf-8"))


@pytest.fixture()
def small_index() -> Iterator[frsearch.Index]:
    with frsearch.Index() as index:
        index.add_documents(DOCUMENTS)
        yield index


# ---------------------------------------------------------------------------
# Golden fixtures


def test_index_body_matches_golden() -> None:
    body = opensearch.index_body()
    assert body == golden("index_body.json", body)
    analysis = body["settings"]["index"]["analysis"]
    # Folding before stemming, stopwords as frsearch folds them, both apostrophes, any case.
    chain = analysis["analyzer"]["frsearch"]["filter"]
    assert chain.index("asciifolding") < chain.index("fr_stop") < chain.index("fr_snowball")
    assert set(analysis["filter"]["fr_stop"]["stopwords"]) == set(frsearch.analysis.STOPWORDS)
    assert analysis["filter"]["fr_elision"]["articles_case"] is True
    assert "frsearch_search" not in analysis["analyzer"]


def test_synonyms_become_a_search_time_synonym_graph(tmp_path: Path) -> None:
    text = "# mes règles\nCDD => contrat à durée déterminée  # court\nCDI, contrat à durée indéterminée\n"
    rules = opensearch.synonym_rules(text)
    assert rules == ["CDD => contrat à durée déterminée", "CDI, contrat à durée indéterminée"]
    body = opensearch.index_body(rules)
    assert body == golden("index_body_synonyms.json", body)
    assert body["mappings"]["properties"]["body"]["search_analyzer"] == "frsearch_search"
    assert body["settings"]["index"]["analysis"]["filter"]["fr_synonyms"]["type"] == "synonym_graph"
    with pytest.raises(frsearch.SynonymsError):
        opensearch.synonym_rules("CDD =>\n")


def test_bulk_lines_match_golden(small_index: frsearch.Index) -> None:
    lines = list(opensearch.bulk_lines(small_index.documents(), "mine"))
    assert lines == golden("bulk.ndjson.json", lines)
    pairs = [(json.loads(a), json.loads(b)) for a, b in zip(lines[::2], lines[1::2])]
    assert len(pairs) == 3
    by_id = {source["id"]: (action, source) for action, source in pairs}
    assert by_id["a"][1]["fields"] == {"source": "seeds", "tags": ["tech", 2]}
    long_action = by_id["x" * 600][0]["index"]
    assert long_action["_id"].startswith("sha1-") and long_action["_index"] == "mine"


def test_queries_match_golden() -> None:
    translated = {q: opensearch.to_query_dsl(q) for q in QUERIES}
    assert translated == golden("queries.json", translated)


def test_translation_keeps_the_query_meaning() -> None:
    dsl = opensearch.to_query_dsl("xiaomi facebook +google SAUF tesla")
    assert set(dsl["bool"]) == {"must", "should", "must_not"}
    assert "tesla" in json.dumps(dsl["bool"]["must_not"])
    # A quoted phrase with ~N: Lucene's slop counts every move, N between each pair in frsearch.
    phrase = opensearch.to_query_dsl('"lei jun xiaomi"~2')
    assert '"slop": 4' in json.dumps(phrase)
    # Question words are dropped when other words remain, kept when alone.
    assert "comment" not in json.dumps(opensearch.to_query_dsl("comment licencier"))
    assert "comment" in json.dumps(opensearch.to_query_dsl("comment"))
    # A field restriction stays on its field; fuzzy words search the non-stemmed subfield.
    restricted = json.dumps(opensearch.to_query_dsl("titre:xiaomi~"))
    assert '"title.exact"' in restricted and '"body' not in restricted
    with pytest.raises(frsearch.QueryError):
        opensearch.to_query_dsl("le la les")


# ---------------------------------------------------------------------------
# The exported analysis, run by Lucene

CASES = [
    "L'État, l’État, L’ÉTAT, qu'il, Jusqu’à, lorsqu'elle, aujourd'hui, aujourdʼhui",
    "XIXe siècle, XIX, Ier, Ière, IIIème, Ve République, V, 13 ème, 13e, 1er, 1ère, 2nd, 2nde, 013e",
    "salariée salariées salarié créée créé égalité égal Œuvre cœur État États-Unis casse-croûte",
    "7,7 % 1.000 L1234-5 2019-2020 e\u0301te\u0301 ÉTÉ",
    "l’article L. 3142-1, article L 3142-1, L.3142-1, R. 1234-9, D4153-15, L. 12 et J. D. 1990",
]


@pytest.mark.skipif(lucene.missing() is not None, reason=f"Lucene runs need Java: {lucene.missing()}")
def test_exported_analysis_gives_frsearch_terms_in_lucene(small_index: frsearch.Index) -> None:
    seeds = [p.read_text("utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    texts = [lucene.clean(t) for t in seeds + CASES]
    streams = lucene.analyze_texts(opensearch.index_body(), texts, ["frsearch", "frsearch_exact"])
    for text, tokens in zip(texts, streams["frsearch"]):
        assert [t[0] for t in tokens] == [w.term for w in frsearch.analyze(text)], text[:60]
    # The .exact subfield: folded, stopwords kept, not stemmed.
    exact = [t[0] for t in streams["frsearch_exact"][len(seeds)]]
    assert exact[:4] == ["etat", "etat", "etat", "il"]


# ---------------------------------------------------------------------------
# Pushing to a cluster (a fake one on 127.0.0.1)


class FakeCluster:
    """Answers index and bulk requests from a script of statuses; records what it got."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        self.script: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        self.indices: set[str] = set()
        self.documents: dict[str, dict[str, Any]] = {}
        self.item_status: list[int] = []  # statuses for bulk items, consumed in order
        cluster = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                cluster.requests.append((self.command, path, body))
                status, payload = cluster.respond(self.command, path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data) if self.command != "HEAD" else 0))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def respond(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        key = (method, "/_bulk" if path.endswith("/_bulk") else "/" + path.strip("/").split("/")[0])
        if key[1] != "/_bulk" and path.endswith("/_refresh"):
            key = (method, "refresh")
        scripted = self.script.get(key)
        if scripted:
            return scripted.pop(0)
        name = path.strip("/").split("/")[0]
        if method == "HEAD":
            return (200 if name in self.indices else 404), {}
        if method == "PUT":
            self.indices.add(name)
            return 200, {"acknowledged": True, "index": name}
        if method == "DELETE":
            self.indices.discard(name)
            return 200, {"acknowledged": True}
        if key == ("POST", "/_bulk"):
            lines = body.decode().splitlines()
            items = []
            for action, source in zip(lines[::2], lines[1::2]):
                meta = json.loads(action)["index"]
                status = self.item_status.pop(0) if self.item_status else 201
                if status < 300:
                    self.documents[meta["_id"]] = json.loads(source)
                error = None if status < 300 else {"type": "mapper_parsing_exception" if status == 400
                                                   else "es_rejected_execution_exception", "reason": "nope"}
                items.append({"index": {"_id": meta["_id"], "status": status, **({"error": error} if error else {})}})
            return 200, {"took": 1, "errors": any("error" in i["index"] for i in items), "items": items}
        return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}

    def __enter__(self) -> "FakeCluster":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _bulk_calls(cluster: FakeCluster) -> int:
    return sum(1 for method, path, _b in cluster.requests if path.endswith("/_bulk"))


def test_push_creates_the_index_and_sends_batches(small_index: frsearch.Index) -> None:
    seen: list[tuple[int, int]] = []
    with FakeCluster() as cluster:
        report = opensearch.push(small_index, cluster.url, "docs", batch_size=2, backoff=0.01,
                                 progress=lambda done, total: seen.append((done, total)))
    assert report.created and report.documents == 3 and report.retries == 0
    assert cluster.indices == {"docs"}
    created = next(json.loads(b) for m, p, b in cluster.requests if m == "PUT")
    assert created == opensearch.index_body()
    assert _bulk_calls(cluster) == 2 and len(cluster.documents) == 3
    assert seen == [(0, 3), (2, 3), (3, 3)]


def test_push_retries_429_and_5xx(small_index: frsearch.Index) -> None:
    with FakeCluster() as cluster:
        too_many = (429, {"error": {"type": "too_many_requests", "reason": "slow down"}, "status": 429})
        unavailable = (503, {"error": {"type": "unavailable", "reason": "busy"}, "status": 503})
        cluster.script[("POST", "/_bulk")] = [too_many, unavailable]
        cluster.item_status = [201, 429, 201]  # one document refused inside a bulk answer: sent again
        report = opensearch.push(small_index, cluster.url, backoff=0.01)
    assert report.documents == 3 and report.retries == 3
    assert _bulk_calls(cluster) == 4 and len(cluster.documents) == 3


def test_push_gives_up_after_max_retries(small_index: frsearch.Index) -> None:
    with FakeCluster() as cluster:
        cluster.script[("POST", "/_bulk")] = [(503, {"error": "busy"})] * 3
        with pytest.raises(opensearch.PushError, match=r"\(503\)"):
            opensearch.push(small_index, cluster.url, max_retries=2, backoff=0.01)
        assert _bulk_calls(cluster) == 3


def test_push_auth_error_is_one_clear_line(small_index: frsearch.Index) -> None:
    with FakeCluster() as cluster:
        cluster.script[("HEAD", "/frsearch")] = [(401, {})]
        with pytest.raises(opensearch.PushError, match="refused the credentials") as caught:
            opensearch.push(small_index, cluster.url.replace("http://", "http://bob:secret@"), backoff=0.01)
    assert "secret" not in str(caught.value) and "bob:***" in str(caught.value)


def test_push_mapping_errors_are_reported(small_index: frsearch.Index) -> None:
    with FakeCluster() as cluster:
        refusal = {"error": {"root_cause": [{"type": "illegal_argument_exception",
                                             "reason": "unknown filter type [snowball]"}]}, "status": 400}
        cluster.script[("PUT", "/frsearch")] = [(400, refusal)]
        with pytest.raises(opensearch.PushError, match="refused the index settings.*unknown filter type"):
            opensearch.push(small_index, cluster.url, backoff=0.01)
    with FakeCluster() as cluster:
        cluster.item_status = [201, 400]
        with pytest.raises(opensearch.PushError, match="refused document .*mapper_parsing_exception"):
            opensearch.push(small_index, cluster.url, backoff=0.01)


def test_push_keeps_or_recreates_an_existing_index(small_index: frsearch.Index) -> None:
    with FakeCluster() as cluster:
        cluster.indices.add("frsearch")
        assert not opensearch.push(small_index, cluster.url, backoff=0.01).created
        assert opensearch.push(small_index, cluster.url, recreate=True, backoff=0.01).created
        assert [m for m, p, _b in cluster.requests if m in ("PUT", "DELETE")] == ["DELETE", "PUT"]


def test_push_without_the_client_says_how_to_install_it(small_index: frsearch.Index,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opensearchpy", None)  # as if not installed
    with pytest.raises(opensearch.PushError, match="needs opensearch-py") as caught:
        opensearch.push(small_index, "http://127.0.0.1:9")
    assert "frsearch[opensearch]" in (caught.value.hint or "")


def test_push_to_nothing_listening_says_so(small_index: frsearch.Index) -> None:
    with FakeCluster() as cluster:
        url = cluster.url
    with pytest.raises(opensearch.PushError, match="cannot reach"):
        opensearch.push(small_index, url, max_retries=1, backoff=0.01)


# ---------------------------------------------------------------------------
# CLI


def test_cli_export_writes_settings_and_bulk(tmp_path: Path) -> None:
    where = tmp_path / "ix"
    with frsearch.Index(where) as index:
        index.add_documents(DOCUMENTS)
    rules = tmp_path / "syn.txt"
    rules.write_text("CDD => contrat à durée déterminée\n", "utf-8")
    runner = CliRunner()
    out = tmp_path / "export"
    result = runner.invoke(cli, ["export", "opensearch", str(out), "--index", str(where),
                                 "--synonyms", str(rules)])
    assert result.exit_code == 0, result.output
    assert "3 documents" in result.output
    body = json.loads((out / "index.json").read_text("utf-8"))
    assert body == opensearch.index_body(["CDD => contrat à durée déterminée"])
    assert len((out / "bulk.ndjson").read_text("utf-8").splitlines()) == 6
    bad = runner.invoke(cli, ["export", "opensearch", str(out), "--index", str(where), "--index-name", "Bad/Name"])
    assert bad.exit_code == 2 and "not a valid index name" in bad.output and "Traceback" not in bad.output


def test_cli_push_and_its_errors(tmp_path: Path) -> None:
    where = tmp_path / "ix"
    with frsearch.Index(where) as index:
        index.add_documents(DOCUMENTS)
    runner = CliRunner()
    with FakeCluster() as cluster:
        ok = runner.invoke(cli, ["push", cluster.url, "--index", str(where), "--batch-size", "2"])
        assert ok.exit_code == 0, ok.output
        assert "3 documents" in ok.output and len(cluster.documents) == 3
        cluster.script[("HEAD", "/frsearch")] = [(403, {"error": {"type": "security_exception",
                                                                 "reason": "no permissions"}})]
        denied = runner.invoke(cli, ["push", cluster.url, "--index", str(where)])
    assert denied.exit_code == 2 and "not allowed (403)" in denied.output and "Traceback" not in denied.output


# ---------------------------------------------------------------------------
# A live cluster, when one is named

LIVE = os.environ.get("FRSEARCH_TEST_CLUSTER")


@pytest.mark.skipif(not LIVE, reason="set FRSEARCH_TEST_CLUSTER=http://127.0.0.1:9200 to test a live cluster")
def test_live_cluster_round_trip(small_index: frsearch.Index) -> None:
    import opensearchpy

    name = "frsearch-test"
    report = opensearch.push(small_index, LIVE, name, recreate=True, verify_certs=False)
    assert report.documents == 3
    client = opensearchpy.OpenSearch(hosts=[LIVE], verify_certs=False, ssl_show_warn=False)
    try:
        analyzed = client.indices.analyze(index=name, body={"analyzer": "frsearch", "text": "L’État XIXe 13 ème"})
        assert [t["token"] for t in analyzed["tokens"]] == [w.term for w in frsearch.analyze("L’État XIXe 13 ème")]
        hits = client.search(index=name, body=opensearch.search_body("etats unis blacklist"))["hits"]["hits"]
        assert hits and hits[0]["_source"]["id"] == "a"
    finally:
        client.indices.delete(index=name)
