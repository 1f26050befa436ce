"""The domains import downwards only: profile > loyalty > offers > identity > events, db >
settings and errors; none of them imports the GraphQL layer or the web framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BFF = Path(__file__).parent.parent / "bff"
# Higher layers may import lower ones, never the reverse. Packages on one level are peers.
LAYERS = [
    {"settings", "errors", "ids", "json_text", "logging", "redis_clients"},
    {"events", "db"},
    {"identity"},
    {"offers"},
    {"loyalty"},
    {"profile"},
]
LEVEL = {package: level for level, packages in enumerate(LAYERS) for package in packages}
# The migrations import the models' enums of every domain, as Tortoise writes them.
EXEMPT = {BFF / "db" / "migrations"}
WEB = ("starlette", "strawberry", "bff.graphql", "bff.internal_api", "bff.app")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any level of the file (type-checking imports too)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def domain_modules() -> list[Path]:
    return sorted(
        path
        for package in LEVEL
        for path in [BFF / f"{package}.py", *(BFF / package).rglob("*.py")]
        if path.exists() and not any(path.is_relative_to(exempt) for exempt in EXEMPT)
    )


@pytest.mark.parametrize("path", domain_modules(), ids=lambda path: str(path.relative_to(BFF)))
def test_a_domain_module_imports_only_its_own_layer_and_those_below(path):
    """e.g. identity never imports profile, offers never imports loyalty."""
    package = path.relative_to(BFF).parts[0].removesuffix(".py")

    imported = imported_modules(path)

    upward = sorted(
        module
        for module in imported
        if module.startswith("bff.")
        and LEVEL.get(module.split(".")[1], len(LAYERS)) > LEVEL[package]
    )
    web = sorted(module for module in imported if module.startswith(WEB))
    assert upward == []
    assert web == [] or path == BFF / "identity" / "sessions.py"  # reads the session's cookie
