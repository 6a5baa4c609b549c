"""The README's Layout section is a map of the code that stays true: every package is named
in it, and so is every module of 300 lines or more; everything it names exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LONG_MODULE_LINES = 300


def _layout_entries() -> set[str]:
    """The paths the Layout block names: ``  devices/`` under ``bench/`` is ``bench/devices/``."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"^## Layout\n.*?^```\n(.*?)^```", readme, re.S | re.M)
    assert block, "README.md has no Layout section with a code block"
    entries: set[str] = set()
    parents: list[tuple[int, str]] = []
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        name = line.split()[0]
        while parents and parents[-1][0] >= indent:
            parents.pop()
        path = (parents[-1][1] if parents else "") + name
        entries.add(path)
        if name.endswith("/"):
            parents.append((indent, path))
    return entries


def _code_paths() -> tuple[set[str], set[str]]:
    packages, long_modules = set(), set()
    for top in ("bench", "scenarios"):
        for path in (ROOT / top).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if path.name == "__init__.py":
                packages.add(f"{relative.parent}/")
            if len(path.read_text().splitlines()) >= LONG_MODULE_LINES:
                long_modules.add(str(relative) if path.name != "__init__.py" else f"{relative.parent}/")
    return packages, long_modules


def test_every_package_and_every_long_module_is_in_the_layout():
    entries = _layout_entries()
    packages, long_modules = _code_paths()
    assert sorted(packages - entries) == []
    assert sorted(long_modules - entries) == []


def test_everything_the_layout_names_exists():
    missing = [entry for entry in _layout_entries() if "<" not in entry and not (ROOT / entry).exists()]
    assert missing == []
