"""The README cannot rot: its Python blocks run, its commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from frsearch.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_quick_start_has_exactly_two_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", quick_start, flags=re.DOTALL)
    assert len(commands) == 2
    first, second = commands
    assert "frsearch index seeds/" in first and 'frsearch query "Lei Jun blacklist"' in first
    assert "pytest" in second and ".[test]" in second


def test_ci_runs_exactly_the_readme_test_command() -> None:
    quick_start = README.split("## Quick start", 1)[1]
    test_command = re.findall(r"```sh\n(.*?)\n```", quick_start, flags=re.DOTALL)[1]
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci_lines[-1] == test_command


@pytest.mark.parametrize("code", blocks("python"))
def test_python_blocks_run(code: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "seeds").symlink_to(ROOT / "seeds")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


def test_every_command_and_option_is_documented() -> None:
    for name, command in cli.commands.items():
        assert f"frsearch {name}" in README, name
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in README, f"{name} {opt}"


def console_sessions() -> list[tuple[str, str]]:
    """($ command, expected output) pairs of the README's console blocks."""
    pairs = []
    for block in blocks("console"):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    pairs.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        if command:
            pairs.append((command, "\n".join(output)))
    return pairs


def test_console_examples_show_real_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex
    import shutil

    from click.testing import CliRunner

    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    # The synonyms file the README shows next to its --synonyms example.
    (synonyms,) = [b for b in blocks("text") if b.startswith("# synonyms.txt")]
    (tmp_path / "synonyms.txt").write_text(synonyms, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FRSEARCH_INDEX", raising=False)
    runner = CliRunner()
    sessions = console_sessions()
    assert len(sessions) >= 5
    for command, expected in sessions:
        args = shlex.split(command)
        assert args[0] == "frsearch"
        result = runner.invoke(cli, args[1:], env={"NO_COLOR": "1"}, catch_exceptions=False)
        output = (result.stdout + result.stderr).rstrip("\n")
        timing = re.compile(r"\(\d+\.\d s\)")
        lines = [line for line in output.splitlines() if not re.fullmatch(r"\d+-\d+ of \d+ documents", line)]
        assert timing.sub("(T)", "\n".join(lines)).rstrip() == timing.sub("(T)", expected).rstrip(), command
