"""Run the hostile corpus against every CLI command that reads a file and the app's upload functions.

Meant to run as a subprocess (`python tests/hostile/run_corpus.py OUT.jsonl`): it first caps its own
address space (`resource.setrlimit(RLIMIT_AS)`), then calls `lmos_studio.cli.main(argv)` in-process for each
(entry point, input) pair, each in a fresh working directory, and writes one JSON line per case: exit code,
the message's first line, whether a traceback escaped, files written outside --out, seconds and the growth of
the process's peak RSS. Imports of the CLI happen once, so 500 cases take a minute, not an hour.
Options: --limit-mb (address-space cap), --only CLASS (one generator), --entry NAME (one entry point).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SAMPLE = ROOT / "sample_networks" / "acme" / "operator-fixtures"
QUERIES = ROOT / "sample_networks" / "acme-queries.csv"

# entry point → argv builder (input file, out folder); kinds of input it reads
CliCase = Callable[[str, str], list[str]]
CLI: dict[str, tuple[CliCase, tuple[str, ...]]] = {
    "resolve": (lambda f, o: ["resolve", f], ("design",)),
    "validate": (lambda f, o: ["validate", f], ("design",)),
    "lint": (lambda f, o: ["lint", f], ("design",)),
    "graph": (lambda f, o: ["graph", f, "--html", f"{o}/graph.html"], ("design",)),
    "route": (lambda f, o: ["route", f, "show my bill"], ("design",)),
    "test": (lambda f, o: ["test", f, "--junit", f"{o}/junit.xml"], ("design",)),
    "whatif": (lambda f, o: ["whatif", f, "--remove-agent", "billing-agent"], ("design",)),
    "export": (lambda f, o: ["export", f, "--out", f"{o}/export"], ("design",)),
    "canary": (lambda f, o: ["canary", f, "--out", f"{o}/canary.yaml"], ("design",)),
    "diff-old": (lambda f, o: ["diff", f, str(SAMPLE)], ("design",)),
    "diff-new": (lambda f, o: ["diff", str(SAMPLE), f], ("design",)),
    "eval": (lambda f, o: ["eval", f, str(QUERIES)], ("design",)),
    "import-manifests": (lambda f, o: ["import-manifests", f, "--out", f"{o}/design.yaml"], ("design", "zip")),
    "import": (lambda f, o: ["import", f], ("design", "description")),
    "convert": (lambda f, o: ["convert", f, "--to", "td"], ("design", "description")),
    "registry-register": (lambda f, o: ["registry", "register", f], ("design", "description")),
    "eval-queries": (lambda f, o: ["eval", str(SAMPLE), f], ("csv",)),
    "diff-queries": (lambda f, o: ["diff", str(SAMPLE), str(SAMPLE), "--queries", f], ("csv",)),
    "whatif-queries": (
        lambda f, o: ["whatif", str(SAMPLE), "--remove-agent", "billing-agent-stable", "--queries", f],
        ("csv",),
    ),
}
UPLOADS: dict[str, tuple[str, ...]] = {
    "upload-design": ("design",),  # the Designer's "open a design" upload
    "upload-description": ("design", "description"),  # the Registry page's "add a description" upload
    "upload-manifests": ("zip", "design"),  # the Export page's compare upload
    "upload-queries": ("csv",),  # the Evaluate page's labelled-queries upload
}


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def run_cli(argv: list[str]) -> tuple[int | None, str, str | None]:
    from lmos_studio.cli import main

    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code: int | None = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # a traceback: what the corpus exists to catch
        return None, err.getvalue(), traceback.format_exc(limit=-6)
    return code, err.getvalue() or out.getvalue(), None


def run_upload(entry: str, name: str, data: bytes) -> tuple[int | None, str, str | None]:
    from lmos_studio.errors import LmosStudioError
    from lmos_studio.export.importer import import_upload
    from lmos_studio.formats.design_file import design_from_upload
    from lmos_studio.formats.detect import read_descriptions
    from lmos_studio.routing.labelled import parse_labelled_csv

    max_bytes = 20 * 2**20  # the default LMOS_STUDIO_MAX_UPLOAD_MB
    calls: dict[str, Callable[[], Any]] = {
        "upload-design": lambda: design_from_upload(name, data, max_bytes=max_bytes),
        "upload-description": lambda: read_descriptions(data, source=name),
        "upload-manifests": lambda: import_upload(name, data, max_bytes=max_bytes),
        "upload-queries": lambda: parse_labelled_csv(data, source=name),
    }
    try:
        calls[entry]()
    except LmosStudioError as exc:  # what a page shows with st.error
        return 2, f"error: {exc}", None
    except BaseException:
        return None, "", traceback.format_exc(limit=-6)
    return 0, "", None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--limit-mb", type=int, default=3072)
    parser.add_argument("--only", default="")
    parser.add_argument("--entry", default="")
    parser.add_argument("--input", default="", help="one input by name, after a warm-up (for memory figures)")
    args = parser.parse_args()
    limit = args.limit_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.path.insert(0, str(HERE))
    from hostile_corpus import GENERATORS

    base = Path(tempfile.mkdtemp(prefix="lmos-hostile-"))
    os.environ["LMOS_STUDIO_DATA_DIR"] = str(base / "data")
    os.environ["LMOS_STUDIO_REGISTRY_DB"] = str(base / "data" / "registry.sqlite3")
    os.environ["HOME"] = str(base / "home")
    os.environ["LMOS_STUDIO_LLM_BASE_URL"] = "http://user:SECRET@127.0.0.1:9/v1"  # must never be printed
    inputs = base / "inputs"
    inputs.mkdir()
    cases = [
        (cls, item)
        for cls, make in GENERATORS.items()
        if not args.only or cls == args.only
        for item in make()
        if not args.input or item.name == args.input
    ]
    for _, item in cases:
        (inputs / item.name).write_bytes(item.data)
    run_cli(["version"])  # import the CLI once, before the first measurement
    if args.input:  # every entry point once on a valid design: what any input costs is above this
        warm = Path(tempfile.mkdtemp(dir=base, prefix="warm-"))
        for entry, (argv, _) in CLI.items():
            run_cli(argv(str(SAMPLE) if "queries" not in entry else str(QUERIES), str(warm / entry)))
    baseline = _peak_rss_bytes()
    with open(args.out, "w", encoding="utf-8") as sink:
        sink.write(json.dumps({"meta": {"baseline_peak_rss_bytes": baseline}}) + "\n")
        for cls, item in cases:
            path = str(inputs / item.name)
            entries = [(e, "cli") for e, (_, kinds) in CLI.items() if item.kind in kinds]
            entries += [(e, "upload") for e, kinds in UPLOADS.items() if item.kind in kinds]
            for entry, how in entries:
                if args.entry and entry != args.entry:
                    continue
                work = Path(tempfile.mkdtemp(dir=base, prefix="work-"))
                out = work / "out"
                before_rss, start = _peak_rss_bytes(), time.process_time()
                cwd = os.getcwd()
                os.chdir(work)
                try:
                    if how == "cli":
                        code, message, tb = run_cli(CLI[entry][0](path, str(out)))
                    else:
                        code, message, tb = run_upload(entry, item.name, item.data)
                finally:
                    os.chdir(cwd)
                stray = sorted(f for f in _files(work) if not f.startswith("out/"))
                record = {
                    "class": cls,
                    "input": item.name,
                    "note": item.note,
                    "must_fail": item.must_fail,
                    "bytes": len(item.data),
                    "entry": entry,
                    "exit": code,
                    "message": message.strip().splitlines()[0][:300] if message.strip() else "",
                    "traceback": tb,
                    "leaked_secret": "SECRET" in message or "SECRET" in (tb or ""),
                    "written_outside_out": stray,
                    "cpu_s": round(time.process_time() - start, 3),
                    "peak_rss_growth_bytes": max(0, _peak_rss_bytes() - before_rss),
                    "peak_rss_over_baseline_bytes": max(0, _peak_rss_bytes() - baseline),
                }
                sink.write(json.dumps(record) + "\n")
                sink.flush()


if __name__ == "__main__":
    main()
