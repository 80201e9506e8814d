"""The road to OpenSearch and Elasticsearch: frsearch's analysis, documents and queries for a cluster.

Three parts, each usable alone:

- :func:`index_body`: index settings and mappings whose analyzers rebuild frsearch's
  French analysis from filters both engines ship (pattern tokenizer, elision, lowercase,
  asciifolding, stop, snowball...), with per-field BM25 and a non-stemmed ``.exact``
  subfield for fuzzy words; a synonyms file becomes a search-time ``synonym_graph``.
- :func:`bulk_lines`: an index's documents as bulk NDJSON, and :func:`push`, which creates
  the index and sends them to a cluster through opensearch-py (the ``[opensearch]`` extra),
  in batches, retrying on 429 and 5xx.
- :func:`to_query_dsl`: frsearch's query syntax as Query DSL, with the ranking levers a
  cluster can express (field weights, an all-words bonus, proximity as boosted phrases).

What the engines cannot express (position renumbering over stopwords, frsearch's newer
Snowball, unidecode's transliteration, typo expansion only of unknown words, feedback...)
is measured in benchmarks/opensearch/.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from frsearch.analysis import ELISIONS, STOPWORDS, _roman, stem
from frsearch.errors import FrsearchError

# The query tree: the only place this module names the parser's module (it may move).
from frsearch.search import QUESTION_WORDS, Either, Group, ParsedQuery, Phrase, SearchOptions, Word, parse_query

__all__ = [
    "DEFAULT_INDEX_NAME",
    "ExportReport",
    "PushError",
    "PushReport",
    "bulk_lines",
    "export",
    "index_body",
    "push",
    "search_body",
    "synonym_rules",
    "to_query_dsl",
]

DEFAULT_INDEX_NAME = "frsearch"
#: Documents sent in one bulk request by default.
DEFAULT_BATCH_SIZE = 500
#: Longest document _id the engines accept (bytes); longer ids are hashed (the id field keeps them).
MAX_ID_BYTES = 512

ANALYZER = "frsearch"
SEARCH_ANALYZER = "frsearch_search"
EXACT_ANALYZER = "frsearch_exact"
#: The subfield of title and body that is folded but neither stemmed nor stopped.
EXACT = "exact"

# Ranking levers (tuned in Lucene on both collections, see benchmarks/opensearch/README.md).
#: Documents with every free word of a group earn this times those words' scores again.
ALL_WORDS_BOOST = 0.3
#: Two consecutive free words found within this slop (Lucene's) earn a boosted phrase.
PROXIMITY_SLOP = 2
#: Words folded to this length or shorter get no automatic typo clause (Elasticsearch's AUTO
#: fuzziness allows no edit below 3 letters anyway).
TYPO_MIN_LENGTH = 4
#: Weight of the automatic typo clause against the word itself.
TYPO_WEIGHT = 0.2
#: Field weights of translated queries. frsearch weighs titles 2 with its idf raised to 1.5;
#: under plain BM25 a title weight of 1 ranks better on both collections (piaf-train nDCG@10
#: 0.767 -> 0.791, codedutravail-dev 0.238 -> 0.241, 800 queries each, in Lucene).
CLUSTER_WEIGHTS = {"title": 1.0, "body": 1.0}

# ---------------------------------------------------------------------------
# Analysis

# Mirrors frsearch.analysis._TOKEN_RE in Java's regex dialect: letters, digits and combining
# marks; words joined by apostrophes; numbers with separators; ordinals written with a space.
_WORD_CLASS = r"[\p{L}\p{N}\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
_APOSTROPHES = "'\u2019\u02bc\u2018"
_SPACED_ORDINAL = (
    r"[ \u00a0\u202f](?:(?i)i?(?:e\u0300?|\u00e8)mes?|(?:e\u0300?|\u00e8)res?|ers?)"
)
#: A legal reference, however written (L. 3142-1, L 3142-1, L3142-1): one token, as
#: frsearch.analysis.LEGAL_REFERENCE; fr_references then joins its letter and number.
_LEGAL_REFERENCE = rf"(?<!{_WORD_CLASS})[LRDlrd]\.?[ \u00a0\u202f]?\p{{Nd}}{{3,}}(?!{_WORD_CLASS})"
TOKEN_PATTERN = (
    rf"{_LEGAL_REFERENCE}|\p{{Nd}}+(?:(?:[.,]\p{{Nd}}+)+|{_SPACED_ORDINAL})(?!{_WORD_CLASS})"
    rf"|{_WORD_CLASS}+(?:[{_APOSTROPHES}]{_WORD_CLASS}+)*"
)
#: Folded ordinals (13e, 13eme, 1er, 1ere, 1re, 2nd, 2nde, plurals) to their number, as fold() does.
ORDINAL_PATTERN = r"^0*(?:([0-9]+)(?:i?eme|e)|(1)(?:ere?|re)|(2)nde?)s?$"
#: Snowball reads a folded feminine -ee/-ees as -e/-es first (frsearch.analysis.stem).
FEMININE_PATTERN = r"^(?=.{5,}$)(.*e)e(s?)$"


def roman_numeral_rules() -> list[str]:
    """``synonym`` rules turning roman numerals as written (``XIXe``, ``XIX``, ``Ier``) into
    numbers, case-sensitive, as frsearch.analysis.fold does; lone I, V and X stay letters."""
    rules = []
    for value in range(1, 40):
        numeral = _roman(value)
        suffixes = ["e", "eme", "\u00e8me", "ieme", "i\u00e8me"]
        if value == 1:
            suffixes += ["er", "ere", "\u00e8re"]
        forms = ([numeral] if len(numeral) > 1 else []) + [numeral + s for s in suffixes]
        rules.append(f"{', '.join(forms)} => {value}")
    return rules


def synonym_rules(text: str) -> list[str]:
    """A frsearch synonyms file's rules (``a, b`` and ``a => b``; ``#`` comments) as
    Solr-format lines for a ``synonym_graph`` filter. Checked with frsearch's own reader
    first, so a malformed file fails here with the same message as in ``frsearch query``."""
    from frsearch.synonyms import parse_synonyms

    parse_synonyms(text)
    rules = []
    for raw in text.lstrip("\ufeff").splitlines():
        line = " ".join(raw.split("#", 1)[0].split())
        if line:
            rules.append(line)
    return rules


def index_body(synonyms: Iterable[str] | None = None, options: SearchOptions | None = None) -> dict[str, Any]:
    """The body of a create-index request: settings (analysis, similarity) and mappings.

    ``synonyms`` are Solr-format rules (see :func:`synonym_rules`), applied at search time.
    ``options`` gives the BM25 parameters per field (frsearch's defaults otherwise).
    """
    options = options or SearchOptions()
    rules = list(synonyms or [])
    chain_head = ["fr_elision", "fr_apostrophes", "fr_roman_numerals", "lowercase", "asciifolding",
                  "fr_marks", "fr_references", "fr_ordinals"]
    stemmed_tail = ["fr_stop", "fr_feminine", "fr_numbers", "fr_snowball", "fr_nonempty"]
    analyzers: dict[str, Any] = {
        ANALYZER: {
            "type": "custom",
            "char_filter": ["fr_quotes"],
            "tokenizer": "fr_words",
            "filter": chain_head + stemmed_tail,
        },
        EXACT_ANALYZER: {
            "type": "custom",
            "char_filter": ["fr_quotes"],
            "tokenizer": "fr_words",
            "filter": chain_head + ["fr_nonempty"],
        },
    }
    filters: dict[str, Any] = {
        "fr_elision": {"type": "elision", "articles_case": True, "articles": sorted(ELISIONS)},
        # Apostrophes left inside a word go: aujourd'hui and aujourdhui are one term.
        "fr_apostrophes": {"type": "pattern_replace", "pattern": "['\u2019]", "replacement": ""},
        "fr_roman_numerals": {"type": "synonym", "synonyms": roman_numeral_rules()},
        # Combining marks (decomposed accents) and what folding leaves besides letters,
        # digits and a number's separators.
        "fr_marks": {"type": "pattern_replace", "pattern": r"[^\p{L}\p{N}.,]", "replacement": ""},
        # l.3142 (a legal reference whose space fr_marks removed) -> l3142.
        "fr_references": {"type": "pattern_replace", "pattern": r"^([lrd])\.([0-9]{3,})$", "replacement": "$1$2"},
        "fr_ordinals": {"type": "pattern_replace", "pattern": ORDINAL_PATTERN, "replacement": "$1$2$3"},
        "fr_stop": {"type": "stop", "stopwords": sorted(STOPWORDS), "ignore_case": False},
        "fr_feminine": {"type": "pattern_replace", "pattern": FEMININE_PATTERN, "replacement": "$1$2"},
        "fr_numbers": {"type": "keyword_marker", "keywords_pattern": "[0-9].*"},
        "fr_snowball": {"type": "snowball", "language": "French"},
        "fr_nonempty": {"type": "length", "min": 1},
    }
    if rules:
        filters["fr_synonyms"] = {"type": "synonym_graph", "synonyms": rules, "lenient": True}
        analyzers[SEARCH_ANALYZER] = {
            **analyzers[ANALYZER],
            "filter": analyzers[ANALYZER]["filter"] + ["fr_synonyms"],
        }
    analysis = {
        "char_filter": {
            # The elision filter knows ' and ’; the other apostrophes frsearch reads become '.
            "fr_quotes": {"type": "mapping", "mappings": ["\u02bc => '", "\u2018 => '"]},
        },
        "tokenizer": {"fr_words": {"type": "pattern", "pattern": TOKEN_PATTERN, "group": 0}},
        "filter": filters,
        "analyzer": analyzers,
    }
    similarity = {
        f"frsearch_{name}": {"type": "BM25", "k1": options.k1, "b": options.b.get(name, 0.75)}
        for name in ("title", "body")
    }

    def text_field(name: str) -> dict[str, Any]:
        mapping: dict[str, Any] = {
            "type": "text",
            "analyzer": ANALYZER,
            "similarity": f"frsearch_{name}",
            "fields": {EXACT: {"type": "text", "analyzer": EXACT_ANALYZER, "similarity": f"frsearch_{name}"}},
        }
        if rules:
            mapping["search_analyzer"] = SEARCH_ANALYZER
        return mapping

    return {
        "settings": {"index": {"analysis": analysis, "similarity": similarity}},
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                "kind": {"type": "keyword"},
                "path": {"type": "keyword"},
                "title": text_field("title"),
                "body": text_field("body"),
                "mtime": {"type": "double"},
                "size": {"type": "long"},
                "hash": {"type": "keyword"},
                # A user's own fields: kept in _source, not searched (their types are free).
                "fields": {"type": "object", "enabled": False},
            },
        },
    }


# ---------------------------------------------------------------------------
# Documents

_SOURCE_KEYS = ("id", "kind", "path", "title", "body", "mtime", "size", "hash", "fields")


def document_id(doc_id: str) -> str:
    """The _id of a document: its frsearch id, or a hash of it when the engines would refuse it."""
    encoded = doc_id.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_ID_BYTES and encoded.decode("utf-8", "replace") == doc_id:
        return doc_id
    return "sha1-" + hashlib.sha1(encoded).hexdigest()


def _source(stored: dict[str, Any]) -> dict[str, Any]:
    source = {key: stored[key] for key in _SOURCE_KEYS if stored.get(key) is not None}
    for key in ("id", "path"):  # file names that are not UTF-8: their bytes, as the CLI shows them
        if key in source:
            source[key] = source[key].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return source


def bulk_lines(documents: Iterable[dict[str, Any]], index_name: str = DEFAULT_INDEX_NAME) -> Iterator[str]:
    """Bulk NDJSON lines (action, then source) for stored documents as ``Index.documents()`` gives."""
    for stored in documents:
        action = {"index": {"_index": index_name, "_id": document_id(stored["id"])}}
        yield json.dumps(action, ensure_ascii=False) + "\n"
        yield json.dumps(_source(stored), ensure_ascii=False, sort_keys=True) + "\n"


@dataclass
class ExportReport:
    """What :func:`export` wrote."""

    directory: str
    documents: int
    files: list[str]


def export(index: Any, directory: str | os.PathLike[str], index_name: str = DEFAULT_INDEX_NAME,
           synonyms: Iterable[str] | None = None) -> ExportReport:
    """Write ``index.json`` (settings and mappings), ``bulk.ndjson`` and a README to ``directory``.

    Load them with ``curl -XPUT URL/NAME -H 'Content-Type: application/json' -d @index.json``
    then ``curl -XPOST URL/_bulk -H 'Content-Type: application/x-ndjson' --data-binary @bulk.ndjson``.
    """
    _check_index_name(index_name)
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
        body = index_body(synonyms)
        (out / "index.json").write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", "utf-8")
        count = 0
        with open(out / "bulk.ndjson", "w", encoding="utf-8") as handle:
            for line in bulk_lines(index.documents(), index_name):
                handle.write(line)
                count += 1
        (out / "README.txt").write_text(_EXPORT_README.format(name=index_name), "utf-8")
    except OSError as exc:
        raise FrsearchError(f"cannot write the export to {out}: {exc.strerror or exc}") from None
    return ExportReport(str(out), count // 2, ["index.json", "bulk.ndjson", "README.txt"])


_EXPORT_README = """\
frsearch export for OpenSearch or Elasticsearch (both read these files).

  curl -XPUT "$URL/{name}" -H 'Content-Type: application/json' -d @index.json
  curl -XPOST "$URL/_bulk" -H 'Content-Type: application/x-ndjson' --data-binary @bulk.ndjson

index.json: settings (French analyzers, BM25 per field) and mappings.
bulk.ndjson: the documents; a very large file is better sent in parts (`frsearch push` does).
Queries: frsearch.opensearch.to_query_dsl("your query") gives the Query DSL.
"""


def _check_index_name(name: str) -> None:
    if (not name or name != name.lower() or name.startswith(("-", "_", "+")) or name in (".", "..")
            or any(ch in name for ch in ' "*\\<|,>/?#:') or len(name.encode()) > 255):
        raise FrsearchError(
            f"{name!r} is not a valid index name",
            hint="Use lowercase letters, digits, - and _ (not first), e.g. --index-name frsearch.",
        )


# ---------------------------------------------------------------------------
# Pushing to a cluster


class PushError(FrsearchError):
    """The cluster refused the index or its documents, or cannot be reached."""


@dataclass
class PushReport:
    """What :func:`push` did."""

    url: str
    index_name: str
    documents: int
    requests: int
    retries: int
    created: bool
    seconds: float


_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def push(
    index: Any,
    url: str,
    index_name: str = DEFAULT_INDEX_NAME,
    *,
    synonyms: Iterable[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    recreate: bool = False,
    max_retries: int = 5,
    backoff: float = 1.0,
    verify_certs: bool = True,
    auth: tuple[str, str] | None = None,
    timeout: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
) -> PushReport:
    """Create the index (settings, mappings) on the cluster at ``url`` and send the documents.

    Requests answered 429 or 5xx (or not answered) are sent again up to ``max_retries`` times,
    waiting ``backoff`` seconds and twice as long each time; so are the documents of a bulk
    answer refused with 429. An existing index is kept (documents are replaced by id) unless
    ``recreate``. Credentials go in the URL (``https://user:pass@host:9200``) or ``auth``.
    """
    _check_index_name(index_name)
    if batch_size < 1:
        raise FrsearchError("the batch size must be at least 1")
    try:
        import opensearchpy
    except ImportError:
        raise PushError(
            "pushing to a cluster needs opensearch-py",
            hint='Install it with: pip install "frsearch[opensearch]"',
        ) from None
    started = time.monotonic()
    client = opensearchpy.OpenSearch(
        hosts=[url], http_auth=auth, verify_certs=verify_certs, ssl_show_warn=False,
        timeout=timeout, max_retries=0, retry_on_timeout=False,
    )
    shown = _shown_url(url)
    sender = _Sender(client, opensearchpy, shown, max_retries, backoff)
    created = False
    exists = sender.call(lambda: client.indices.exists(index=index_name))
    if exists and recreate:
        sender.call(lambda: client.indices.delete(index=index_name))
        exists = False
    if not exists:
        body = index_body(synonyms)
        sender.call(lambda: client.indices.create(index=index_name, body=body), what="creating the index")
        created = True
    total = len(index)
    done = 0
    batch: list[str] = []
    if progress:
        progress(0, total)
    for line in bulk_lines(index.documents(), index_name):
        batch.append(line)
        if len(batch) >= 2 * batch_size:
            done += sender.bulk(batch)
            batch = []
            if progress:
                progress(done, total)
    if batch:
        done += sender.bulk(batch)
        if progress:
            progress(done, total)
    sender.call(lambda: client.indices.refresh(index=index_name))
    return PushReport(shown, index_name, done, sender.requests, sender.retries, created,
                      time.monotonic() - started)


def _shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class _Sender:
    """Calls to the cluster with retries, and its errors as one-line PushErrors."""

    def __init__(self, client: Any, module: Any, url: str, max_retries: int, backoff: float) -> None:
        self.client = client
        self.errors = module.exceptions
        self.url = url
        self.max_retries = max_retries
        self.backoff = backoff
        self.requests = 0
        self.retries = 0

    def _wait(self, attempt: int) -> None:
        self.retries += 1
        time.sleep(self.backoff * 2 ** attempt)

    def call(self, request: Callable[[], Any], what: str = "") -> Any:
        errors = self.errors
        for attempt in range(self.max_retries + 1):
            self.requests += 1
            try:
                return request()
            except errors.AuthenticationException:
                raise PushError(f"{self.url} refused the credentials (401)",
                                hint="Put them in the URL (https://user:password@host:9200).") from None
            except errors.AuthorizationException as exc:
                raise PushError(f"{self.url}: not allowed (403): {_reason(exc)}",
                                hint="The user needs the right to create indices and write to them.") from None
            except errors.ConnectionError as exc:
                if attempt == self.max_retries:
                    raise PushError(f"cannot reach {self.url}: {_reason(exc)}",
                                    hint="Check the URL and that the cluster is running.") from None
            except errors.TransportError as exc:
                status = exc.status_code if isinstance(exc.status_code, int) else 0
                if status not in _RETRY_STATUS or attempt == self.max_retries:
                    kind = "the cluster refused the index settings or mappings" if what else "the cluster answered"
                    raise PushError(f"{kind} ({status}): {_reason(exc)}") from None
            self._wait(attempt)
        raise AssertionError("unreachable")

    def bulk(self, lines: list[str]) -> int:
        """Send one batch; documents refused with 429 or 5xx are sent again. Returns the count sent."""
        pending = lines
        sent = 0
        for attempt in range(self.max_retries + 1):
            answer = self.call(lambda: self.client.bulk(body="".join(pending)))
            again: list[str] = []
            for i, item in enumerate(answer.get("items", [])):
                result = next(iter(item.values()))
                status = result.get("status", 200)
                if status < 300:
                    sent += 1
                elif status in _RETRY_STATUS:
                    again += pending[2 * i: 2 * i + 2]
                else:
                    doc_id = result.get("_id", "?")
                    raise PushError(f"the cluster refused document {doc_id} ({status}): "
                                    f"{_reason(result.get('error'))}")
            if not again:
                return sent
            if attempt == self.max_retries:
                break
            pending = again
            self._wait(attempt)
        raise PushError(f"the cluster still refused {len(again) // 2} documents after "
                        f"{self.max_retries} retries (429 or 5xx)", hint="Try again later, or a smaller --batch-size.")


def _reason(error: Any) -> str:
    """A short reason from an error answer or exception."""
    info = getattr(error, "info", error)
    if isinstance(info, dict):
        inner = info.get("error", info)
        if isinstance(inner, dict):
            cause = (inner.get("root_cause") or [inner])[0]
            if isinstance(cause, dict):
                return f"{cause.get('type', 'error')}: {cause.get('reason', '')}".strip()
        return str(inner)[:300]
    if error is None:
        return "no reason given"
    text = getattr(error, "error", None) or str(error)
    return " ".join(str(text).split())[:300]


# ---------------------------------------------------------------------------
# Queries


def to_query_dsl(query: str | ParsedQuery, options: SearchOptions | None = None, *,
                 typos: bool = True, proximity: bool = True, all_words: bool = True) -> dict[str, Any]:
    """frsearch's query syntax as a Query DSL ``query`` clause.

    Free words are optional clauses over title and body (weighted by ``options.weights``,
    :data:`CLUSTER_WEIGHTS` by default); documents with every free word earn a bonus (:data:`ALL_WORDS_BOOST`), and
    consecutive free words found close together a boosted ``match_phrase``. Question
    words (comment, quel...) are dropped when other free words remain. ``typos`` adds a
    low-weight fuzzy clause on the non-stemmed ``.exact`` subfield for each free word of
    :data:`TYPO_MIN_LENGTH` letters or more (better on both collections, at 1.7 to 5.3
    times the query time in Lucene; frsearch itself only expands words the index lacks).
    Raises QueryError as :func:`frsearch.parse_query` does.
    """
    parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
    if options is None:
        options = SearchOptions(weights=dict(CLUSTER_WEIGHTS))
    translator = _Translator(options, typos, proximity, all_words)
    return translator.node(parsed.root)


def search_body(query: str | ParsedQuery, size: int = 10, **levers: Any) -> dict[str, Any]:
    """A whole ``_search`` request body: the query, ``size`` hits, highlights on title and body."""
    return {
        "query": to_query_dsl(query, **levers),
        "size": size,
        "_source": ["id", "title", "path"],
        "highlight": {"fields": {"title": {}, "body": {}}},
    }


def _boosted(clause: dict[str, Any], boost: float) -> dict[str, Any]:
    ((kind, body),) = clause.items()
    ((field, params),) = body.items()
    if boost != 1.0:
        params = {**params, "boost": round(boost, 4)}
    return {kind: {field: params}}


def _any(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses}}


class _Translator:
    def __init__(self, options: SearchOptions, typos: bool, proximity: bool, all_words: bool) -> None:
        self.weights = options.weights
        self.proximity_weight = options.proximity_weight
        self.typos = typos
        self.proximity = proximity
        self.all_words = all_words

    def per_field(self, fields: tuple[str, ...], make: Callable[[str], dict[str, Any]],
                  weight: float = 1.0) -> dict[str, Any]:
        return _any([_boosted(make(f), weight * self.weights.get(f, 1.0)) for f in fields])

    def node(self, node: Any) -> dict[str, Any]:
        if isinstance(node, Word):
            return self.word(node)
        if isinstance(node, Phrase):
            return self.phrase(node)
        if isinstance(node, Either):
            return {"bool": {"should": [self.node(c) for c in node.clauses], "minimum_should_match": 1}}
        if isinstance(node, Group):
            return self.group(node)
        raise FrsearchError(f"cannot translate a {type(node).__name__} query node")

    def word(self, word: Word) -> dict[str, Any]:
        folded = word.folded or word.term
        if word.prefix:
            # frsearch expands the folded prefix over the index's terms (stems), and adds the
            # stem of the prefix itself.
            def make(f: str) -> dict[str, Any]:
                return {"prefix": {f: {"value": folded}}}

            clauses = [self.per_field(word.fields, make)]
            stemmed = stem(folded)
            if stemmed != folded:
                clauses.append(self.per_field(word.fields, lambda f: {"term": {f: {"value": stemmed}}}))
            return _any(clauses)
        if word.fuzzy:
            return self.per_field(word.fields, lambda f: {
                "fuzzy": {f"{f}.{EXACT}": {"value": folded, "fuzziness": word.fuzzy, "transpositions": True}}})
        return self.per_field(word.fields, lambda f: {"match": {f: {"query": word.text}}})

    def phrase(self, phrase: Phrase) -> dict[str, Any]:
        # frsearch's slop allows N words between each pair, in order; Lucene's counts moves.
        slop = phrase.slop * (len(phrase.words) - 1)
        # As written, stopwords included: the cluster leaves their positions empty in
        # documents and queries alike.
        text = phrase.text.strip() or " ".join(w.text for w in phrase.words)

        def make(f: str) -> dict[str, Any]:
            params: dict[str, Any] = {"query": text}
            if slop:
                params["slop"] = slop
            return {"match_phrase": {f: params}}

        return self.per_field(phrase.fields, make)

    def group(self, group: Group) -> dict[str, Any]:
        should = list(group.should)
        free = [c for c in should if isinstance(c, Word) and not (c.prefix or c.fuzzy)]
        content = [w for w in free if (w.folded or w.term) not in QUESTION_WORDS]
        if content and len(content) < len(free):
            dropped = {id(w) for w in free if (w.folded or w.term) in QUESTION_WORDS}
            should = [c for c in should if id(c) not in dropped]
            free = content
        clauses = [self.node(c) for c in should]
        if len(free) >= 2:
            if self.all_words:
                clauses.append({"bool": {"must": [self.word(w) for w in free], "boost": ALL_WORDS_BOOST}})
            if self.proximity:
                for a, b in zip(free, free[1:]):
                    if a.fields == b.fields and a.term != b.term:
                        text = f"{a.text} {b.text}"
                        clauses.append(self.per_field(a.fields, lambda f, text=text: {
                            "match_phrase": {f: {"query": text, "slop": PROXIMITY_SLOP}}}, self.proximity_weight))
        if self.typos:
            for w in free:
                folded = w.folded or w.term
                if len(folded) >= TYPO_MIN_LENGTH and not folded.isdigit():
                    clauses.append(self.per_field(w.fields, lambda f, folded=folded: {
                        "fuzzy": {f"{f}.{EXACT}": {"value": folded, "fuzziness": "AUTO"}}}, TYPO_WEIGHT))
        body: dict[str, Any] = {}
        if group.must:
            body["must"] = [self.node(c) for c in group.must]
        if clauses:
            body["should"] = clauses
        if group.must_not:
            body["must_not"] = [self.node(c) for c in group.must_not]
        return {"bool": body}
