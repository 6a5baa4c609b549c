"""The document as Markdown (CommonMark with GitHub tables): ``report.md``, ``appendix.md``.

Charts are linked as ``charts/<name>.png``, relative to the report, with the SVG beside.
The report is two files: a link whose target is not in the document being rendered but in
another (``elsewhere``: file name → document) leads to that file (``appendix.md#cell-...``),
and a section that any link leads to gets an explicit anchor on its heading, so links do not
depend on how a Markdown viewer makes ids from headings.
"""

from __future__ import annotations

import re

from collections.abc import Mapping

from bench.report.document import (
    Anchor,
    Block,
    Break,
    BulletList,
    Chart,
    Code,
    CodeBlock,
    Document,
    Inline,
    Link,
    Paragraph,
    Same,
    Section,
    Spread,
    Strong,
    Table,
    Text,
)

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def escape(words: str) -> str:
    """Plain words that Markdown must not read as markup."""
    return _SPECIAL.sub(r"\\\1", words)


def _code(literal: str) -> str:
    # A code span is fenced by more backticks than it contains; pipes are escaped for tables.
    fence = "`" * (max((len(run) for run in re.findall("`+", literal)), default=0) + 1)
    pad = " " if literal.startswith("`") or literal.endswith("`") else ""
    return f"{fence}{pad}{literal.replace('|', '&#124;')}{pad}{fence}"


def inline(piece: Inline, files: Mapping[str, str] | None = None) -> str:
    """One piece as Markdown; ``files`` maps a link target kept in another file to that file."""
    if isinstance(piece, str):
        return escape(piece)
    if isinstance(piece, Code):
        return _code(piece.text)
    if isinstance(piece, Strong):
        return f"**{escape(piece.text)}**"
    if isinstance(piece, (Spread, Same)):
        return escape(piece.plain)
    if isinstance(piece, Link):
        return f"[{escape(piece.text)}]({(files or {}).get(piece.target, '')}#{piece.target})"
    if isinstance(piece, Anchor):  # raw HTML: GitHub and most renderers keep it as a link target
        return f'<a id="{piece.name}"></a>'
    if isinstance(piece, Break):
        return "<br>"
    raise TypeError(f"cannot render {piece!r} as Markdown")


def run(parts: Text, files: Mapping[str, str] | None = None) -> str:
    return "".join(inline(piece, files) for piece in parts)


def _table(table: Table, files: Mapping[str, str] | None = None) -> str:
    lines = []
    if table.caption:
        lines += [f"*{escape(table.caption)}*", ""]
    lines.append("| " + " | ".join(escape(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---:" if table.is_numeric(i) else "---" for i in range(len(table.headers))) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(run(cell, files) for cell in row) + " |")
    return "\n".join(lines)


def block(item: Block, files: Mapping[str, str] | None = None) -> str:
    if isinstance(item, Paragraph):
        return run(item.parts, files)
    if isinstance(item, BulletList):
        return "\n".join(f"- {run(entry, files)}" for entry in item.items)
    if isinstance(item, Table):
        return _table(item, files)
    if isinstance(item, Chart):
        return (
            f"![{escape(item.alt)}]({item.stem}.png)\n\n"
            f"*{escape(item.caption)}* ([SVG]({item.stem}.svg))"
        )
    if isinstance(item, CodeBlock):
        fence = "`" * max(3, max((len(r) for r in re.findall("`+", item.text)), default=0) + 1)
        return f"{fence}sh\n{item.text}\n{fence}"
    raise TypeError(f"cannot render {item!r} as Markdown")


def _section(section: Section, level: int, files: Mapping[str, str], linked: set[str]) -> list[str]:
    anchor = f'<a id="{section.anchor}"></a>' if section.anchor in linked else ""
    parts = [f"{'#' * level} {anchor}{escape(section.title)}"]
    parts += [block(item, files) for item in section.blocks]
    for child in section.children:
        parts += _section(child, level + 1, files, linked)
    return parts


def render(document: Document, elsewhere: Mapping[str, Document] | None = None) -> str:
    """The document as Markdown; ``elsewhere`` (file name → document) holds the other files
    of the same report, which links may lead to and which may link here."""
    elsewhere = dict(elsewhere or {})
    here = document.anchors()
    files = {target: name for name, other in elsewhere.items()
             for target in other.anchors() - here}
    linked = document.link_targets().union(*(other.link_targets() for other in elsewhere.values()))
    parts = [f"# {escape(document.title)}"]
    parts += [block(item, files) for item in document.intro]
    for section in document.sections:
        parts += _section(section, 2, files, linked)
    return "\n\n".join(parts) + "\n"
