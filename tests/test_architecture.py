"""The shape of the code: its layers (import-linter contracts in pyproject.toml), no import cycle
between bff's top-level packages and modules, and an error code for every failure a surface can
reach."""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

from bff.db.connection import MODEL_MODULES
from bff.errors import ErrorCode
from bff.graphql.errors import GraphQLErrorCode
from bff.internal_api.routes import STATUS_OF_ERROR

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bff"


def test_the_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    """Each layer imports only the layers below it, and no domain imports GraphQL or HTTP."""
    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)

    assert exit_code == 0, capsys.readouterr().out


def test_no_two_top_level_parts_of_bff_import_each_other() -> None:
    """No cycle between top-level packages and modules, counting imports for type hints too
    (migrations aside: they are generated snapshots that name model enums)."""
    graph = grimp.build_graph("bff", exclude_type_checking_imports=False, cache_dir=None)
    tops = sorted(
        {".".join(module.split(".")[:2]) for module in graph.modules if module.count(".") >= 1}
    )
    cycles = []
    for first, second in itertools.combinations(tops, 2):
        there = _imports(graph, first, second)
        back = _imports(graph, second, first)
        if there and back:
            cycles.append(f"{first} <-> {second}: {there[0]} / {back[0]}")

    assert cycles == []


def _imports(graph: grimp.ImportGraph, importer: str, imported: str) -> list[str]:
    """The direct imports from `importer` (a package or module, with its submodules) of
    `imported`, outside migrations."""
    found = graph.find_matching_direct_imports(import_expression=f"{importer}.** -> {imported}.**")
    found += graph.find_matching_direct_imports(import_expression=f"{importer}.** -> {imported}")
    found += graph.find_matching_direct_imports(import_expression=f"{importer} -> {imported}.**")
    found += graph.find_matching_direct_imports(import_expression=f"{importer} -> {imported}")
    return [
        f"{row['importer']} -> {row['imported']}"
        for row in found
        if ".migrations" not in row["importer"]
    ]


def test_every_top_level_part_of_bff_has_a_layer() -> None:
    """A new package or module is placed in the layers contract, so the contract covers it."""
    config = (ROOT / "pyproject.toml").read_text()
    parts = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    parts |= {path.parent.name for path in PACKAGE.glob("*/__init__.py")}

    unplaced = sorted(part for part in parts if f"bff.{part}" not in config)

    assert unplaced == []


def test_the_graphql_error_code_is_a_subset_of_the_domains() -> None:
    """Each GraphQL ErrorCode stands for the domain's ErrorCode of the same name."""
    strangers = [code.name for code in GraphQLErrorCode if code.value is not ErrorCode[code.name]]

    assert strangers == []


def test_every_code_graphql_can_reach_is_a_graphql_error_code() -> None:
    """A DomainError raised by code that a GraphQL resolver calls has a GraphQL ErrorCode."""
    reachable = _call_graph().codes_reachable_from("bff.graphql")

    assert reachable, "the call graph found no code: the analysis is broken"
    assert reachable - {code.name for code in GraphQLErrorCode} == set()


def test_every_code_the_internal_api_can_reach_has_an_http_status() -> None:
    """A DomainError raised by code that a store endpoint calls has an HTTP status."""
    reachable = _call_graph().codes_reachable_from("bff.internal_api")

    assert reachable, "the call graph found no code: the analysis is broken"
    assert reachable - {code.name for code in STATUS_OF_ERROR} == set()


@dataclass
class _Function:
    codes: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)


@dataclass
class _CallGraph:
    """Functions of bff by qualified name ("bff.x.y:f", "bff.x.y:Class.m"), each with the
    ErrorCode members it names and the functions it names (calls or passes on). A method
    called on an object of unknown type stands for every bff method of that name: an
    over-approximation, which is the safe side for this check."""

    functions: dict[str, _Function]
    methods_by_name: dict[str, set[str]]

    def codes_reachable_from(self, package: str) -> set[str]:
        seen: set[str] = set()
        todo = [name for name in self.functions if name.startswith(f"{package}.")]
        codes: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen or name not in self.functions:
                continue
            seen.add(name)
            function = self.functions[name]
            codes |= function.codes
            for reference in function.references:
                todo.extend(self.methods_by_name.get(reference, {reference}))
        return codes


def _call_graph() -> _CallGraph:
    functions: dict[str, _Function] = {}
    methods_by_name: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        names = _imported_names(tree, module)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions[f"{module}:{node.name}"] = _function(node, module, names)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        qualified = f"{module}:{node.name}.{item.name}"
                        functions[qualified] = _function(item, module, names)
                        methods_by_name[f".{item.name}"].add(qualified)
                        if item.name in {"__init__", "__post_init__"}:
                            methods_by_name[f"{module}:{node.name}"].add(qualified)
    return _CallGraph(functions=functions, methods_by_name=dict(methods_by_name))


def _imported_names(tree: ast.Module, module: str) -> dict[str, str]:
    """Local name -> what it stands for: "bff.x.y" (a module) or "bff.x.y:name"."""
    names: dict[str, str] = {}
    package_modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in PACKAGE.rglob("*.py")
    }
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bff"):
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                local = alias.asname or alias.name
                in_module = f"{node.module}:{alias.name}"
                names[local] = target if target in package_modules else in_module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("bff"):
                    names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = f"{module}:{node.name}"
    return names


def _function(node: ast.AST, module: str, names: dict[str, str]) -> _Function:
    function = _Function()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute):
            if isinstance(inner.value, ast.Name):
                base = names.get(inner.value.id)
                if inner.value.id == "ErrorCode":
                    function.codes.add(inner.attr)
                elif base is not None and ":" not in base:  # module.function
                    function.references.add(f"{base}:{inner.attr}")
                elif base is not None:  # Class.method
                    function.references.add(f"{base}.{inner.attr}")
                    function.references.add(f".{inner.attr}")
                else:
                    function.references.add(f".{inner.attr}")
            else:
                function.references.add(f".{inner.attr}")
        elif isinstance(inner, ast.Name) and inner.id in names:
            function.references.add(names[inner.id])
    del module
    return function


def test_tortoise_is_given_every_models_module_of_bff_once() -> None:
    """MODEL_MODULES names each bff/**/models.py exactly once (merged domains leave no copy)."""
    found = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in PACKAGE.rglob("models.py")
    )

    assert sorted(MODEL_MODULES) == found
