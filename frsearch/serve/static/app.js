// frsearch serve: search as you type through /api/search, and jump between matches in a document.
// The server renders the same page without JavaScript; this script only makes it livelier.
// Text from documents is only ever put in the page as text nodes (never as HTML).
"use strict";

(function () {
  var PAGE_SIZE = 10;
  var DEBOUNCE_MS = 250;
  var SORT_API = { score: "score", date: "mtime", path: "path" };

  function el(tag, attrs) {
    var node = document.createElement(tag);
    var key;
    for (key in attrs || {}) {
      if (Object.prototype.hasOwnProperty.call(attrs, key)) node.setAttribute(key, attrs[key]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  // Text with its [start, end) spans wrapped in <mark>, as a fragment of text nodes.
  function marked(text, spans) {
    var fragment = document.createDocumentFragment();
    var cursor = 0;
    (spans || []).forEach(function (span) {
      var start = span[0], end = span[1];
      if (start < cursor || end <= start) return;
      fragment.appendChild(document.createTextNode(text.slice(cursor, start)));
      fragment.appendChild(el("mark", {}, text.slice(start, end)));
      cursor = end;
    });
    fragment.appendChild(document.createTextNode(text.slice(cursor)));
    return fragment;
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      var values = Array.isArray(params[key]) ? params[key] : [params[key]];
      values.forEach(function (value) {
        if (value === "" || value === null || value === undefined || value === false) return;
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(value === true ? "1" : value));
      });
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  function plural(n, word) {
    return n + " " + word + (n > 1 ? "s" : "");
  }

  // ---------------------------------------------------------------- search page

  function searchPage() {
    var form = document.getElementById("search");
    var input = document.getElementById("q");
    var results = document.getElementById("results");
    var scores = document.getElementById("scores");
    var selects = ["under", "type", "sort"].map(function (id) { return document.getElementById(id); });
    var timer = null;
    var latest = 0;
    var page = Number(new URLSearchParams(location.search).get("page")) || 1;

    function state() {
      return {
        q: input.value.trim(),
        under: selects[0].value,
        type: selects[1].value,
        sort: selects[2].value === "score" ? "" : selects[2].value,
        scores: scores.checked,
        page: page > 1 ? page : ""
      };
    }

    function pageUrl(s) {
      return "/" + query(s);
    }

    function status(text, isError) {
      var p = el("p", { id: "status", "class": "status" + (isError ? " error" : "") }, text);
      if (isError) p.setAttribute("role", "alert");
      return p;
    }

    function hitItem(hit, q) {
      var link = el("a", { href: "/doc" + query({ id: hit.id, q: q, t: hit.matched_terms || [] }) },
        hit.title ? marked(hit.title, hit.title_spans) : "(sans titre)");
      var meta = el("p", { "class": "meta" },
        el("span", { "class": "path" }, hit.path !== null && hit.path !== undefined ? hit.path : hit.id));
      if (hit.page !== undefined && hit.page !== null) {
        meta.appendChild(document.createTextNode(" "));
        meta.appendChild(el("span", { "class": "pageno" }, "p. " + hit.page));
      }
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(el("span", { "class": "score" }, "score " + Number(hit.score).toFixed(2)));
      var item = el("li", { "class": "hit" }, el("h2", { "class": "title" }, link), meta);
      if (hit.snippet) item.appendChild(el("p", { "class": "snippet" }, marked(hit.snippet, hit.spans)));
      return item;
    }

    function pager(s, total) {
      var pages = Math.min(Math.ceil(total / PAGE_SIZE), 1001);
      if (pages <= 1) return null;
      var nav = el("nav", { "class": "pager", "aria-label": "Pages de résultats" });
      function link(p, label, rel) {
        var target = Object.assign({}, s, { page: p > 1 ? p : "" });
        var a = el("a", { href: pageUrl(target), "data-page": String(p) }, label);
        if (rel) a.setAttribute("rel", rel);
        else if (p === page) a.setAttribute("aria-current", "page");
        nav.appendChild(a);
        nav.appendChild(document.createTextNode(" "));
      }
      var first = Math.max(1, Math.min(page - 3, pages - 6));
      if (page > 1) link(page - 1, "← Précédente", "prev");
      for (var p = first; p <= Math.min(pages, first + 6); p++) link(p, String(p));
      if (page < pages) link(page + 1, "Suivante →", "next");
      return nav;
    }

    function render(s, data) {
      var parts = [];
      if (data.total === 0) {
        parts.push(status("Aucun document trouvé."));
      } else if (data.count === 0) {
        var pages = Math.ceil(data.total / PAGE_SIZE);
        parts.push(status("Pas de résultat sur cette page : la requête trouve " + plural(data.total, "document") +
          " (" + plural(pages, "page") + ")."));
      } else {
        parts.push(status(plural(data.total, "document") + " — résultats " + (data.offset + 1) + " à " +
          (data.offset + data.count)));
      }
      if (data.suggestion) {
        var target = Object.assign({}, s, { q: data.suggestion, page: "" });
        parts.push(el("p", { "class": "suggestion" }, "Vouliez-vous dire ",
          el("a", { id: "suggestion", href: pageUrl(target) }, data.suggestion), " ?"));
      }
      if (data.notes && data.notes.length) {
        var notes = el("ul", { "class": "notes", "aria-label": "Remarques sur la requête" });
        data.notes.forEach(function (note) { notes.appendChild(el("li", {}, note)); });
        parts.push(notes);
      }
      if (data.hits.length) {
        var list = el("ol", { "class": "hits", start: String(data.offset + 1) });
        data.hits.forEach(function (hit) { list.appendChild(hitItem(hit, data.query)); });
        parts.push(list);
      }
      var nav = pager(s, data.total);
      if (nav) parts.push(nav);
      results.replaceChildren.apply(results, parts);
    }

    function run(push) {
      var s = state();
      var url = pageUrl(s);
      if (push) history.pushState(s, "", url);
      else history.replaceState(s, "", url);
      document.title = s.q ? s.q + " — frsearch" : "frsearch";
      if (!s.q) {
        results.replaceChildren(status("Tapez des mots à chercher dans vos documents."));
        return;
      }
      var ticket = ++latest;
      var api = "/api/search" + query({
        q: s.q, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, under: s.under,
        glob: s.type ? "*." + s.type : "", sort: SORT_API[selects[2].value] || "score"
      });
      results.setAttribute("aria-busy", "true");
      fetch(api, { headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        })
        .then(function (answer) {
          if (ticket !== latest) return; // a newer search was started meanwhile
          if (answer.ok) render(s, answer.data);
          else results.replaceChildren(status(answer.data.error || "Erreur.", true));
        })
        .catch(function () {
          if (ticket === latest) results.replaceChildren(status("Le serveur ne répond pas.", true));
        })
        .then(function () { if (ticket === latest) results.removeAttribute("aria-busy"); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      page = 1;
      timer = setTimeout(function () { run(false); }, DEBOUNCE_MS);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      page = 1;
      run(true);
    });
    selects.forEach(function (select) {
      select.addEventListener("change", function () { page = 1; run(true); });
    });
    scores.addEventListener("change", function () {
      results.classList.toggle("show-scores", scores.checked);
      history.replaceState(state(), "", pageUrl(state()));
    });
    results.classList.toggle("show-scores", scores.checked);

    // Links inside the results that lead back to this page (suggestion, pages) search in place.
    results.addEventListener("click", function (event) {
      var a = event.target.closest("a");
      if (!a || event.ctrlKey || event.metaKey || event.shiftKey || a.pathname !== "/") return;
      event.preventDefault();
      var params = new URLSearchParams(a.search);
      input.value = params.get("q") || "";
      page = Number(params.get("page")) || 1;
      run(true);
      if (a.hasAttribute("data-page")) results.focus();
    });
    window.addEventListener("popstate", function () {
      var params = new URLSearchParams(location.search);
      input.value = params.get("q") || "";
      selects[0].value = params.get("under") || "";
      selects[1].value = params.get("type") || "";
      selects[2].value = params.get("sort") || "score";
      scores.checked = params.get("scores") === "1";
      results.classList.toggle("show-scores", scores.checked);
      page = Number(params.get("page")) || 1;
      run(false);
    });

    // Keyboard: "/" to search, arrows from the box through the hits and back.
    document.addEventListener("keydown", function (event) {
      var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
      var links = Array.prototype.slice.call(results.querySelectorAll(".hit h2 a"));
      var at = links.indexOf(document.activeElement);
      if (event.key === "/" && !typing) {
        event.preventDefault();
        input.focus();
        input.select();
      } else if (event.key === "ArrowDown" && (document.activeElement === input || at >= 0) && links.length) {
        event.preventDefault();
        links[Math.min(at + 1, links.length - 1)].focus();
      } else if (event.key === "ArrowUp" && at >= 0) {
        event.preventDefault();
        if (at === 0) input.focus();
        else links[at - 1].focus();
      }
    });
  }

  // ---------------------------------------------------------------- document page

  function documentPage() {
    var marks = Array.prototype.slice.call(document.querySelectorAll("#text mark"));
    var position = document.getElementById("position");
    var prev = document.getElementById("prev");
    var next = document.getElementById("next");
    if (!marks.length || !position) return;
    var current = -1;
    prev.hidden = next.hidden = false;
    document.querySelector(".matches .keys").hidden = false;

    function go(i) {
      if (current >= 0) marks[current].classList.remove("current");
      current = (i + marks.length) % marks.length;
      var mark = marks[current];
      mark.classList.add("current");
      mark.setAttribute("tabindex", "-1");
      mark.scrollIntoView({ block: "center" });
      position.textContent = "Occurrence " + (current + 1) + " sur " + marks.length;
      history.replaceState(null, "", "#" + mark.id);
    }
    next.addEventListener("click", function () { go(current + 1); });
    prev.addEventListener("click", function () { go(current - 1); });
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (/^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) return;
      if (event.key === "n" || event.key === "j") { event.preventDefault(); go(current + 1); }
      else if (event.key === "p" || event.key === "k") { event.preventDefault(); go(current - 1); }
    });
    var start = location.hash ? marks.map(function (m) { return "#" + m.id; }).indexOf(location.hash) : -1;
    if (start >= 0) go(start);
  }

  if (document.getElementById("search")) searchPage();
  if (document.getElementById("text")) documentPage();
})();
