"""Helpers shared by the reliability tests (this module holds no tests).

French-ish corpora generated on the fly, the CLI run as a real subprocess,
and snapshots of a directory tree.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

VOCABULARY = (
    "gouvernement réforme retraites syndicats grève nationale villes université étudiant "
    "recherche économie entreprise marché croissance emploi chômage hôpital santé médecin "
    "patient vaccin école élève professeur enseignement région département commune maire "
    "élection député sénat budget impôt énergie électricité nucléaire éolienne climat "
    "réchauffement forêt agriculture paysan vigne fromage boulangerie restaurant tourisme "
    "musée château montagne rivière océan plage navire train gare autoroute vélo voiture "
    "batterie téléphone ordinateur logiciel internet réseau données sécurité police justice "
    "tribunal procès avocat juge prison liberté égalité fraternité république démocratie "
    "histoire guerre paix l’État d’abord qu’elle aujourd’hui États-Unis œuvre Noël"
).split()
GLUE = "le la les des une un du au aux et ou mais dans pour par sur avec sans qui que".split()

#: Counts for tests/README.md, filled in by the tests. With FRSEARCH_RELIABILITY_TALLY=FILE
#: set, they are written to FILE as JSON when the test run ends.
TALLY: dict[str, int] = {}


def _dump_tally() -> None:
    target = os.environ.get("FRSEARCH_RELIABILITY_TALLY")
    if target and TALLY:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(TALLY, handle, indent=2, ensure_ascii=False)


atexit.register(_dump_tally)

#: A word that only the sentinel document contains.
SENTINEL_WORD = "ornithorynque"


def french_text(rnd: random.Random, words: int) -> str:
    """Sentences of French-looking words, some with numbers."""
    out: list[str] = []
    for _ in range(words):
        pool = GLUE if rnd.random() < 0.35 else VOCABULARY
        word = rnd.choice(pool)
        if rnd.random() < 0.1:
            word += str(rnd.randrange(2000))
        out.append(word)
    sentences = [" ".join(out[i : i + 14]) for i in range(0, len(out), 14)]
    return ". ".join(s[:1].upper() + s[1:] for s in sentences) + "."


def make_corpus(root: Path, count: int, *, seed: int, prefix: str, words: tuple[int, int] = (250, 700)) -> list[Path]:
    """``count`` .txt files of French-ish text under ``root`` (created)."""
    rnd = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        title = " ".join(rnd.choice(VOCABULARY) for _ in range(5)).capitalize()
        path = root / f"{prefix}{i:04d}.txt"
        path.write_text(f"{title}\n\n{french_text(rnd, rnd.randrange(*words))}\n", encoding="utf-8")
        paths.append(path)
    return paths


def write_sentinel(root: Path) -> Path:
    """The document indexed before every risky run: it must always be found afterwards."""
    path = root / "sentinel.txt"
    path.write_text(
        f"Le document témoin\n\nUn {SENTINEL_WORD} vit en Australie, loin des États-Unis.\n",
        encoding="utf-8",
    )
    return path


def cli_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", **extra}
    env.pop("FRSEARCH_INDEX", None)
    env.pop("FRSEARCH_DEBUG", None)
    return env


def cli_command(*args: str) -> list[str]:
    """The frsearch CLI as a real process: ``python -m frsearch ARGS``."""
    return [sys.executable, "-m", "frsearch", *args]


def run_cli(*args: str, cwd: Path | str | None = None, timeout: float = 60, **extra_env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cli_command(*args), cwd=cwd, capture_output=True, timeout=timeout, env=cli_env(**extra_env))


def tree(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root``: relative path -> (kind, size, mtime_ns) (symlinks not followed)."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            kind = "dir" if os.path.isdir(full) and not os.path.islink(full) else "file"
            out[os.path.relpath(full, root)] = (kind, st.st_size if kind == "file" else 0, st.st_mtime_ns)
    return out


def assert_no_traceback(*outputs: bytes | str) -> None:
    for out in outputs:
        text = out.decode("utf-8", "replace") if isinstance(out, bytes) else out
        assert "Traceback" not in text, text
        assert "internal error" not in text, text
