"""frsearch: French full-text search for Python.

>>> import frsearch
>>> with frsearch.Index() as index:              # in memory; Index(".frsearch") on disk
...     index.add("a", "Xiaomi blacklisté", "Les États-Unis ont placé Xiaomi sur liste noire.")
...     [hit.id for hit in index.search("etats unis blacklist")]
['a']
"""

from frsearch import _startup  # noqa: F401  (first: it shapes how Whoosh is imported)
from frsearch.analysis import AnalyzedTerm, FrenchAnalyzer, analyze, fold, stem
from frsearch.documents import Document, read_document
from frsearch.errors import (
    DocumentError,
    FrsearchError,
    IndexFormatError,
    IndexLockedError,
    IndexNotFoundError,
    PathError,
    QueryError,
)
from frsearch.index import Index, SyncReport, default_index_path
from frsearch._version import __version__
from frsearch.query import ParsedQuery, parse_query
from frsearch.ranking import SearchOptions
from frsearch.search import Hit, SearchResults
from frsearch.snippets import Snippet
from frsearch.synonyms import Synonyms, SynonymsError, load_synonyms, parse_synonyms

__all__ = [
    "AnalyzedTerm",
    "Document",
    "DocumentError",
    "FrenchAnalyzer",
    "FrsearchError",
    "Hit",
    "Index",
    "IndexFormatError",
    "IndexLockedError",
    "IndexNotFoundError",
    "ParsedQuery",
    "PathError",
    "QueryError",
    "SearchOptions",
    "SearchResults",
    "Snippet",
    "SyncReport",
    "Synonyms",
    "SynonymsError",
    "__version__",
    "analyze",
    "default_index_path",
    "fold",
    "load_synonyms",
    "parse_query",
    "parse_synonyms",
    "read_document",
    "stem",
]
