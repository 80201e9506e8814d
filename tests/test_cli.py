"""The command line: commands, output formats, exit codes, error messages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from frsearch.cli import cli, highlight

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FRSEARCH_INDEX", raising=False)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    return CliRunner()


def run(runner: CliRunner, *args: str, env: dict | None = None):
    return runner.invoke(cli, list(args), env=env, catch_exceptions=False)


def test_index_then_query(runner: CliRunner) -> None:
    result = run(runner, "index", "seeds")
    assert result.exit_code == 0
    assert result.stdout.startswith("5 added, 0 updated, 0 removed, 0 unchanged, 0 skipped")
    assert Path(".frsearch").is_dir()
    result = run(runner, "query", "Lei Jun blacklist")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "1. Xiaomi est **blacklisté** par les États-Unis à cause de son patron"
    assert lines[1].strip().startswith(os.path.join("seeds", "001_259af9e2aad0fd78.txt"))
    assert "**Lei Jun**" in result.stdout


def test_query_words_may_be_given_unquoted(runner: CliRunner) -> None:
    run(runner, "index", "seeds")
    assert run(runner, "query", "etats", "unis").stdout == run(runner, "query", "etats unis").stdout


def test_rerun_is_incremental_and_summarised(runner: CliRunner) -> None:
    run(runner, "index", "seeds")
    result = run(runner, "index", "seeds")
    assert result.stdout.startswith("0 added, 0 updated, 0 removed, 5 unchanged, 0 skipped")


def test_skipped_files_are_listed_with_reasons(runner: CliRunner) -> None:
    Path("seeds/empty.txt").write_bytes(b"")
    result = run(runner, "index", "seeds")
    assert result.exit_code == 0
    assert "skipped: " + os.path.join("seeds", "empty.txt") + ": empty file" in result.stderr
    assert "1 skipped" in result.stdout


def test_index_location_from_option_and_environment(runner: CliRunner) -> None:
    assert run(runner, "index", "--index", "elsewhere", "seeds").exit_code == 0
    assert Path("elsewhere").is_dir() and not Path(".frsearch").exists()
    assert run(runner, "query", "--index", "elsewhere", "Singapour").exit_code == 0
    env = {"FRSEARCH_INDEX": "elsewhere"}
    assert run(runner, "query", "Singapour", env=env).exit_code == 0


def test_exit_codes(runner: CliRunner) -> None:
    result = run(runner, "query", "Xiaomi")
    assert result.exit_code == 2
    assert "no index" in result.stderr and "frsearch index" in result.stderr
    run(runner, "index", "seeds")
    assert run(runner, "query", "Xiaomi").exit_code == 0
    result = run(runner, "query", "kangourou")
    assert result.exit_code == 1 and "No documents found" in result.stderr
    result = run(runner, "query", "le la les")
    assert result.exit_code == 2 and result.stderr.startswith("frsearch: error: nothing to search")
    assert run(runner, "query", "--limit", "0", "x").exit_code == 2


def test_json_output(runner: CliRunner) -> None:
    run(runner, "index", "seeds")
    result = run(runner, "query", "--json", "--limit", "2", "gouvernemnet chinois")
    data = json.loads(result.stdout)
    assert data["total"] == 5 and data["offset"] == 0 and data["count"] == 2
    assert data["suggestion"] == "gouvernement chinois" and data["query"] == "gouvernemnet chinois"
    hits = data["hits"]
    first = hits[0]
    assert {"path", "title", "score", "snippet", "spans"} <= set(first)
    assert "gouvernement" in [first["snippet"][s:e] for s, e in first["spans"]]
    assert "explain" not in data
    lines = [json.loads(line) for line in run(runner, "query", "--jsonl", "--limit", "2", "gouvernemnet chinois").stdout.splitlines()]
    assert lines[0] == {"type": "results", **{k: v for k, v in data.items() if k != "hits"}}
    assert [line["path"] for line in lines[1:]] == [h["path"] for h in hits]
    assert {line["type"] for line in lines[1:]} == {"hit"}


def test_json_carries_notes_and_explain(runner: CliRunner) -> None:
    run(runner, "index", "seeds")
    data = json.loads(run(runner, "query", "--json", "--explain", "Xiaomi (").stdout)
    assert data["notes"] and any("unbalanced '('" in note for note in data["notes"])
    assert data["explain"][0].startswith("query: ")


def test_paths_open_from_where_the_user_is(runner: CliRunner, tmp_path: Path) -> None:
    run(runner, "index", "seeds")
    here = run(runner, "query", "--json", "Singapour")
    assert json.loads(here.stdout)["hits"][0]["path"].startswith(os.path.join("seeds", ""))
    Path("elsewhere").mkdir()
    os.chdir("elsewhere")
    for args in (["--json"], []):
        out = run(runner, "query", "--index", "../.frsearch", *args, "Singapour").stdout
        path = json.loads(out)["hits"][0]["path"] if args else out.splitlines()[1].split("  (score")[0].strip()
        assert os.path.isabs(path) and Path(path).is_file(), path


def test_page_past_the_end_says_how_many_hits(runner: CliRunner) -> None:
    run(runner, "index", "seeds")
    result = run(runner, "query", "--page", "99", "Xiaomi")
    assert result.exit_code == 1
    assert "No documents found" not in result.stderr
    assert "found 5 documents, 1 page of 10" in result.stderr


def test_query_starting_with_a_dash_explains_double_dash(runner: CliRunner) -> None:
    run(runner, "index", "seeds")
    result = runner.invoke(cli, ["query", "congé", "-payés"])
    assert result.exit_code == 2
    assert "frsearch query -- \"congé -payés\"" in result.stderr
    assert run(runner, "query", "--", "Xiaomi -payés").exit_code == 0


def test_analyze_nothing_is_an_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["analyze", ""])
    assert result.exit_code == 2 and "nothing to analyze" in result.stderr


def test_document_asterisks_cannot_pass_for_highlights() -> None:
    text = "un **gras** et Xiaomi"
    start = text.index("Xiaomi")
    assert highlight(text, [(start, start + 6)], "plain") == "un \\*\\*gras\\*\\* et **Xiaomi**"


def test_colour_only_when_asked_or_on_a_terminal(runner: CliRunner) -> None:
    run(runner, "index", "seeds")
    plain = run(runner, "query", "Singapour").stdout
    assert "\x1b[" not in plain and "**Singapour**" in plain
    ansi = run(runner, "query", "--format", "ansi", "Singapour").stdout
    assert "\x1b[1m" in ansi
    html_out = run(runner, "query", "--format", "html", "Singapour").stdout
    assert "<mark>Singapour</mark>" in html_out


def test_highlight_escapes_document_text() -> None:
    text = "<script>alert(1)</script> Xiaomi \x1b[31m"
    start = text.index("Xiaomi")
    rendered = highlight(text, [(start, start + 6)], "html")
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "<mark>Xiaomi</mark>" in rendered
    assert "\x1b" not in highlight(text, [(start, start + 6)], "plain")


def test_analyze_command(runner: CliRunner) -> None:
    result = run(runner, "analyze", "L’État a blacklisté")
    assert "etat" in result.stdout and "elision L’ stripped" in result.stdout
    assert "dropped: stopword" in result.stdout
    rows = json.loads(run(runner, "analyze", "--json", "États-Unis").stdout)
    assert [r["term"] for r in rows] == ["etat", "unis"]


def test_stats_command(runner: CliRunner) -> None:
    run(runner, "index", "seeds")
    info = json.loads(run(runner, "stats", "--json").stdout)
    assert info["documents"] == 5


def test_help_has_examples(runner: CliRunner) -> None:
    for command in ("index", "query", "analyze", "stats"):
        result = run(runner, command, "--help")
        assert result.exit_code == 0 and "Example:" in result.stdout


def test_installed_command_runs_in_a_subprocess(tmp_path: Path) -> None:
    exe = shutil.which("frsearch", path=os.path.dirname(sys.executable)) or shutil.which("frsearch")
    assert exe, "the frsearch console script is not installed"
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FRSEARCH_INDEX", None)
    done = subprocess.run([exe, "index", str(SEEDS)], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([exe, "query", "title:Singapour"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode == 0 and "004_772669a71db343fa.txt" in done.stdout
    module = subprocess.run([sys.executable, "-m", "frsearch", "query", "kangourou"], cwd=tmp_path,
                            capture_output=True, text=True, env=env)
    assert module.returncode == 1 and "Traceback" not in module.stderr


def test_explain_and_did_you_mean(runner: CliRunner) -> None:
    run(runner, "index", "seeds")
    result = run(runner, "query", "--explain", "vehicules electrqiues")
    assert result.stdout.startswith("query: ")
    assert "electrqiues -> electrqiu: not in the index, searched as close spellings" in result.stdout
    assert "matched: " in result.stdout
    assert "Did you mean: vehicules électriques" in result.stderr


def test_filters_sorting_and_pages(runner: CliRunner) -> None:
    Path("notes").mkdir()
    Path("notes/xiaomi.md").write_text("# Notes sur Xiaomi\n\nXiaomi encore.", encoding="utf-8")
    run(runner, "index", "seeds", "notes")
    paths = [h["path"] for h in json.loads(run(runner, "query", "--json", "--sort", "path", "Xiaomi").stdout)["hits"]]
    assert paths == sorted(paths) and len(paths) == 6
    only_md = json.loads(run(runner, "query", "--json", "--glob", "*.md", "Xiaomi").stdout)["hits"]
    assert [h["path"] for h in only_md] == [os.path.join("notes", "xiaomi.md")]
    under = json.loads(run(runner, "query", "--json", "--under", "seeds", "Xiaomi").stdout)["hits"]
    assert len(under) == 5
    page2 = json.loads(run(runner, "query", "--json", "--sort", "path", "--limit", "2", "--page", "2", "Xiaomi").stdout)["hits"]
    assert [h["path"] for h in page2] == paths[2:4]
    assert "3-4 of 6 documents" in run(runner, "query", "--limit", "2", "--page", "2", "Xiaomi").stderr


def test_shell_completion_as_documented() -> None:
    exe = shutil.which("frsearch", path=os.path.dirname(sys.executable)) or shutil.which("frsearch")
    assert exe
    env = {**os.environ, "_FRSEARCH_COMPLETE": "bash_complete", "COMP_WORDS": "frsearch query --so",
           "COMP_CWORD": "2"}
    done = subprocess.run([exe], capture_output=True, text=True, env=env)
    assert "--sort" in done.stdout
    for shell in ("bash", "zsh", "fish"):
        script = subprocess.run([exe], capture_output=True, text=True,
                                env={**os.environ, "_FRSEARCH_COMPLETE": f"{shell}_source"})
        assert "_FRSEARCH_COMPLETE" in script.stdout, shell


def test_filters_match_decomposed_file_names_typed_composed(runner: CliRunner) -> None:
    folder = Path("notes") / unicodedata.normalize("NFD", "Été")
    folder.mkdir(parents=True)
    (folder / unicodedata.normalize("NFD", "café.md")).write_text("# Xiaomi au café\n\nXiaomi.", encoding="utf-8")
    run(runner, "index", "seeds", "notes")
    under = json.loads(run(runner, "query", "--json", "--under", "notes/Été", "Xiaomi").stdout)["hits"]
    assert len(under) == 1
    globbed = json.loads(run(runner, "query", "--json", "--glob", "café.md", "Xiaomi").stdout)["hits"]
    assert [h["title"] for h in globbed] == ["Xiaomi au café"]
    assert len(json.loads(run(runner, "query", "--json", "--glob", "notes/Été/*", "Xiaomi").stdout)["hits"]) == 1
