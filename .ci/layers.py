#!/usr/bin/env python3
"""Checks windlass's module layering: no import cycle between the crate's
top-level modules, and `runtime`, `blocking` and `task` import downward only.

The rules checked are written down in docs/ARCHITECTURE.md ("Layers").

How the import graph is read:

- A node is a source file, named by its module path (`src/runtime/context.rs`
  is `runtime::context`, `src/task/mod.rs` is `task`). Test code is left out:
  files named `tests.rs` and `#[cfg(test)] mod ... { }` blocks.
- An edge A -> B is a path in A's code (comments and strings stripped) that
  names an item defined in file B: `crate::x::y`, `super::...`, `self::...`,
  or a name brought in by a `use` and used in A's body.
- A re-export (`pub use a::B;` in a `mod.rs`) is an alias, not an edge of
  its own: a path through it is followed to the file that defines the item,
  so `crate::task::JoinHandle` is an edge to `task::join`.

Checks, each failing with the files and the imports that make it:

1. No cycle of file imports crosses a top-level module boundary (Tarjan's
   strongly connected components of the file graph; a component may hold
   files of one top-level module only). Cycles inside one module, such as a
   `mod.rs` and its children, are that module's own business.
2. Between the layers listed in LAYERS, imports go downward only: a file of
   a lower layer never names an item of a higher one.
3. The files of HOME_PATHS_ONLY name items by their home path, not through
   the crate root's re-exports (`crate::spawn`, `crate::JoinHandle`).

Usage: python3 .ci/layers.py [--graph]   (run from anywhere; --graph prints
the cross-module edges).
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# Lowest first. A file belongs to the entry with the longest matching module
# prefix. "api" holds the public functions of lower modules that find the
# current runtime: `task::Builder` (task/builder.rs) and `spawn_blocking` /
# `to_thread` (blocking/spawn.rs); `task::spawn` is a re-export of
# `runtime::spawn`.
LAYERS = [
    ("base", ["deadline"]),
    ("task", ["task"]),
    ("blocking", ["blocking"]),
    ("runtime", ["runtime"]),
    ("api", ["task::builder", "blocking::spawn"]),
]

# Files that must name items by their home path (`crate::task::JoinHandle`),
# never through the crate root's re-exports (`crate::JoinHandle`,
# `crate::spawn`): the layered modules and `join`.
HOME_PATHS_ONLY = ["task", "blocking", "runtime", "join"]


def module_of(path):
    rel = os.path.relpath(path, ROOT)[: -len(".rs")].split(os.sep)
    if rel[-1] in ("mod", "lib"):
        rel = rel[:-1]
    return "::".join(rel)


def strip(text):
    """Removes comments, string and char literals (keeps line structure)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:]) and not re.match(r"\w", text[i - 1 : i] or " "):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            i = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:]):
            i += len(re.match(r"'(\\.|[^\\'])'", text[i:]).group(0))
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def drop_test_modules(code):
    """Removes `#[cfg(test)] mod x { ... }` (and `cfg(all(test, ..))`) blocks."""
    pat = re.compile(r"#\[cfg\((?:all\()?test\b[^\]]*\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{")
    while True:
        m = pat.search(code)
        if not m:
            return code
        depth, i = 1, m.end()
        while depth and i < len(code):
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            i += 1
        code = code[: m.start()] + code[i:]


def expand_use(tree):
    """`a::{b, c::{d, e as f}}` -> [(['a','b'], 'b'), (['a','c','d'], 'd'),
    (['a','c','e'], 'f')]: each imported path with the name it binds."""
    out = []

    def split_top(s):
        depth, start, parts = 0, 0, []
        for i, ch in enumerate(s):
            depth += {"{": 1, "}": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                parts.append(s[start:i])
                start = i + 1
        parts.append(s[start:])
        return [p.strip() for p in parts if p.strip()]

    def walk(prefix, s):
        for part in split_top(s):
            brace = part.find("{")
            if brace >= 0:
                head = [p.strip() for p in part[:brace].split("::") if p.strip()]
                walk(prefix + head, part[brace + 1 : part.rindex("}")])
                continue
            m = re.match(r"^(.*?)\s+as\s+(\w+)$", part)
            path, alias = (m.group(1), m.group(2)) if m else (part, None)
            segs = [p.strip() for p in path.split("::")]
            if segs[-1] == "self":
                segs = segs[:-1]
            out.append((prefix + segs, alias or (segs[-1] if segs else None)))

    walk([], " ".join(tree.split()))
    return out


class Crate:
    def __init__(self):
        self.files = {}  # module -> stripped code
        self.paths = {}  # module -> file path
        for d, _, names in os.walk(ROOT):
            for name in names:
                if not name.endswith(".rs") or name == "tests.rs":
                    continue
                p = os.path.join(d, name)
                with open(p, encoding="utf-8") as f:
                    code = drop_test_modules(strip(f.read()))
                m = module_of(p)
                self.files[m] = code
                self.paths[m] = os.path.relpath(p, os.path.join(ROOT, ".."))
        self.uses = {m: self.parse_uses(m, c) for m, c in self.files.items()}

    def absolute(self, module, segs):
        """Resolves a path written in `module` to an absolute segment list."""
        segs = list(segs)
        if not segs:
            return None
        here = module.split("::") if module else []
        if segs[0] == "crate":
            return segs[1:]
        if segs[0] in ("self", "super"):
            base = list(here)
            while segs and segs[0] in ("self", "super"):
                if segs.pop(0) == "super":
                    if not base:
                        return None
                    base.pop()
            return base + segs
        # A child module of this one (2018 paths), else an extern crate.
        child = "::".join(here + [segs[0]])
        if child in self.files:
            return here + segs
        return None

    def parse_uses(self, module, code):
        items = []
        for m in re.finditer(r"\buse\s+([^;]+);", code):
            for segs, name in expand_use(m.group(1)):
                path = self.absolute(module, segs)
                if path is not None:
                    items.append((path, name, m.start(), m.end()))
        return items

    def module_prefix(self, path):
        for k in range(len(path), -1, -1):
            m = "::".join(path[:k])
            if m in self.files:
                return m, path[k:]
        return None, path

    def resolve(self, path, depth=0):
        """The file (module) that defines the item at absolute `path`."""
        module, rest = self.module_prefix(path)
        if module is None or not rest or depth > 16:
            return module
        for target, name, _, _ in self.uses[module]:
            if name == rest[0] and target != path:
                return self.resolve(target + rest[1:], depth + 1)
        return module

    def edges(self):
        """module -> {module: [why, ...]}; also fills `self.root_paths`."""
        graph = {m: {} for m in self.files}
        self.root_paths = []  # (module, path) through a crate-root re-export
        for module, code in self.files.items():
            spans = [(s, e) for _, _, s, e in self.uses[module]]
            body = code
            for s, e in sorted(set(spans), reverse=True):
                body = body[:s] + " " * (e - s) + body[e:]

            def add(path, why):
                if len(path) == 1 and path[0] not in self.files and self.resolve(path) != "":
                    self.root_paths.append((module, why))
                target = self.resolve(path)
                if target is not None and target != module:
                    graph[module].setdefault(target, []).append(why)

            for path, name, _, _ in self.uses[module]:
                if name and name != "*" and re.search(r"(?<![\w:])" + re.escape(name) + r"\b", body):
                    add(path, "use crate::" + "::".join(path))
                elif name == "*" or path and path[-1] == "*":
                    add(path[:-1], "use " + "::".join(path))
            for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", body):
                path = self.absolute(module, m.group(1).split("::"))
                if path is not None:
                    add(path, m.group(1))
        return graph


def top(module):
    return module.split("::")[0] if module else "(root)"


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def one_cycle(graph, comp):
    """A shortest loop through a cross-module edge of the component `comp`,
    as a list of edges."""
    best = None
    for m in sorted(comp):
        for t in sorted(graph[m]):
            if t not in comp or top(t) == top(m):
                continue
            # Breadth-first from t back to m, inside the component.
            prev, frontier = {t: None}, [t]
            while frontier and m not in prev:
                nxt = []
                for v in frontier:
                    for w in sorted(graph[v]):
                        if w in comp and w not in prev:
                            prev[w] = v
                            nxt.append(w)
                frontier = nxt
            path, v = [], m
            while v is not None:
                path.append(v)
                v = prev[v]
            loop = [m] + path[::-1]
            edges = list(zip(loop, loop[1:]))
            if best is None or len(edges) < len(best):
                best = edges
    return best or []


def layer_of(module):
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + "::")) and len(p) > best_len:
                best, best_len = i, len(p)
    return best


def main():
    crate = Crate()
    graph = crate.edges()
    failures = []
    for comp in sccs(graph):
        tops = sorted({top(m) for m in comp})
        if len(comp) > 1 and len(tops) > 1:
            lines = [f"import cycle across {', '.join(tops)} ({len(comp)} files); one of its loops:"]
            for m, t in one_cycle(graph, set(comp)):
                lines.append(f"  {crate.paths[m]} -> {crate.paths[t]}  ({graph[m][t][0]})")
            failures.append("\n".join(lines))
    for m in sorted(graph):
        lm = layer_of(m)
        for t in sorted(graph[m]):
            lt = layer_of(t)
            if lm is not None and lt is not None and lt > lm:
                failures.append(
                    f"upward import: {crate.paths[m]} (layer '{LAYERS[lm][0]}') -> "
                    f"{crate.paths[t]} (layer '{LAYERS[lt][0]}') via {graph[m][t][0]}"
                )
    for m, why in crate.root_paths:
        if any(m == p or m.startswith(p + "::") for p in HOME_PATHS_ONLY):
            failures.append(
                f"root re-export: {crate.paths[m]} names `{why}`; use the item's home path "
                f"(e.g. crate::task::JoinHandle, crate::runtime::spawn)"
            )
    if "--graph" in sys.argv:
        for m in sorted(graph):
            for t in sorted(graph[m]):
                if top(t) != top(m):
                    print(f"{m} -> {t}   {graph[m][t][0]}")
    if failures:
        print("\n".join(failures))
        print(f"\nlayers: {len(failures)} problem(s); the rules are in docs/ARCHITECTURE.md, \"Layers\"")
        sys.exit(1)
    print(f"layers: OK ({len(graph)} files, no cross-module cycle, runtime/blocking/task import downward)")


if __name__ == "__main__":
    main()
