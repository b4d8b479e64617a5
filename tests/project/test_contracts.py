"""The house's import contracts (pyproject.toml, [tool.importlinter]) hold, and they bite: each kind of change they
exist to refuse (an upward import, asyncpg in a pure module, one capability reaching into another, a circle) breaks
the build. `make test` also runs lint-imports on its own, before the tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> tuple[int, set[str]]:
    """lint-imports on a tree: its exit code and the ids of the contracts it found broken."""
    result = subprocess.run(
        [str(LINT), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "400", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    names = _contract_names(tree)
    broken = {cid for cid, name in names.items() if re.search(re.escape(name) + r"\s+BROKEN", result.stdout)}
    return result.returncode, broken


def _contract_names(tree: Path) -> dict[str, str]:
    import tomllib

    config = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c["name"] for c in config["tool"]["importlinter"]["contracts"]}


@pytest.fixture
def house(tmp_path: Path) -> Path:
    """A copy of service/ and pyproject.toml to break."""
    shutil.copytree(
        ROOT / "service", tmp_path / "service", ignore=shutil.ignore_patterns("__pycache__", "static", "templates")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(tree: Path, module: str, statement: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("from __future__ import annotations\n")
    path.write_text(head + sep + statement + "\n" + rest, encoding="utf-8")


def test_the_house_keeps_every_contract() -> None:
    code, broken = lint(ROOT)
    assert (code, broken) == (0, set())


def test_an_upward_import_from_the_domain_breaks_the_layers_purity_and_the_no_circles_rule(house: Path) -> None:
    add_import(house, "service.domain.model", "import service.app  # noqa: F401")
    code, broken = lint(house)
    assert code == 1 and {"house", "pure", "no-circles"} <= broken


def test_asyncpg_in_a_pure_module_breaks_purity_and_the_store_only_rule(house: Path) -> None:
    add_import(house, "service.openreferral.mapping", "import asyncpg  # noqa: F401")
    code, broken = lint(house)
    assert code == 1 and broken == {"pure", "asyncpg-in-store-modules"}


def test_one_capability_reaching_into_another_breaks_the_layers(house: Path) -> None:
    add_import(house, "service.gaps.maps", "import service.outcomes.records  # noqa: F401")
    code, broken = lint(house)
    assert code == 1 and broken == {"house"}


def test_the_server_importing_a_capability_breaks_the_layers(house: Path) -> None:
    add_import(house, "service.server.runtime", "import service.openreferral.published  # noqa: F401")
    code, broken = lint(house)
    assert code == 1 and "house" in broken


def test_a_circle_inside_one_package_breaks_the_no_circles_rule(house: Path) -> None:
    add_import(house, "service.server.telemetry", "import service.server.runtime  # noqa: F401")
    code, broken = lint(house)
    assert code == 1 and broken == {"no-circles"}


def test_the_readme_tree_names_every_package_and_top_level_module_of_the_house() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it is built", 1)[1].split("```", 2)[1]
    tree = section.split("\nschema/", 1)[0]
    listed = set(re.findall(r"^  ([a-z_]+/|[a-z_]+\.py)", tree, re.M)) | set(re.findall(r"\b([a-z_]+\.py)\b", tree))
    service = ROOT / "service"
    packages = {f"{p.parent.name}/" for p in service.glob("*/__init__.py")}
    modules = {p.name for p in service.glob("*.py") if p.name != "__init__.py"}
    assert listed == packages | modules
