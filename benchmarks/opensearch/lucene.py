"""Run frsearch's exported OpenSearch/Elasticsearch analysis and queries through Lucene 8.

The engines build their analyzers from Lucene's analysis factories; this maps each
filter type of the exported settings onto its factory (``pattern_replace`` ->
``patternReplace``...), writes word lists to files, compiles LuceneBench.java with
javac against Debian's liblucene8-java jars and runs it.

    apt-get install -y openjdk-17-jdk-headless liblucene8-java libicu4j-java
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
JAVA_DIR = Path("/usr/share/java")
JARS = [
    "lucene-core-8.7.0.jar",
    "lucene-analyzers-common-8.7.0.jar",
    "lucene-queries-8.7.0.jar",
    "lucene-analyzers-icu-8.7.0.jar",
    "icu4j.jar",
]
#: Folding variants: the exported filter (asciifolding), or the ICU plugin's transliteration.
#: (icu_folding cannot run here: Debian's icu4j 60 refuses the newer normalization data that
#: lucene-analyzers-icu 8.7 ships for it.)
FOLDINGS = {
    "asciifolding": ("asciiFolding", {}),
    "icu_transform": ("icuTransform", {"id": "Any-Latin; Latin-ASCII"}),
}


def missing() -> str | None:
    """Why the Lucene runs cannot happen here (None when they can)."""
    if shutil.which("javac") is None or shutil.which("java") is None:
        return "no JDK (apt-get install -y openjdk-17-jdk-headless)"
    absent = [jar for jar in JARS if not (JAVA_DIR / jar).exists()]
    if absent:
        return f"missing {', '.join(absent)} (apt-get install -y liblucene8-java libicu4j-java)"
    return None


def classpath(extra: Path | None = None) -> str:
    paths = [str(JAVA_DIR / jar) for jar in JARS]
    return os.pathsep.join(([str(extra)] if extra else []) + paths)


def compile_bench(workdir: Path) -> Path:
    """javac LuceneBench.java into ``workdir``/classes; returns that folder."""
    classes = workdir / "classes"
    classes.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["javac", "-nowarn", "-encoding", "UTF-8", "-cp", classpath(), "-d", str(classes),
         str(HERE / "LuceneBench.java")],
        check=True,
    )
    return classes


def run_bench(classes: Path, args: list[str]) -> None:
    subprocess.run(["java", "-Xmx2g", "-cp", classpath(classes), "LuceneBench", *args], check=True)


def _write_list(folder: Path, name: str, lines: list[str]) -> str:
    (folder / name).write_text("".join(f"{line}\n" for line in lines), "utf-8")
    return name


def _filter_factory(name: str, config: dict[str, Any], folder: Path, folding: str) -> tuple[str, dict[str, str]]:
    """The Lucene factory and parameters of one exported token filter."""
    kind = config["type"]
    if kind == "elision":
        return "elision", {"articles": _write_list(folder, f"{name}.txt", config["articles"]),
                           "ignoreCase": str(config.get("articles_case", False)).lower()}
    if kind == "pattern_replace":
        return "patternReplace", {"pattern": config["pattern"], "replacement": config.get("replacement", ""),
                                  "replace": "all"}
    if kind in ("synonym", "synonym_graph"):
        return "synonymGraph", {"synonyms": _write_list(folder, f"{name}.txt", config["synonyms"]),
                                "format": "solr", "ignoreCase": "false", "expand": "true"}
    if kind == "lowercase":
        return "lowercase", {}
    if kind == "asciifolding":
        return FOLDINGS[folding]
    if kind == "stop":
        return "stop", {"words": _write_list(folder, f"{name}.txt", config["stopwords"]),
                        "ignoreCase": str(config.get("ignore_case", False)).lower()}
    if kind == "keyword_marker":
        return "keywordMarker", {"pattern": config["keywords_pattern"]}
    if kind == "snowball":
        return "snowballPorter", {"language": config["language"]}
    if kind == "length":
        return "length", {"min": str(config.get("min", 0)), "max": str(config.get("max", 2**31 - 1))}
    raise ValueError(f"no Lucene factory for filter type {kind!r}")


def lucene_spec(body: dict[str, Any], folder: Path, folding: str = "asciifolding") -> Path:
    """Write the Lucene spec (analyzers, fields, similarities) of an exported index body."""
    analysis = body["settings"]["index"]["analysis"]
    builtin = {"lowercase": {"type": "lowercase"}, "asciifolding": {"type": "asciifolding"}}
    analyzers = {}
    for name, analyzer in analysis["analyzer"].items():
        char_filters = []
        for cf in analyzer.get("char_filter", []):
            config = analysis["char_filter"][cf]
            assert config["type"] == "mapping", config
            lines = []
            for rule in config["mappings"]:
                left, right = (side.strip() for side in rule.split("=>"))
                lines.append(json.dumps(left) + " => " + json.dumps(right))
            char_filters.append(["mapping", {"mapping": _write_list(folder, f"{cf}.txt", lines)}])
        tokenizer = analysis["tokenizer"][analyzer["tokenizer"]]
        assert tokenizer["type"] == "pattern", tokenizer
        filters = []
        for f in analyzer["filter"]:
            config = analysis["filter"].get(f) or builtin[f]
            filters.append(list(_filter_factory(f, config, folder, folding)))
        analyzers[name] = {
            "char_filters": char_filters,
            "tokenizer": ["pattern", {"pattern": tokenizer["pattern"], "group": str(tokenizer.get("group", -1))}],
            "filters": filters,
        }
    similarity = body["settings"]["index"]["similarity"]
    fields = {}
    for name, mapping in body["mappings"]["properties"].items():
        if mapping.get("type") != "text":
            continue
        sim = similarity[mapping["similarity"]]
        fields[name] = {"analyzer": mapping.get("search_analyzer", mapping["analyzer"]), "k1": sim["k1"], "b": sim["b"]}
        for sub, submapping in mapping.get("fields", {}).items():
            subsim = similarity.get(submapping.get("similarity", ""), {"k1": 1.2, "b": 0.75})
            fields[f"{name}.{sub}"] = {"analyzer": submapping["analyzer"], "k1": subsim["k1"], "b": subsim["b"]}
    path = folder / "spec.json"
    path.write_text(json.dumps({"analyzers": analyzers, "fields": fields}, ensure_ascii=False), "utf-8")
    return path


def clean(text: str) -> str:
    """Text on one line, as LuceneBench reads it (tabs and line breaks separate words anyway)."""
    return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def analyze_texts(body: dict[str, Any], texts: list[str], analyzers: list[str], folding: str = "asciifolding",
                  workdir: Path | None = None) -> dict[str, list[list[tuple[str, int, int, int]]]]:
    """Each analyzer's tokens (term, start, end, position increment) for each text, by Lucene."""
    owned = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="frsearch-lucene-")) if owned else workdir
    try:
        spec = lucene_spec(body, folder, folding)
        classes = compile_bench(folder)
        (folder / "texts.txt").write_text("".join(clean(t) + "\n" for t in texts), "utf-8")
        run_bench(classes, ["analyze", str(spec), str(folder / "texts.txt"), str(folder / "tokens.txt"), *analyzers])
        out: dict[str, list[list[tuple[str, int, int, int]]]] = {name: [] for name in analyzers}
        with open(folder / "tokens.txt", encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        for i in range(len(texts)):
            for j, name in enumerate(analyzers):
                line = lines[i * len(analyzers) + j]
                tokens = []
                for item in line.split("\t") if line else []:
                    term, start, end, inc = item.split("\x1f")
                    tokens.append((term, int(start), int(end), int(inc)))
                out[name].append(tokens)
        return out
    finally:
        if owned:
            shutil.rmtree(folder, ignore_errors=True)
