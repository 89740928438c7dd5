"""The shape of the code is a rule, not a wish: the import contracts of pyproject.toml hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "closeloop"


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def _imported_modules(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_core_imports_only_the_standard_library_its_own_modules_and_its_three_libraries() -> None:
    # holidays (business calendars), vaderSentiment (the offline lexicon) and snowballstemmer (word forms
    # of keywords) are pure computation.
    allowed_roots = set(sys.stdlib_module_names) | {
        "closeloop",
        "holidays",
        "vaderSentiment",
        "snowballstemmer",
        "__future__",
    }
    for path in sorted((SRC / "core").glob("*.py")):
        for module in _imported_modules(ast.parse(path.read_text(), str(path))):
            root = module.split(".")[0]
            assert root in allowed_roots, f"{path.name} imports {module}"
            if root == "closeloop":
                assert module.startswith("closeloop.core"), f"{path.name} imports {module}"
