"""Files that ship with LMOS Studio beside its code: the app (`app.py`, `app_pages/`) and `sample_networks/`.

In a checkout they stay at the repository's top, where people look for them (`streamlit run app.py`). The wheel
maps them into the package as `lmos_studio/_bundled/` (pyproject.toml, `[tool.hatch.build.targets.wheel.
force-include]`), so a plain `pip install` runs the app and opens the samples. Both places are found through
`importlib.resources`: the packaged copy wins; a source checkout (editable install or PYTHONPATH) has the files
next to the package. Nothing here imports more than the standard library: `lmos-studio version` stays fast.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from lmos_studio.errors import DesignFileError, LmosStudioError

BUNDLE = "_bundled"  # the folder inside the package that the wheel build fills
APP_SCRIPT = "app.py"
SAMPLES = "sample_networks"
DEFAULT_SAMPLE_NAME = "acme"


@lru_cache(maxsize=1)
def bundled_root() -> Path:
    """The folder holding app.py, app_pages/ and sample_networks/ (in the installed package or the checkout)."""
    package = Path(str(files("lmos_studio")))
    for root in (package / BUNDLE, package.parent):  # installed wheel, then the source checkout
        if (root / APP_SCRIPT).is_file() and (root / SAMPLES).is_dir():
            return root
    raise LmosStudioError(
        f"LMOS Studio's app and samples are missing (looked in {package / BUNDLE} and {package.parent}); "
        "reinstall lmos-studio"
    )


def app_script() -> Path:
    """The Streamlit entry script (`streamlit run` it)."""
    return bundled_root() / APP_SCRIPT


def samples_dir() -> Path:
    """The folder of the bundled sample designs and labelled query sets."""
    return bundled_root() / SAMPLES


def default_sample() -> Path:
    """The design the app opens when none is configured: the acme sample."""
    return samples_dir() / DEFAULT_SAMPLE_NAME


def sample_designs() -> dict[str, Path]:
    """Sample name → path of every bundled design: folders holding YAML, and YAML files, sorted by name."""
    found: dict[str, Path] = {}
    for path in sorted(samples_dir().iterdir()):
        if path.name.startswith((".", "_")):
            continue
        if path.is_dir() and any(path.rglob("*.y*ml")):
            found[path.name] = path
        elif path.is_file() and path.suffix in (".yaml", ".yml"):
            found[path.stem] = path
    return found


def copy_sample(name: str, to: Path) -> Path:
    """Copy the bundled design `name` into the folder `to` (made when missing); returns the copy's path.

    An existing file or folder of that name is never overwritten; the copy appears whole or not at all.
    """
    samples = sample_designs()
    source = samples.get(name)
    if source is None:
        raise DesignFileError(f"no bundled sample {name!r}; the samples are: {', '.join(samples)}", path=name)
    target = to / source.name
    if target.exists():
        raise DesignFileError("already exists; remove it or choose another --to folder", path=str(target))
    try:
        to.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{source.name}.", dir=to))
        try:
            staged = staging / source.name
            if source.is_dir():
                shutil.copytree(source, staged, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, staged)
            os.replace(staged, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise DesignFileError(
            f"cannot copy the sample: {exc.strerror or exc}; check that {to} is a writable folder", path=str(to)
        ) from exc
    return target
