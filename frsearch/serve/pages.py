"""The HTML of ``frsearch serve``, rendered on the server so that the page works without JavaScript.

Every piece of text that comes from a document, a file name or a request goes
through :func:`esc` (or :func:`marked`, which escapes around its ``<mark>``
tags): nothing from a document is ever markup. The script ``static/app.js``
builds the same markup from the JSON API when JavaScript is on.
"""

from __future__ import annotations

import html
import math
import re
import time
from typing import Any, Iterable
from urllib.parse import quote, urlencode

__all__ = ["document_page", "error_page", "esc", "marked", "search_page"]

# C0 controls other than tab and newline, DEL, C1 controls and lone surrogates (undecodable
# bytes of file names) are shown as U+FFFD: they mean nothing on a page.
_UNSHOWABLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

SORT_LABELS = (("score", "Pertinence"), ("date", "Date (récents d’abord)"), ("path", "Chemin"))

#: The query syntax, as the help panel shows it: (what to type, what it does).
SYNTAX = (
    ("xiaomi facebook", "les documents avec l’un ou l’autre mot, ceux qui ont les deux d’abord"),
    ("\"lei jun\"", "l’expression exacte (les mots vides à l’intérieur sont ignorés)"),
    ("\"lei jun\"~2", "l’expression, avec jusqu’à 2 autres mots entre ses mots"),
    ("xiaomi ET huawei", "les deux mots (aussi +huawei, AND)"),
    ("xiaomi OU huawei", "l’un ou l’autre (aussi OR)"),
    ("xiaomi SAUF huawei", "sans le second mot (aussi -huawei, NOT)"),
    ("(xiaomi OU huawei) chine", "regroupement"),
    ("titre:xiaomi", "dans le titre seulement (texte: pour le corps)"),
    ("smart*", "mots qui commencent ainsi (deux lettres au moins)"),
    ("xiaomy~", "orthographe approchée : une faute (xiaomy~2 : deux)"),
)


def esc(text: Any) -> str:
    """Text made safe for HTML content and attribute values."""
    return html.escape(_UNSHOWABLE_RE.sub("\ufffd", str(text)), quote=True)


def marked(text: str, spans: Iterable[Iterable[int]], ids: bool = False) -> str:
    """``text`` escaped, its spans wrapped in ``<mark>`` (numbered ``m1``, ``m2``... with ``ids``)."""
    out: list[str] = []
    cursor = n = 0
    for start, end in spans:
        if start < cursor or end <= start:
            continue
        n += 1
        out.append(esc(text[cursor:start]))
        attribute = f' id="m{n}"' if ids else ""
        out.append(f"<mark{attribute}>{esc(text[start:end])}</mark>")
        cursor = end
    out.append(esc(text[cursor:]))
    return "".join(out)


def url(path: str, **params: Any) -> str:
    """A link to one of our routes, its parameters encoded (lists repeat the parameter)."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item not in (None, "", False):
                pairs.append((key, "1" if item is True else str(item)))
    query = urlencode(pairs, quote_via=quote, encoding="utf-8", errors="surrogateescape")
    return path + ("?" + query if query else "")


def _layout(title: str, body: str, page_class: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n"
        '<link rel="stylesheet" href="/static/style.css">\n'
        '<script src="/static/app.js" defer></script>\n'
        f'</head>\n<body class="{page_class}">\n'
        '<a class="skip" href="#results">Aller aux résultats</a>\n'
        f"{body}\n</body>\n</html>\n"
    )


def _options(choices: Iterable[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{esc(value)}"{" selected" if value == selected else ""}>{esc(label)}</option>'
        for value, label in choices
    )


def search_form(form: Any, folders: list[tuple[str, str, int]], types: list[tuple[str, int]]) -> str:
    folder_choices = [("", "Tous les dossiers")] + [(f, f"{shown} ({n})") for f, shown, n in folders]
    if form.under and all(form.under != f for f, _s, _n in folders):
        folder_choices.append((form.under, form.under))
    type_choices = [("", "Tous les types")] + [(t, f".{t} ({n})") for t, n in types]
    if form.type and all(form.type != t for t, _n in types):
        type_choices.append((form.type, "." + form.type))
    return f"""<header class="top">
<a class="brand" href="/">frsearch</a>
<form id="search" role="search" action="/" method="get">
<div class="box">
<label for="q" class="sr">Rechercher dans les documents</label>
<input id="q" name="q" type="search" value="{esc(form.q)}" placeholder="Rechercher… (touche /)" autocomplete="off" spellcheck="false" autofocus maxlength="1000">
<button type="submit">Rechercher</button>
</div>
<div class="filters">
<label>Dossier <select id="under" name="under">{_options(folder_choices, form.under)}</select></label>
<label>Type <select id="type" name="type">{_options(type_choices, form.type)}</select></label>
<label>Tri <select id="sort" name="sort">{_options(SORT_LABELS, form.sort)}</select></label>
<label class="check"><input id="scores" name="scores" type="checkbox" value="1"{" checked" if form.scores else ""}> Scores</label>
</div>
</form>
{help_panel()}
</header>"""


def help_panel() -> str:
    rows = "".join(f"<tr><td><code>{esc(typed)}</code></td><td>{esc(meaning)}</td></tr>" for typed, meaning in SYNTAX)
    return f"""<details id="help" class="help">
<summary>Syntaxe des requêtes</summary>
<table><caption class="sr">Syntaxe des requêtes</caption>
<thead><tr><th scope="col">Vous tapez</th><th scope="col">frsearch trouve</th></tr></thead>
<tbody>{rows}</tbody></table>
<p>Les opérateurs s’écrivent en capitales. Accents, majuscules, élisions et pluriels ne comptent
pas : <code>etats unis</code> trouve « États-Unis ». Au clavier : <kbd>/</kbd> pour chercher,
<kbd>↓</kbd> et <kbd>↑</kbd> pour passer d’un résultat à l’autre.</p>
</details>"""


def doc_link(hit: dict[str, Any], q: str) -> str:
    return url("/doc", id=hit["id"], q=q, t=hit.get("matched_terms") or [])


def status_text(results: dict[str, Any], page_size: int) -> str:
    total, offset, count = results["total"], results["offset"], results["count"]
    if total == 0:
        return "Aucun document trouvé."
    if count == 0:
        pages = -(-total // page_size)
        return f"Pas de résultat sur cette page : la requête trouve {_documents(total)} ({pages} page{'s' if pages > 1 else ''})."
    return f"{_documents(total)} — résultats {offset + 1} à {offset + count}"


def _documents(n: int) -> str:
    return f"{n} document" + ("s" if n > 1 else "")


def hit_item(hit: dict[str, Any], q: str) -> str:
    title = marked(hit["title"], hit["title_spans"]) if hit["title"] else "(sans titre)"
    where = hit["path"] if hit.get("path") is not None else hit["id"]
    page = f' <span class="pageno">p. {esc(hit["page"])}</span>' if hit.get("page") is not None else ""
    snippet = f'<p class="snippet">{marked(hit["snippet"], hit["spans"])}</p>' if hit.get("snippet") else ""
    return (
        f'<li class="hit"><h2 class="title"><a href="{esc(doc_link(hit, q))}">{title}</a></h2>'
        f'<p class="meta"><span class="path">{esc(where)}</span>{page}'
        f' <span class="score">score {hit["score"]:.2f}</span></p>{snippet}</li>'
    )


def pager(form: Any, total: int, page_size: int, max_pages: int) -> str:
    pages = min(-(-total // page_size), max_pages)
    if pages <= 1:
        return ""

    def link(page: int, label: str, rel: str = "") -> str:
        target = url("/", q=form.q, under=form.under, type=form.type,
                     sort="" if form.sort == "score" else form.sort, scores=form.scores,
                     page="" if page == 1 else page)
        rel_attr = f' rel="{rel}"' if rel else ""
        current = ' aria-current="page"' if page == form.page and not rel else ""
        return f'<a href="{esc(target)}" data-page="{page}"{rel_attr}{current}>{esc(label)}</a>'

    first = max(1, min(form.page - 3, pages - 6))
    items = []
    if form.page > 1:
        items.append(link(form.page - 1, "← Précédente", "prev"))
    items.extend(link(p, str(p)) for p in range(first, min(pages, first + 6) + 1))
    if form.page < pages:
        items.append(link(form.page + 1, "Suivante →", "next"))
    return f'<nav class="pager" aria-label="Pages de résultats">{" ".join(items)}</nav>'


def results_section(form: Any, results: dict[str, Any] | None, message: str | None, page_size: int,
                    max_pages: int) -> str:
    parts = []
    if message:
        parts.append(f'<p id="status" class="status error" role="alert">{esc(message)}</p>')
    elif results is not None:
        parts.append(f'<p id="status" class="status">{esc(status_text(results, page_size))}</p>')
        if results.get("suggestion"):
            suggestion = results["suggestion"]
            target = url("/", q=suggestion, under=form.under, type=form.type,
                         sort="" if form.sort == "score" else form.sort, scores=form.scores)
            parts.append(f'<p class="suggestion">Vouliez-vous dire <a id="suggestion" href="{esc(target)}">'
                         f"{esc(suggestion)}</a> ?</p>")
        if results.get("notes"):
            notes = "".join(f"<li>{esc(note)}</li>" for note in results["notes"])
            parts.append(f'<ul class="notes" aria-label="Remarques sur la requête">{notes}</ul>')
        if results["hits"]:
            items = "".join(hit_item(hit, results["query"]) for hit in results["hits"])
            parts.append(f'<ol class="hits" start="{results["offset"] + 1}">{items}</ol>')
        parts.append(pager(form, results["total"], page_size, max_pages))
    else:
        parts.append('<p id="status" class="status">Tapez des mots à chercher dans vos documents.</p>')
    shown = " show-scores" if form.scores else ""
    return f'<main id="results" class="results{shown}" aria-live="polite" tabindex="-1">{"".join(parts)}</main>'


def search_page(form: Any, results: dict[str, Any] | None, message: str | None,
                folders: list[tuple[str, str, int]], types: list[tuple[str, int]], page_size: int,
                max_pages: int = 1001) -> str:
    title = f"{form.q} — frsearch" if form.q else "frsearch"
    body = search_form(form, folders, types) + "\n" + results_section(form, results, message, page_size, max_pages)
    return _layout(title, body, "search-page")


def _size(n: Any) -> str:
    if not isinstance(n, int):
        return "—"
    if n < 1024:
        return f"{n} octets"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} Ko".replace(".", ",")
    return f"{n / 1024 / 1024:.1f} Mo".replace(".", ",")


def document_page(stored: dict[str, Any], spans: list[tuple[int, int]], title_spans: list[tuple[int, int]],
                  q: str, shown_path: str | None) -> str:
    title = stored.get("title") or ""
    body = stored.get("body") or ""
    rows = []
    if shown_path is not None:
        rows.append(("Chemin", esc(shown_path)))
        rows.append(("Taille", esc(_size(stored.get("size")))))
        mtime = stored.get("mtime")
        if isinstance(mtime, (int, float)) and math.isfinite(mtime):
            rows.append(("Modifié le", esc(time.strftime("%d/%m/%Y %H:%M", time.localtime(mtime)))))
    else:
        rows.append(("Identifiant", esc(stored["id"])))
    rows.append(("Longueur", esc(f"{len(body.split())} mots")))
    fields = stored.get("fields") or {}
    if isinstance(fields, dict):
        rows.extend((esc(key), esc(value)) for key, value in sorted(fields.items(), key=lambda kv: str(kv[0])))
    meta = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    back = url("/", q=q)
    original = (
        f'<p class="original"><a id="original" href="{esc(url("/file", id=stored["id"]))}">'
        "Ouvrir le fichier original</a></p>"
        if shown_path is not None else ""
    )
    count = len(spans)
    if count:
        jumps = " ".join(f'<a href="#m{n}">{n}</a>' for n in range(1, min(count, 100) + 1))
        occurrences = (
            f'<nav class="matches" aria-label="Occurrences">'
            f'<button type="button" id="prev" hidden>← Précédente</button> '
            f'<span id="position">{count} occurrence{"s" if count > 1 else ""}</span> '
            f'<button type="button" id="next" hidden>Suivante →</button> '
            f'<span class="keys" hidden>touches <kbd>n</kbd> et <kbd>p</kbd></span>'
            f'<noscript><p>Aller à l’occurrence : {jumps}</p></noscript></nav>'
        )
    elif q:
        occurrences = '<p class="matches">Aucun mot de la requête dans le texte.</p>'
    else:
        occurrences = ""
    shown_title = marked(title, title_spans) if title else "(sans titre)"
    page = f"""<header class="top doc-top">
<a class="brand" href="/">frsearch</a>
<a class="back" href="{esc(back)}">← Retour aux résultats</a>
</header>
<main id="results" class="document" tabindex="-1">
<h1>{shown_title}</h1>
<dl class="docmeta">{meta}</dl>
{original}
{occurrences}
<div id="text" class="text">{marked(body, spans, ids=True)}</div>
</main>"""
    return _layout(f"{title or stored['id']} — frsearch", page, "doc-page")


def error_page(status: int, message: str) -> str:
    body = f"""<header class="top"><a class="brand" href="/">frsearch</a></header>
<main id="results" class="error-page"><h1>Erreur {status}</h1><p role="alert">{esc(message)}</p>
<p><a href="/">Retour à la recherche</a></p></main>"""
    return _layout(f"Erreur {status} — frsearch", body, "error")
