"""Imports go down, never up: every import in src/steervis, walked with ``ast``.

Floors, lowest first (a module may import its own floor and the floors below it):

    0  ground: steervis, errors, paths, registry, config, lazy, atomic, outputs, disk, classes, numeric, card,
       packages, store, stats, device, _moved, identity, prune
    1  zoo, data (the model zoo; folders, dataset builders and the knowledge pool)
    2  lm, matchers (the LM core; ConSE, CLIP, their protocol, features, index and text-embedding cache)
    3  systems, one home each: vllavo, react, llava, ground, vrl, stic, thinker
    4  methods
    5  eval, serve (the web page: ``steervis serve``; its benchmark is a ``steervis bench`` target)
    6  studies (analyses over run folders and models: ``steervis study``)
    7  commands
    8  cli

Systems never import each other. One reaches another's models only through a registry name: the registry
string (``"steervis.react.matchers:REACT_POOL"``) is the only edge into a system from beside or below it, and
every such edge is on ``REGISTRY_EDGES`` below, so each coupling between systems is visible in review.

Also: vllavo.decide reads text only (never vllavo.describe or data), and no two modules import each other.
An import is any ``import`` / ``from ... import`` (module level or inside a function) and any registry or
lazy-export string naming a steervis module (``"steervis.vllavo.describe.run"``,
``"steervis.methods.zeroshot:ZeroShot"``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
FLOORS = {
    0: ["steervis", "errors", "paths", "registry", "config", "lazy", "atomic", "outputs", "disk", "classes",
        "numeric", "packages", "store", "stats", "device", "_moved", "identity", "prune", "card"],
    1: ["zoo", "data"],
    2: ["lm", "matchers"],
    3: ["vllavo", "react", "llava", "ground", "vrl", "stic", "thinker"],
    4: ["methods"],
    5: ["eval", "serve"],
    6: ["studies"],
    7: ["commands"],
    8: ["cli"],
}
FLOOR_OF = {part: floor for floor, parts in FLOORS.items() for part in parts}
SYSTEMS = {"vllavo", "react", "llava", "ground", "vrl", "stic", "thinker"}
TEXT_ONLY = {"vllavo.decide": {"vllavo.describe", "data"}}  # package → packages it must never import
# Every registry edge into a system from a package beside or below it: (from, to) → the names it carries.
REGISTRY_EDGES = {
    ("matchers", "react"): "matcher: react-pool and customized folders (REACT's trained matchers)",
    ("vllavo", "llava"): "captioner: llava (steervis' LLaVA writes captions)",
    ("zoo", "llava"): "VLM family: llava (steervis' LLaVA by name for systems that train or ask a VLM: stic)",
}
TARGET = re.compile(r"^(steervis(?:\.\w+)*)(?::\w+)?$")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted((SRC / "steervis").rglob("*.py"))}


def floor(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "steervis"
    assert key in FLOOR_OF, f"{module} is on no floor: add its package to FLOORS (and to this docstring)"
    return FLOOR_OF[key]


def imports(path: Path) -> set[str]:
    """Every steervis module the file imports, at any depth, plus registry / lazy-export strings."""
    code, strings = imports_by_kind(path)
    return code | strings


def imports_by_kind(path: Path) -> tuple[set[str], set[str]]:
    """(modules named by import statements, modules named by registry / lazy-export strings)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)}
    found: set[str] = set()
    strings: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            match = TARGET.match(node.value)
            if match and match.group(1) in MODULES:
                strings.add(match.group(1))
    return {m for m in found if m in MODULES}, strings


def package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "steervis"


BY_KIND = {name: imports_by_kind(path) for name, path in MODULES.items()}
BY_KIND["steervis._moved"] = (BY_KIND["steervis._moved"][0], set())  # its strings name new homes in messages
GRAPH = {name: code | strings for name, (code, strings) in BY_KIND.items()}


def is_listed_registry_edge(src: str, dst: str) -> bool:
    return dst in BY_KIND[src][1] and (package(src), package(dst)) in REGISTRY_EDGES


def test_every_import_goes_down_or_stays_on_its_floor():
    upward = [f"{src} (floor {floor(src)}) imports {dst} (floor {floor(dst)})"
              for src, targets in GRAPH.items() for dst in sorted(targets)
              if floor(dst) > floor(src) and not is_listed_registry_edge(src, dst)]
    assert not upward, "\n".join(upward)


def test_systems_meet_only_through_listed_registry_names():
    crossing = [f"{src} {'names' if dst in BY_KIND[src][1] else 'imports'} {dst}"
                for src, targets in GRAPH.items() for dst in sorted(targets)
                if package(dst) in SYSTEMS and package(src) != package(dst) and floor(src) <= floor(dst)
                and not is_listed_registry_edge(src, dst)]
    why = "a new coupling into a system: list it on REGISTRY_EDGES if it is meant\n"
    assert not crossing, why + "\n".join(crossing)


def test_every_listed_registry_edge_exists():
    used = {(package(src), package(dst)) for src in GRAPH for dst in GRAPH[src]
            if is_listed_registry_edge(src, dst)}
    assert used == set(REGISTRY_EDGES), f"listed but unused: {sorted(set(REGISTRY_EDGES) - used)}"


def test_decide_reads_text_only():
    bad = [f"{src} imports {dst}" for src, targets in GRAPH.items() for dst in targets
           for pkg, banned in TEXT_ONLY.items()
           if src.startswith(f"steervis.{pkg}") and any(dst.startswith(f"steervis.{b}") for b in banned)]
    assert not bad, "\n".join(bad)


def test_no_two_modules_import_each_other():
    mutual = sorted({tuple(sorted((a, b))) for a, targets in GRAPH.items() for b in targets
                     if a in GRAPH.get(b, ()) and a != b and not (a == "steervis" or b == "steervis")})
    packages_and_members = [(a, b) for a, b in mutual if not (b.startswith(a + ".") or a.startswith(b + "."))]
    assert not packages_and_members, packages_and_members


def test_the_walker_sees_function_level_imports_and_registry_strings():
    assert "steervis.methods.zeroshot" in GRAPH["steervis.methods"]  # a "module:attr" registry string
    assert "steervis.vllavo.describe.run" in GRAPH["steervis.vllavo.describe"]  # a lazy-export string
    assert "steervis.react.matchers" in BY_KIND["steervis.matchers"][1]  # a registry string, kept apart
    assert "steervis.methods.finetune" in GRAPH["steervis.commands.fit"]  # imported inside run()
