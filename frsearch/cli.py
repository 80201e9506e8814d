"""The frsearch command line: parse arguments, call the library, format output.

Errors are mapped to messages and exit codes here and only here:
0 something was found (or the command succeeded), 1 nothing was found,
2 an error (bad usage, no index, damaged index, unreadable query).
"""

from __future__ import annotations

import errno
import html
import json
import os
import re
import sys
from typing import Any, Iterable

import click

from frsearch._version import __version__
from frsearch.analysis import analyze
from frsearch.documents import SURROGATE_RE, display_name
from frsearch.errors import FrsearchError, IndexLockedError
from frsearch.index import Index, check_paths, default_index_path
from frsearch.paths import openable_path
from frsearch.search import Hit, Snippet
from frsearch.synonyms import load_synonyms

EXIT_FOUND, EXIT_NOT_FOUND, EXIT_ERROR = 0, 1, 2

# Control characters (C0, C1, DEL) never reach the terminal from a document.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")


def _safe(text: str) -> str:
    """Text from a document or a file name, made safe to print on a terminal."""
    return _CONTROL_RE.sub(lambda m: "\\x%02x" % ord(m.group()), display_name(text))


def _safe_snippet(text: str) -> str:
    return SURROGATE_RE.sub("\ufffd", _CONTROL_RE.sub(" ", text))


def _json(data: Any, indent: int | None = None) -> str:
    """JSON text that is valid UTF-8 and safe on a terminal.

    DEL, C1 controls and lone surrogates (undecodable bytes of file names) are
    written as \\u escapes, which json.dumps leaves raw with ensure_ascii=False;
    they only occur inside strings, so the result is the same JSON value, and
    Python's json.loads gives back the very string (os.fsencode: the bytes).
    """
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return re.sub("[\x7f-\x9f\ud800-\udfff]", lambda m: "\\u%04x" % ord(m.group()), text)


class _Group(click.Group):
    """Maps library errors to one-line messages and exit status 2, once for all commands."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FrsearchError as exc:
            _fail(exc.message, exc.hint)
        except KeyboardInterrupt:
            click.echo("frsearch: interrupted", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # the reader of our output went away: click exits quietly
            _fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        except Exception as exc:  # a bug: say so in one line, no traceback
            if os.environ.get("FRSEARCH_DEBUG"):
                raise
            _fail(
                f"internal error ({type(exc).__name__}: {exc})",
                "Please report it with the command you ran (set FRSEARCH_DEBUG=1 for details).",
            )


def _fail(message: str, hint: str | None = None) -> None:
    click.echo(f"frsearch: error: {_safe(message)}", err=True)
    if hint:
        click.echo(f"  {hint}", err=True)
    sys.exit(EXIT_ERROR)


class _QueryCommand(click.Command):
    """``frsearch query``: an unknown option is most likely a query word starting with ``-``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            word = next((a for a in given if a.startswith(exc.option_name)), exc.option_name)
            words = " ".join(a for a in given if not a.startswith("--"))
            raise click.UsageError(
                f"no such option: {word}. A query starting with '-' (an exclusion) needs '--' "
                f"before it: frsearch query -- \"{words}\"",
                ctx,
            ) from None


index_option = click.option(
    "--index",
    "index_path",
    metavar="DIR",
    default=None,
    help="Index directory (default: $FRSEARCH_INDEX, else .frsearch in the current directory).",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="frsearch")
def cli() -> None:
    """French full-text search: index folders of French text, then query them.

    \b
    Example:
        frsearch index seeds/
        frsearch query "Lei Jun blacklist"
    """


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@index_option
@click.option("--rebuild", is_flag=True, help="Discard the index and build it afresh.")
@click.option("--wait", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds to wait for another indexing run on the same index.")
@click.option("--max-size", type=click.IntRange(min=1), default=32, show_default=True,
              metavar="MB", help="Skip files larger than this many megabytes.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no list of skipped files.")
@click.option("-v", "--verbose", is_flag=True, help="Also list the files of types frsearch does not read.")
@click.option("--watch", is_flag=True,
              help="After indexing, keep the index current as files change, until Ctrl-C.")
def index_command(
    paths: tuple[str, ...], index_path: str | None, rebuild: bool, wait: float,
    max_size: int, as_json: bool, quiet: bool, verbose: bool, watch: bool,
) -> None:
    """Index files and folders (recursive).

    \b
    Reads: text (.txt), Markdown (.md), HTML (.html, .htm, .xhtml), PDF
    (text layer, by page), Word (.docx), OpenDocument (.odt, .ods, .odp),
    RTF (.rtf), EPUB (.epub) and e-mail (.eml). Other files are counted
    in the summary by extension ("3 not read: 2 .xlsx, 1 .png").

    Re-running is incremental: unchanged files are not read again, changed
    files are replaced and deleted files are removed. With --watch, changes
    are indexed as they happen (needs `pip install 'frsearch[watch]'`).

    \b
    Example:
        frsearch index seeds/
        frsearch index --rebuild notes/ articles/
        frsearch index --watch ~/Documents
    """
    check_paths(paths)  # a missing folder is an error before any index is created or changed
    location = index_path or default_index_path()
    index = Index.for_rebuild(location) if rebuild else Index(location)
    progress = _Progress("Indexing", not quiet and not as_json and sys.stderr.isatty())
    try:
        report = _with_wait(
            lambda w: index.index_paths(paths, rebuild=rebuild, wait=w,
                                        max_size=max_size * 1024 * 1024, progress=progress),
            wait, quiet,
        )
    finally:
        progress.close()
        index.close()
    if as_json:
        click.echo(_json(report.as_dict(), indent=2))
        return
    if not quiet:
        for skipped in report.skipped:
            click.echo(f"skipped: {_safe(skipped.path)}: {_safe(skipped.reason)}", err=True)
        if verbose:
            for suffix, names in sorted(report.not_read.items()):
                for name in names:
                    click.echo(f"not read ({_safe(suffix)}): {_safe(name)}", err=True)
    click.echo(f"{report.summary()} ({report.seconds:.1f} s)")
    if watch:
        _watch(location, paths, wait, max_size, quiet)


def _watch(location: str, paths: tuple[str, ...], wait: float, max_size: int, quiet: bool) -> None:
    """Keep the index current until Ctrl-C: one line a sync that changed something."""
    from frsearch.watch import watch_paths

    def on_sync(report: Any) -> None:
        if quiet or not (report.added or report.updated or report.removed or report.skipped):
            return
        for skipped in report.skipped:
            click.echo(f"skipped: {_safe(skipped.path)}: {_safe(skipped.reason)}", err=True)
        click.echo(f"{report.summary()} ({report.seconds:.1f} s)")

    def on_error(exc: FrsearchError) -> None:
        click.echo(f"frsearch: {_safe(exc.message)} (will try again)", err=True)

    if not quiet:
        click.echo("Watching for changes; Ctrl-C to stop.", err=True)
    with Index(location) as index:
        try:
            syncs = watch_paths(index, paths, max_size=max_size * 1024 * 1024, wait=wait, on_sync=on_sync,
                                on_error=on_error)
        except KeyboardInterrupt:  # during a sync: it was cancelled, the last commit stands
            syncs = -1
    if not quiet:
        click.echo("Stopped watching" + (f" after {syncs} syncs." if syncs >= 0 else "."), err=True)


class _Progress:
    """A progress bar on stderr, drawn from the first report on; none when not ``shown``."""

    def __init__(self, label: str, shown: bool) -> None:
        self.label = label
        self.shown = shown
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.shown:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _with_wait(run: Any, wait: float, quiet: bool) -> Any:
    """Run ``run(wait)``, saying on stderr that we wait when another run holds the index."""
    try:
        return run(0.0)
    except IndexLockedError:
        if wait <= 0:
            raise
        if not quiet:
            click.echo(f"frsearch: another run is writing to the index; waiting up to {wait:g} s…",
                       err=True)
        return run(wait)


def _open_for_reading(index_path: str | None) -> Index:
    return Index.open(index_path or default_index_path())


@cli.command("query", cls=_QueryCommand)
@click.argument("words", nargs=-1, required=True)
@index_option
@click.option("-n", "--limit", type=click.IntRange(min=1, max=10_000), default=10, show_default=True,
              help="Number of hits to show.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many hits first.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: total, suggestion, notes and the hits.")
@click.option("--jsonl", "as_jsonl", is_flag=True,
              help="Print JSON lines: the total, suggestion and notes, then one hit a line.")
@click.option("--format", "fmt", type=click.Choice(["auto", "plain", "ansi", "html"]), default="auto",
              show_default=True,
              help="How highlights are shown: plain **markers**, ANSI bold colour, or HTML <mark>.")
@click.option("--page", type=click.IntRange(min=1), default=None,
              help="Show page N of results (--limit hits a page); instead of --offset.")
@click.option("--under", metavar="DIR", default=None, help="Only files under this folder.")
@click.option("--glob", "glob_pattern", metavar="PATTERN", default=None,
              help="Only files whose name (or, with a /, path) matches, e.g. '*.md'.")
@click.option("--sort", type=click.Choice(["score", "path", "mtime"]), default="score", show_default=True,
              help="Order of hits: best first, by path, or newest first.")
@click.option("--explain", is_flag=True, help="Show how the query was read and which words each hit matched.")
@click.option("--synonyms", "synonyms_path", metavar="FILE", default=None,
              help="Also search the synonyms this file gives for the query's words "
                   "(lines like 'CDD => contrat à durée déterminée' or 'CDI, contrat à durée indéterminée').")
def query_command(
    words: tuple[str, ...], index_path: str | None, limit: int, offset: int,
    as_json: bool, as_jsonl: bool, fmt: str, page: int | None, under: str | None,
    glob_pattern: str | None, sort: str, explain: bool, synonyms_path: str | None,
) -> None:
    """Search the index and print ranked hits with highlighted snippets.

    Free words find documents with any of them, more of them ranking higher.
    Also: "phrase", "phrase"~2, AND/ET, OR/OU, NOT/SAUF, +word, -word,
    ( ), title:word, prefix*, fuzzy~. Exit status: 0 found, 1 nothing found,
    2 error.

    \b
    Example:
        frsearch query "Lei Jun blacklist"
        frsearch query '"Lei Jun" Tesla' --limit 3
        frsearch query 'Xiaomi SAUF Facebook' --json
        frsearch query smartphones --glob '*.md' --sort mtime --page 2
    """
    text = " ".join(words)
    if page is not None:
        offset = (page - 1) * limit
    synonyms = load_synonyms(synonyms_path) if synonyms_path else None
    with _open_for_reading(index_path) as index:
        results = index.search(text, limit=limit, offset=offset, under=under, glob=glob_pattern, sort=sort,
                               synonyms=synonyms)
    for hit in results:
        hit.path = openable_path(hit.path)
    if as_json or as_jsonl:
        data = results.as_dict(explain=explain)
        if as_jsonl:
            hits = data.pop("hits")
            click.echo(_json({"type": "results", **data}))
            for row in hits:
                click.echo(_json({"type": "hit", **row}))
        else:
            click.echo(_json(data, indent=2))
    else:
        style = _style(fmt)
        if explain:
            for line in results.explain():
                click.echo(_safe(line))
            click.echo()
        else:
            for note in results.query.notes:
                click.echo(f"note: {_safe(note)}", err=True)
        if not results.hits:
            click.echo(_nothing_found(results.total, results.offset, limit), err=True)
        if results.suggestion:
            click.echo(f"Did you mean: {_safe(results.suggestion)}", err=True)
        for hit in results:
            click.echo(_format_hit(hit, style), color=style == "ansi")
            if explain:
                click.echo(f"   matched: {', '.join(hit.matched_terms) or '-'}\n")
        if results.hits:
            first, last = results.offset + 1, results.offset + len(results.hits)
            click.echo(f"{first}-{last} of {results.total} documents", err=True)
    sys.exit(EXIT_FOUND if results.hits else EXIT_NOT_FOUND)


def _nothing_found(total: int, offset: int, limit: int) -> str:
    """What to say when a page has no hit: nothing matched, or the page is past the last one."""
    if total == 0:
        return "No documents found."
    pages = -(-total // limit)
    return (
        f"No hits past the first {offset}: the query found {total} document"
        + ("s" if total > 1 else "")
        + f", {pages} page" + ("s" if pages > 1 else "") + f" of {limit}."
    )


def _style(fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return "plain"
    return "ansi"


def highlight(text: str, spans: Iterable[tuple[int, int]], style: str) -> str:
    """Render highlighted spans of ``text`` as plain markers, ANSI or escaped HTML."""
    out: list[str] = []
    cursor = 0
    if style == "html":
        escape = lambda t: html.escape(_safe_snippet(t))  # noqa: E731
    elif style == "plain":
        escape = _escape_markers
    else:
        escape = _safe_snippet
    for start, end in spans:
        out.append(escape(text[cursor:start]))
        word = escape(text[start:end])
        if style == "ansi":
            out.append(click.style(word, bold=True, fg="yellow"))
        elif style == "html":
            out.append(f"<mark>{word}</mark>")
        else:
            out.append(f"**{word}**")
        cursor = end
    out.append(escape(text[cursor:]))
    return "".join(out)


_MARKER_RE = re.compile(r"[\\*]")


def _escape_markers(text: str) -> str:
    """Document text for plain output: its own ``*`` and ``\\`` are backslashed, so that only
    frsearch's ``**`` markers mark a highlight (as in Markdown)."""
    return _MARKER_RE.sub(lambda m: "\\" + m.group(), _safe_snippet(text))


def _format_hit(hit: Hit, style: str) -> str:
    title = highlight(hit.title or "(untitled)", hit.title_spans, style)
    where = hit.path if hit.path is not None else hit.id
    where = html.escape(_safe(where)) if style == "html" else _safe(where)
    page = f", p. {hit.page}" if hit.page is not None else ""
    lines = [f"{hit.rank}. {title}", f"   {where}{page}  (score {hit.score:.2f})"]
    snippet: Snippet | None = hit.snippet
    if snippet and snippet.text:
        lines.append("   " + highlight(snippet.text, snippet.spans, style))
    return "\n".join(lines) + "\n"


@cli.command("analyze")
@click.argument("text", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the words as JSON.")
def analyze_command(text: tuple[str, ...], as_json: bool) -> None:
    """Show how frsearch sees a text: each word, its folded form and its term.

    \b
    Example:
        frsearch analyze "L'État a blacklisté les États-Unis"
    """
    words = analyze(" ".join(text), keep_stopwords=True)
    if not words:
        raise click.UsageError("nothing to analyze: give a text with at least one word, "
                               'e.g. frsearch analyze "L\u2019État"')
    if as_json:
        rows = [
            {"word": w.original, "folded": w.folded, "term": w.term, "start": w.start,
             "end": w.end, "dropped": w.dropped, "elision": w.elision}
            for w in words
        ]
        click.echo(_json(rows, indent=2))
        return
    width = max((len(w.original) for w in words), default=4)
    for w in words:
        elision = f"  (elision {w.elision} stripped)" if w.elision else ""
        if w.term is None:
            click.echo(f"{_safe(w.original):<{width}}  {w.folded:<{width}}  - dropped: {w.dropped}{elision}")
        else:
            click.echo(f"{_safe(w.original):<{width}}  {w.folded:<{width}}  {w.term}{elision}")


@cli.command("files")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the files as JSON.")
def files_command(index_path: str | None, as_json: bool) -> None:
    """List the files in the index: path, pages (PDF), title.

    \b
    Example:
        frsearch files
        frsearch files --json
    """
    with _open_for_reading(index_path) as index:
        rows = index.files()
    if as_json:
        click.echo(_json(rows, indent=2))
        return
    for row in rows:
        pages = f"  ({row['pages']} p.)" if row.get("pages") else ""
        click.echo(f"{_safe(row['path'])}{pages}  {_safe(row['title'])}")
    click.echo(f"{len(rows)} files", err=True)


@cli.command("drop")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@index_option
@click.option("--wait", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds to wait for another indexing run on the same index.")
def drop_command(paths: tuple[str, ...], index_path: str | None, wait: float) -> None:
    """Remove files, or every file under folders, from the index (not from the disk).

    They come back the next time their folder is indexed. Exit status 1 when
    none of the paths was in the index.

    \b
    Example:
        frsearch drop brouillons/ notes/vieux.pdf
    """
    with _open_for_reading(index_path) as index:
        removed = _with_wait(lambda w: index.drop(paths, wait=w), wait, False)
    for path in removed:
        click.echo(f"dropped: {_safe(path)}")
    if not removed:
        click.echo("None of these paths is in the index.", err=True)
    sys.exit(EXIT_FOUND if removed else EXIT_NOT_FOUND)


@cli.command("stats")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def stats_command(index_path: str | None, as_json: bool) -> None:
    """Show what is in the index: documents, terms, size, last update.

    \b
    Example:
        frsearch stats
    """
    with _open_for_reading(index_path) as index:
        info = index.stats()
    if as_json:
        click.echo(_json(info, indent=2))
        return
    for key, value in info.items():
        click.echo(f"{key.replace('_', ' '):<18} {_safe(str(value))}")


@cli.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any other than 127.0.0.1 makes the documents reachable from the network.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
def serve_command(index_path: str | None, host: str, port: int, open_browser: bool) -> None:
    """Serve a local web page (in French) and a JSON API to search and read the index.

    Only this machine can reach it unless --host says otherwise. Ctrl-C stops it.

    \b
    Example:
        frsearch serve --open
        curl 'http://127.0.0.1:8765/api/search?q=Lei+Jun+blacklist&limit=1'
    """
    from frsearch.serve import serve  # imported here only: `frsearch query` never loads a server

    serve(index_path or default_index_path(), host=host, port=port, open_browser=open_browser,
          say=lambda text: click.echo(_safe(text), err=True))

@cli.command("export")
@click.argument("engine", type=click.Choice(["opensearch", "elasticsearch"]))
@click.argument("directory", type=click.Path(file_okay=False))
@index_option
@click.option("--index-name", default="frsearch", show_default=True, help="Name of the index on the cluster.")
@click.option("--synonyms", "synonyms_path", metavar="FILE", default=None,
              help="A synonyms file (as for `query --synonyms`), applied at search time on the cluster.")
def export_command(engine: str, directory: str, index_path: str | None, index_name: str,
                   synonyms_path: str | None) -> None:
    """Write index settings, mappings and bulk documents for OpenSearch or Elasticsearch.

    Both engines read the same files: index.json (the French analyzers, BM25 per
    field, mappings) and bulk.ndjson (the documents); README.txt says how to load them.

    \b
    Example:
        frsearch export opensearch export/
        curl -XPUT localhost:9200/frsearch -H 'Content-Type: application/json' -d @export/index.json
    """
    from frsearch import opensearch

    rules = _synonym_rules(synonyms_path)
    with _open_for_reading(index_path) as index:
        report = opensearch.export(index, directory, index_name, rules)
    click.echo(f"{report.documents} documents for {engine} written to {_safe(report.directory)} "
               f"({', '.join(report.files)})")


@cli.command("push")
@click.argument("url")
@index_option
@click.option("--index-name", default="frsearch", show_default=True, help="Name of the index on the cluster.")
@click.option("--synonyms", "synonyms_path", metavar="FILE", default=None,
              help="A synonyms file, applied at search time on the cluster.")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Documents per bulk request.")
@click.option("--recreate", is_flag=True, help="Delete the cluster's index of that name first.")
@click.option("--insecure", is_flag=True, help="Do not check the cluster's TLS certificate.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def push_command(url: str, index_path: str | None, index_name: str, synonyms_path: str | None,
                 batch_size: int, recreate: bool, insecure: bool, quiet: bool) -> None:
    """Send the index to an OpenSearch or Elasticsearch cluster (needs frsearch[opensearch]).

    Creates the index with frsearch's French analysis if it does not exist, then sends
    the documents in batches, retrying when the cluster answers 429 or 5xx.

    \b
    Example:
        frsearch push https://admin:secret@localhost:9200 --index-name notes
    """
    from frsearch import opensearch

    rules = _synonym_rules(synonyms_path)
    progress = _Progress("Pushing", not quiet and sys.stderr.isatty())
    try:
        with _open_for_reading(index_path) as index:
            report = opensearch.push(index, url, index_name, synonyms=rules, batch_size=batch_size,
                                     recreate=recreate, verify_certs=not insecure, progress=progress)
    finally:
        progress.close()
    created = "created, " if report.created else ""
    click.echo(f"{report.documents} documents sent to {_safe(report.url)}/{report.index_name} ({created}"
               f"{report.requests} requests, {report.retries} retries, {report.seconds:.1f} s)")


def _synonym_rules(path: str | None) -> list[str] | None:
    if not path:
        return None
    from frsearch import opensearch

    load_synonyms(path)  # the file's errors, as `query --synonyms` reports them
    with open(path, encoding="utf-8-sig") as handle:
        return opensearch.synonym_rules(handle.read())


def main() -> None:
    """Entry point of the ``frsearch`` console script and ``python -m frsearch``."""
    try:
        cli(prog_name="frsearch")
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            # `frsearch query … | head`: the reader left before the last write.
            # Point stdout at /dev/null so that Python's own flush at exit stays quiet.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
