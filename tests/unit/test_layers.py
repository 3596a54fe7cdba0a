"""The layers hold: the domain knows nothing of Flask, the web or the command line; the command
line nothing of the web; and no module reaches for another module's underscore names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"


def module_name(path: Path) -> str:
    parts = path.relative_to(KIOSK.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(KIOSK.rglob("*.py"))


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import, however deep in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def starts(module: str, *prefixes: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def layer_problems(name: str, imports: list[tuple[str, list[str]]]) -> list[str]:
    problems = []
    for module, names in imports:
        if starts(name, "kiosk.domain") and starts(module, "flask", "kiosk.web", "kiosk.cli"):
            problems.append(f"{name} (domain) imports {module}")
        if starts(name, "kiosk.cli") and starts(module, "kiosk.web"):
            problems.append(f"{name} (command line) imports {module}")
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private and starts(module, "kiosk"):
            problems.append(f"{name} imports {', '.join(private)} from {module}")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_the_module_keeps_to_its_layer(path):
    assert layer_problems(module_name(path), imports_of(path)) == []


@pytest.mark.parametrize(
    ("name", "imports", "problem"),
    [
        ("kiosk.domain.queue", [("flask", [])], "kiosk.domain.queue (domain) imports flask"),
        (
            "kiosk.domain.exchange.rows",
            [("kiosk.web.context", ["now"])],
            "kiosk.domain.exchange.rows (domain) imports kiosk.web.context",
        ),
        (
            "kiosk.domain.medical",
            [("kiosk.cli.common", ["typing_actor"])],
            "kiosk.domain.medical (domain) imports kiosk.cli.common",
        ),
        (
            "kiosk.cli.printer",
            [("kiosk.web.printing", ["SETTINGS"])],
            "kiosk.cli.printer (command line) imports kiosk.web.printing",
        ),
        (
            "kiosk.domain.exchange.fhir",
            [("kiosk.domain.exchange.rows", ["_visits_in_scope"])],
            "kiosk.domain.exchange.fhir imports _visits_in_scope from kiosk.domain.exchange.rows",
        ),
    ],
)
def test_the_check_sees_a_crossing(name, imports, problem):
    """The negative control: each rule catches what it is there for."""
    assert layer_problems(name, imports) == [problem]


def test_the_web_and_the_printer_may_import_flask():
    assert layer_problems("kiosk.web.staff", [("flask", ["request"])]) == []
    assert layer_problems("kiosk.flaskish", [("kiosk.webhooks", [])]) == []


TESTS = KIOSK.parent / "tests"


def test_module_imports(imports: list[tuple[str, list[str]]]) -> list[str]:
    """The test modules (tests/…/test_*.py) among the imports: helpers live in tests/support or
    in a helper module beside the tests, never in another test module."""
    return [
        module
        for module, _ in imports
        if module.startswith("tests.") and module.rsplit(".", 1)[-1].startswith("test_")
    ]


test_module_imports.__test__ = False  # a helper, not a test


@pytest.mark.parametrize(
    "path", sorted(TESTS.rglob("*.py")), ids=lambda path: str(path.relative_to(TESTS))
)
def test_no_test_module_imports_another(path):
    assert test_module_imports(imports_of(path)) == []


def test_an_import_of_a_test_module_is_caught():
    imports = [("tests.support.factories", ["VALID_DONOR"]), ("tests.web.test_medical", ["X"])]
    assert test_module_imports(imports) == ["tests.web.test_medical"]
