"""The domain core imports no infrastructure: no brokers, stores, HTTP, frames or adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import swifteats.domain

DOMAIN_DIR = Path(swifteats.domain.__file__).parent

FORBIDDEN = (
    "kafka",
    "redis",
    "psycopg",
    "psycopg_pool",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "duckdb",
    "polars",
    "pandas",
    "streamlit",
    "pydantic",
    "prometheus_client",
    "swifteats.adapters",
    "swifteats.services",
)

MODULES = sorted(DOMAIN_DIR.rglob("*.py"))
"""Every module of the domain, subpackages included."""


def imported_modules(source: str) -> set[str]:
    """Every absolute module name an ``import`` or ``from ... import`` statement names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden_in(names: set[str]) -> set[str]:
    """The names that are, or live under, a forbidden module."""
    return {
        name for name in names for bad in FORBIDDEN if name == bad or name.startswith(bad + ".")
    }


def test_domain_has_the_expected_modules() -> None:
    stems = {path.stem for path in MODULES}
    expected = {"geo", "eta", "scoring", "ranking", "events", "orders", "retry", "drivers"}
    assert expected <= stems
    policies = {"registry", "base", "greedy", "batch_matching", "route_matching", "matching"}
    assert policies <= stems  # the policies package is checked too


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(DOMAIN_DIR)))
def test_domain_module_imports_no_infrastructure(path: Path) -> None:
    assert forbidden_in(imported_modules(path.read_text())) == set()


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("import redis", {"redis"}),
        ("import kafka.errors as ke", {"kafka.errors"}),
        ("from psycopg_pool import Pool", {"psycopg_pool", "psycopg_pool.Pool"}),
        ("from swifteats import adapters", {"swifteats.adapters"}),
        (
            "from swifteats.services import outgoing",
            {"swifteats.services", "swifteats.services.outgoing"},
        ),
        ("def f():\n    import pandas\n", {"pandas"}),
        ("import redistools\nfrom swifteats.domain import geo\nfrom . import x", set()),
    ],
)
def test_the_import_check_catches_forbidden_imports(source: str, caught: set[str]) -> None:
    assert forbidden_in(imported_modules(source)) == caught
