#!/usr/bin/env python3
"""Compares every Swift target's `import` lines with its dependencies in Package.swift.

An import that Package.swift does not declare builds only by accident (through another
target's module map) and hides a dependency; a declared dependency that no file imports is a
dependency that is not there. Both are errors, each naming the target and the module.
Run from the package root: python3 scripts/check-imports.py
"""
import os
import re
import sys

# Modules of the toolchain and the OS, never declared in Package.swift.
SYSTEM = {"Foundation", "FoundationEssentials", "Glibc", "Darwin", "Musl", "XCTest", "Dispatch",
          "Synchronization", "_Concurrency", "os", "PackageDescription", "_Builtin_intrinsics"}
# Targets whose dependencies are not imported by name: C modules that are only linked, and
# test targets may declare a dependency for its resources. None at present.
LINK_ONLY = set()


def calls(text, names):
    """Yields (kind, body) for each `.kind(...)` call with a balanced body."""
    for m in re.finditer(r"\.(%s)\(" % "|".join(names), text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        yield m.group(1), text[m.end():i - 1]


def dependency_list(body):
    m = re.search(r"dependencies:\s*\[", body)
    if not m:
        return []
    depth, i = 1, m.end()
    while depth and i < len(body):
        depth += {"[": 1, "]": -1}.get(body[i], 0)
        i += 1
    inner = body[m.end():i - 1]
    products = re.findall(r'\.product\(\s*name:\s*"([^"]+)"', inner)
    inner = re.sub(r"\.product\([^)]*\)", "", inner)
    return re.findall(r'"([^"]+)"', inner) + products


def main():
    text = open("Package.swift").read()
    text = re.sub(r"//[^\n]*", "", text)
    problems, checked = [], 0
    for kind, body in calls(text, ["target", "testTarget", "executableTarget"]):
        name = re.search(r'name:\s*"([^"]+)"', body).group(1)
        path = re.search(r'path:\s*"([^"]+)"', body)
        directory = path.group(1) if path else ("Tests/" if kind == "testTarget" else "Sources/") + name
        declared = set(dependency_list(body))
        imported = {}
        for root, _, files in os.walk(directory):
            for f in sorted(files):
                if not f.endswith(".swift"):
                    continue
                p = os.path.join(root, f)
                for n, line in enumerate(open(p, encoding="utf-8"), 1):
                    m = re.match(r"\s*(?:@\w+\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_]\w*)", line)
                    if m and m.group(1) not in SYSTEM:
                        imported.setdefault(m.group(1), f"{p}:{n}")
        checked += 1
        for module, where in sorted(imported.items()):
            if module not in declared:
                problems.append(f"{name}: imports {module} ({where}) but Package.swift does not declare it")
        for module in sorted(declared - set(imported) - LINK_ONLY):
            if module.startswith("C"):
                # A C module may be used only from the target's own C sources.
                if any(f.endswith((".c", ".h")) for _, _, fs in os.walk(directory) for f in fs):
                    continue
            problems.append(f"{name}: Package.swift declares {module}, which no file of {directory} imports")
    for p in problems:
        print("check-imports: " + p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check-imports: {checked} targets, every import declared and every dependency imported")


if __name__ == "__main__":
    main()
