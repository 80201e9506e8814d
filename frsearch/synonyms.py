"""Synonyms supplied by the user: a word or phrase of a query also searches for others.

A synonyms file is UTF-8 text with one rule a line; blank lines and text after
``#`` are ignored::

    CDD => contrat à durée déterminée
    CDI, contrat à durée indéterminée
    RTT => réduction du temps de travail, jours de repos

``a => b, c``: a query with ``a`` also finds ``b`` and ``c`` (one way only).
``a, b, c``: each of them finds the others.

Both sides are read by the French analyzer, so case, accents, elisions,
stopwords and plural forms do not matter: the first rule also serves the query
``contrats a duree determinee cdd``. The query keeps what was typed: a rule
adds alternatives (each searched as a phrase) and never removes a word. Only
free words and required words (``+word``, ``ET``) are expanded; quoted phrases,
prefixes (``word*``) and fuzzy words (``word~``) are left as written. A rule
whose left side has several words applies to those words typed one after the
other as free words.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Any

from frsearch.analysis import analyze
from frsearch.errors import FrsearchError
from frsearch.search import Either, Group, Phrase, Word

__all__ = ["Synonyms", "SynonymsError", "load_synonyms", "parse_synonyms"]

#: A synonyms file larger than this is refused (it is read whole).
MAX_SYNONYMS_BYTES = 16 * 1024 * 1024
#: Alternatives added for one matched word or phrase, at most.
MAX_ALTERNATIVES = 16


class SynonymsError(FrsearchError):
    """A synonyms file cannot be read or has a malformed rule."""


_RULE_HINT = "Each line is `word, other words` or `word => other words`; # starts a comment."


@dataclass
class Synonyms:
    """Rules mapping a sequence of index terms to alternative sequences."""

    rules: dict[tuple[str, ...], list[tuple[str, ...]]] = field(default_factory=dict)
    #: Words in the longest left side (kept up to date by add(), not recounted per query).
    longest: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.longest = max((len(key) for key in self.rules), default=0)

    def __len__(self) -> int:
        return len(self.rules)

    def add(self, source: tuple[str, ...], targets: list[tuple[str, ...]]) -> None:
        self.longest = max(self.longest, len(source))
        known = self.rules.setdefault(source, [])
        for target in targets:
            if target != source and target not in known:
                known.append(target)

    def alternatives(self, terms: tuple[str, ...]) -> list[tuple[str, ...]]:
        return self.rules.get(terms, [])[:MAX_ALTERNATIVES]

    def expand(self, parsed: Any) -> Any:
        """A copy of a ParsedQuery in which the words of a rule also search its alternatives."""
        if not self.rules or parsed.root is None:
            return parsed
        expanded = copy.deepcopy(parsed)
        expanded.root = self._expand_node(expanded.root)
        return expanded

    def _expand_node(self, node: Any) -> Any:
        if isinstance(node, Group):
            node.should = self._expand_run(node.should, self.longest)
            node.must = self._expand_run(node.must, 1)
            return node
        if isinstance(node, Either):
            node.clauses = [self._expand_node(clause) for clause in node.clauses]
            return node
        if isinstance(node, Word):
            return self._expand_run([node], 1)[0]
        return node

    def _expand_run(self, clauses: list[Any], longest: int) -> list[Any]:
        """Clauses with each longest rule match among consecutive plain words replaced."""
        out: list[Any] = []
        i = 0
        while i < len(clauses):
            clause = clauses[i]
            if not _plain(clause):
                out.append(clause if isinstance(clause, Word) else self._expand_node(clause))
                i += 1
                continue
            matched = None
            for size in range(min(longest, len(clauses) - i), 0, -1):
                words = clauses[i : i + size]
                if not all(_plain(w) and w.fields == clause.fields for w in words):
                    continue
                targets = self.alternatives(tuple(w.term for w in words))
                if targets:
                    matched = (words, targets)
                    break
            if matched is None:
                out.append(clause)
                i += 1
                continue
            words, targets = matched
            fields = clause.fields
            # The words as typed keep their meaning: free words, ranked as before.
            typed = words[0] if len(words) == 1 else Group(should=list(words))
            options: list[Any] = [typed]
            for target in targets:
                alt = [Word(term, term, fields, folded=term) for term in target]
                options.append(alt[0] if len(alt) == 1 else Phrase(alt, 0, fields, text=" ".join(target)))
            out.append(Either(options))
            i += len(words)
        return out


def _plain(node: Any) -> bool:
    return isinstance(node, Word) and not (node.prefix or node.fuzzy)


def _terms(text: str) -> tuple[str, ...]:
    return tuple(t.term for t in analyze(text) if t.term)


def parse_synonyms(text: str, source: str = "synonyms") -> Synonyms:
    """Read rules from text (the format above); ``source`` names it in error messages."""
    synonyms = Synonyms()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}, line {number}"
        if line.count("=>") > 1:
            raise SynonymsError(f"{where}: more than one '=>'", _RULE_HINT)
        if "=>" in line:
            left, right = line.split("=>")
            sources = _sides(left, where, "left of '=>'")
            targets = _sides(right, where, "right of '=>'")
            for one in sources:
                synonyms.add(one, targets)
        else:
            group = _sides(line, where, "the line")
            if len(group) < 2:
                raise SynonymsError(f"{where}: a rule needs two sides: 'a, b' or 'a => b'", _RULE_HINT)
            for one in group:
                synonyms.add(one, group)
    return synonyms


def _sides(text: str, where: str, what: str) -> list[tuple[str, ...]]:
    entries = [entry.strip() for entry in text.split(",")]
    if not any(entries):
        raise SynonymsError(f"{where}: nothing on {what}", _RULE_HINT)
    out = []
    for entry in entries:
        if not entry:
            continue
        terms = _terms(entry)
        if not terms:
            raise SynonymsError(f"{where}: {entry!r} has only stopwords or punctuation", _RULE_HINT)
        if terms not in out:
            out.append(terms)
    return out


def load_synonyms(path: str | os.PathLike[str]) -> Synonyms:
    """Read a synonyms file (UTF-8, a BOM allowed)."""
    shown = os.fspath(path)
    try:
        if os.path.getsize(path) > MAX_SYNONYMS_BYTES:
            raise SynonymsError(f"synonyms file {shown} is larger than {MAX_SYNONYMS_BYTES // 2**20} MB")
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:
        raise SynonymsError(f"cannot read synonyms file {shown}: it is a folder") from None
    except OSError as exc:
        raise SynonymsError(f"cannot read synonyms file {shown}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SynonymsError(f"synonyms file {shown} is not UTF-8 (byte {exc.start})") from None
    return parse_synonyms(text, shown)
