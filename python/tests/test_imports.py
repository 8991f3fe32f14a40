"""The roo package's modules import one another without a cycle, and in the order
pybridge's api_package.rs installs them into a running app's interpreter.

Importing `roo.<name>` in Python always runs `roo/__init__.py` first, which imports the
submodules in its own order, so a cycle may go unnoticed there; the embedded package has
no such help: each module of api_package.rs's SUBMODULES runs once, in the listed order,
with only the modules before it in place. So the import graph is read from the sources,
and the embedded install is replayed here as pybridge does it.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import roo

PACKAGE = Path(roo.__file__).parent
API_PACKAGE_RS = PACKAGE.parents[1] / "pybridge" / "src" / "api_package.rs"

# roo's modules that the binary does not embed (they run apps from tests).
NOT_EMBEDDED = {"roo.testing", "roo.pytest_plugin"}


def module_files() -> dict[str, Path]:
    """Every module of the roo and wallaroo packages, by dotted name."""
    files = {}
    for package in (PACKAGE, PACKAGE.parent / "wallaroo"):
        for path in sorted(package.glob("*.py")):
            name = package.name if path.stem == "__init__" else "%s.%s" % (package.name, path.stem)
            files[name] = path
    return files


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The package modules that `path` imports when it runs, at module level or inside
    functions (an import put off into a function still makes a cycle); imports only for
    type checkers (`if TYPE_CHECKING:`) do not run and are left out."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in known:
            for alias in node.names:
                # `from roo import decorators` imports the submodule, not roo's __init__.
                submodule = "%s.%s" % (node.module, alias.name)
                found.add(submodule if submodule in known else node.module)
        for inner in ast.iter_child_nodes(node):
            visit(inner)

    visit(ast.parse(path.read_text(), str(path)))
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imported_modules(path, set(files)) for name, path in files.items()}


def embedded_order() -> list[str]:
    """api_package.rs's SUBMODULES, in order."""
    source = API_PACKAGE_RS.read_text()
    listing = source[source.index("const SUBMODULES") :]
    listing = listing[: listing.index("];")]
    return re.findall(r'\(\s*"(roo\.[a-z_]+)",\s*include_str!', listing)


needs_api_package_rs = pytest.mark.skipif(
    not API_PACKAGE_RS.is_file(), reason="pybridge's sources are not next to this roo package"
)


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert {"roo", "roo.topology", "roo.decorators", "wallaroo"} <= set(graph)
    done: set[str] = set()

    def walk(name: str, path: list[str]) -> None:
        if name in path:
            cycle = path[path.index(name) :] + [name]
            pytest.fail("the roo package imports in a cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for imported in sorted(graph[name]):
            walk(imported, path + [name])
        done.add(name)

    for name in sorted(graph):
        walk(name, [])


def test_the_reader_sees_an_import_put_off_into_a_function(tmp_path: Path) -> None:
    """How the topology builder used to import the decorators, which imported it."""
    module = tmp_path / "topology.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from roo.config import TCPSinkConfig\n"
        "def stateless_step(computation):\n"
        "    from roo.decorators import StateComputation\n"
        "from roo import windows\n"
    )
    known = {"roo", "roo.config", "roo.decorators", "roo.windows"}
    assert imported_modules(module, known) == {"roo.decorators", "roo.windows"}


@needs_api_package_rs
def test_api_package_embeds_every_module_after_those_it_imports() -> None:
    graph = import_graph()
    order = embedded_order()
    package_modules = {name for name in graph if name.startswith("roo.")}
    assert set(order) == package_modules - NOT_EMBEDDED, "api_package.rs's SUBMODULES"
    for index, name in enumerate(order):
        for imported in graph[name]:
            assert imported in order[:index], (
                "%s imports %s, which api_package.rs installs %s"
                % (name, imported, "after it" if imported in order else "not at all")
            )


@needs_api_package_rs
def test_wallaroo_aliases_the_embedded_modules() -> None:
    import wallaroo  # the roo module itself: its submodule list is in wallaroo/__init__.py

    source = (PACKAGE.parent / "wallaroo" / "__init__.py").read_text()
    listing = re.search(r"_SUBMODULES = (\([^)]*\))", source)
    assert listing, "wallaroo/__init__.py's _SUBMODULES"
    listed = ast.literal_eval(listing.group(1))
    assert ["roo." + name for name in listed] == embedded_order()
    assert wallaroo is roo


# Replays api_package.rs's install_modules: an empty package, each submodule run from its
# source in SUBMODULES order (in sys.modules while it runs, as PyImport_ExecCodeModule
# does), then the package's __init__ in the package's namespace, installed as wallaroo too.
_EMBEDDED_INSTALL = """
import sys, types
package_dir, order = sys.argv[1], sys.argv[2:]
package = types.ModuleType("roo")
package.__path__ = []
package.__package__ = "roo"
sys.modules["roo"] = package
for name in order:
    module = types.ModuleType(name)
    sys.modules[name] = module
    short = name.split(".", 1)[1]
    with open("%s/%s.py" % (package_dir, short)) as source:
        exec(compile(source.read(), "<roo>/roo/%s.py" % short, "exec"), module.__dict__)
    setattr(package, short, module)
    sys.modules["wallaroo." + short] = module
with open(package_dir + "/__init__.py") as source:
    exec(compile(source.read(), "<roo>/roo/__init__.py", "exec"), package.__dict__)
sys.modules["wallaroo"] = package

import roo, roo.topology, wallaroo, wallaroo.experimental
assert roo.topology.RooApplicationError is wallaroo.RooApplicationError
assert roo.topology.where is roo.inspection.where

@wallaroo.state_computation(name="count")
def count(data, state):
    return data
try:
    wallaroo.ApplicationBuilder("app").new_pipeline(
        "p", wallaroo.TCPSourceConfig("127.0.0.1", 7000, wallaroo.decoder()(bytes))
    ).to(count)
except wallaroo.WallarooParameterError as err:
    print(err)
"""


@needs_api_package_rs
def test_the_embedded_install_order_works() -> None:
    run = subprocess.run(
        [sys.executable, "-I", "-c", _EMBEDDED_INSTALL, str(PACKAGE), *embedded_order()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "is used as a stateless step" in run.stdout


@pytest.mark.parametrize("name", sorted(module_files()))
def test_each_module_imports_first_in_a_fresh_interpreter(name: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", "import %s" % name], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
