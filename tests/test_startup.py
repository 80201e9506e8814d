"""Importing frsearch: what it leaves out, and that it changes nothing for other code."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_and_search_leave_out_urllib_request_asyncio_and_english_variations() -> None:
    out = run_python(
        """
        import sys
        import frsearch
        with frsearch.Index() as index:
            index.add("a", "Titre", "Les États-Unis ont placé Xiaomi sur liste noire.")
            index.delete("a")  # a reader with deletions asks Whoosh's cached_property
            index.add("b", "Titre", "Xiaomi, encore.")
            assert [hit.id for hit in index.search("xiaomi")] == ["b"]
        left = ("urllib.request", "asyncio", "http.client", "ssl", "whoosh.lang.morph_en", "numpy.ma")
        print(sorted(m for m in left if m in sys.modules))
        """
    )
    assert out == "[]"


def test_other_code_still_gets_the_real_packages() -> None:
    out = run_python(
        """
        import frsearch
        import asyncio, urllib.request
        import cached_property, whoosh.compat

        class Thing:
            @cached_property.cached_property
            def plain(self):
                return 5

            @cached_property.cached_property
            async def later(self):
                return 6

        async def main():
            return await Thing().later

        print(Thing().plain, asyncio.run(main()), callable(urllib.request.urlopen))
        print(whoosh.compat.urlretrieve.__name__, callable(whoosh.compat.urlretrieve))
        import whoosh.query.terms
        print(sorted(whoosh.query.terms.variations("rendered")))  # Whoosh's Variations query still works
        """
    )
    assert out.splitlines()[:2] == ["5 6 True", "urlretrieve True"]
    assert "render" in out.splitlines()[2]


def test_packages_already_loaded_are_left_alone() -> None:
    out = run_python(
        """
        import asyncio, sys
        real = sys.modules["asyncio"]
        import frsearch, cached_property
        print(cached_property.asyncio is real)
        """
    )
    assert out == "True"


def test_document_readers_are_not_imported_by_a_query_only_by_a_file_of_their_kind(tmp_path) -> None:
    (tmp_path / "a.md").write_text("# Titre\n\nUn texte sur Xiaomi.", encoding="utf-8")
    readers = (
        "pypdf", "markdown_it", "watchfiles", "email.parser", "xml.parsers.expat", "frsearch.documents.pdf",
        "frsearch.documents.office", "frsearch.documents.markdown", "frsearch.watch",
    )
    check = f"print(sorted(m for m in {readers!r} if m in sys.modules))"
    indexed = run_python(
        f"""
        import sys, frsearch
        with frsearch.Index({str(tmp_path / 'ix')!r}) as index:
            index.index_paths([{str(tmp_path)!r}])
        {check}
        """
    )
    assert indexed == "['frsearch.documents.markdown', 'markdown_it']"
    queried = run_python(
        f"""
        import sys, frsearch.cli
        with frsearch.Index.open({str(tmp_path / 'ix')!r}) as index:
            assert [h.title for h in index.search("xiaomi")] == ["Titre"]
        {check}
        """
    )
    assert queried == "[]"
