"""The document as Markdown (CommonMark with GitHub tables): ``report.md``.

Charts are linked as ``charts/<name>.png``, relative to the report, with the SVG beside.
"""

from __future__ import annotations

import re

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


def inline(piece: Inline) -> str:
    if isinstance(piece, str):
        return escape(piece)
    if isinstance(piece, Code):
        return _code(piece.text)
    if isinstance(piece, Strong):
        return f"**{escape(piece.text)}**"
    if isinstance(piece, Spread):
        return escape(piece.plain)
    if isinstance(piece, Link):
        return f"[{escape(piece.text)}](#{piece.target})"
    if isinstance(piece, Anchor):  # raw HTML: GitHub and most renderers keep it as a link target
        return f'<a id="{piece.name}"></a>'
    if isinstance(piece, Break):
        return "<br>"
    raise TypeError(f"cannot render {piece!r} as Markdown")


def run(parts: Text) -> str:
    return "".join(inline(piece) for piece in parts)


def _table(table: Table) -> str:
    lines = []
    if table.caption:
        lines += [f"*{escape(table.caption)}*", ""]
    lines.append("| " + " | ".join(escape(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---:" if table.is_numeric(i) else "---" for i in range(len(table.headers))) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(run(cell) for cell in row) + " |")
    return "\n".join(lines)


def block(item: Block) -> str:
    if isinstance(item, Paragraph):
        return run(item.parts)
    if isinstance(item, BulletList):
        return "\n".join(f"- {run(entry)}" for entry in item.items)
    if isinstance(item, Table):
        return _table(item)
    if isinstance(item, Chart):
        return (
            f"![{escape(item.alt)}]({item.stem}.png)\n\n"
            f"*{escape(item.caption)}* ([SVG]({item.stem}.svg))"
        )
    if isinstance(item, CodeBlock):
        fence = "`" * max(3, max((len(r) for r in re.findall("`+", item.text)), default=0) + 1)
        return f"{fence}sh\n{item.text}\n{fence}"
    raise TypeError(f"cannot render {item!r} as Markdown")


def _section(section: Section, level: int) -> list[str]:
    parts = [f"{'#' * level} {escape(section.title)}"]
    parts += [block(item) for item in section.blocks]
    for child in section.children:
        parts += _section(child, level + 1)
    return parts


def render(document: Document) -> str:
    parts = [f"# {escape(document.title)}"]
    parts += [block(item) for item in document.intro]
    for section in document.sections:
        parts += _section(section, 2)
    return "\n\n".join(parts) + "\n"
