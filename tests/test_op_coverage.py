"""Every differentiable op (each Function subclass in minigrad) is named by a test."""

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _function_classes():
    for path in sorted((ROOT / "minigrad").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", getattr(base, "attr", None)) in ("Function", "ArrayFunction")
                for base in node.bases
            ):
                yield path.relative_to(ROOT), node.name


def test_every_function_subclass_is_named_by_a_test():
    tests = "\n".join(
        p.read_text() for p in (ROOT / "tests").rglob("*.py") if p.name != "test_op_coverage.py"
    )
    classes = list(_function_classes())
    assert len(classes) > 30
    missing = [f"{path}:{name}" for path, name in classes
               if name != "ArrayFunction" and not re.search(rf"\b{name}\b", tests)]
    assert not missing, f"Function subclasses no test names: {missing}"
