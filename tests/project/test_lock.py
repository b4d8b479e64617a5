"""The locks: every dependency pyproject.toml names is pinned, with hashes, and the image's lock agrees with the
one make and CI install from. (After changing pyproject.toml's dependencies, `make lock`.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, version in PIN.findall((ROOT / lock).read_text()):
        found.setdefault(normal(name), set()).add(version)
    return found


def declared(extra: str | None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return {normal(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}


def test_every_dependency_and_dev_dependency_is_pinned_in_the_dev_lock() -> None:
    locked = pins("requirements-dev.lock")
    assert declared(None) | declared("dev") <= set(locked)


def test_every_runtime_dependency_is_pinned_in_the_image_lock_at_the_dev_locks_version() -> None:
    image, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert declared(None) <= set(image)
    for name, versions in image.items():
        assert versions <= dev[name], name


def test_every_pinned_package_carries_hashes() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text())
        for block in blocks:
            if PIN.match(block):
                assert "--hash=sha256:" in block, block.splitlines()[0]
