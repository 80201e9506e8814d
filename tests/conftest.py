"""Shared fixtures: the seed articles and an index of them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

import frsearch

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture()
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of seeds/, so tests may change files."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[frsearch.Index]:
    """An on-disk index of the seeds, shared by read-only tests."""
    where = tmp_path_factory.mktemp("seed-index")
    with frsearch.Index(where / ".frsearch") as index:
        report = index.index_paths([str(SEEDS)])
        assert len(report.added) == 5
        yield index


def names(results: frsearch.SearchResults) -> list[str]:
    """File names of hits, in rank order."""
    return [Path(hit.path or hit.id).name for hit in results]


def index_of(*bodies: str) -> frsearch.Index:
    """An in-memory index of these bodies, with ids d0, d1..."""
    index = frsearch.Index()
    index.add_documents({"id": f"d{i}", "title": "", "body": body} for i, body in enumerate(bodies))
    return index
