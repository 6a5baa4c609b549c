"""The report as a document: sections of paragraphs, lists, tables and charts.

The document is built once from the results (``bench.report.sections.build_document``)
and every output format renders this same tree, so Markdown and HTML always say the
same thing. Nothing here knows about mail, results or any output format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Code:
    """Literal text: a command, a message id, an error."""

    text: str


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Spread:
    """A median with the range of the samples around it: 0.318 (0.301–0.334)."""

    median: str
    low: str
    high: str

    @property
    def plain(self) -> str:
        if self.low == self.high == self.median:
            return self.median
        return f"{self.median} ({self.low}–{self.high})"


@dataclass(frozen=True)
class Same:
    """A figure that every sample of a cell had: 7 (all 3 samples). Not a range of equal
    values, and not a median of figures that differ by construction."""

    value: str
    samples: int

    @property
    def plain(self) -> str:
        return self.value if self.samples < 2 else f"{self.value} (all {self.samples} samples)"


@dataclass(frozen=True)
class Link:
    """Words that lead to an ``Anchor`` or a section: in the same document, or in the other
    part of the report (the appendix), which the renderers resolve."""

    text: str
    target: str


@dataclass(frozen=True)
class Anchor:
    """An invisible place a ``Link`` can lead to, such as one cell's row in a table."""

    name: str


@dataclass(frozen=True)
class Break:
    """A line break, for several short lines in one table cell."""


Inline = str | Code | Strong | Spread | Same | Link | Anchor | Break
Text = tuple[Inline, ...]
INLINES = (str, Code, Strong, Spread, Same, Link, Anchor, Break)


def text(*parts: Inline | Iterable[Inline]) -> Text:
    """A run of inline pieces; nested runs are flattened and empty strings dropped."""
    flat: list[Inline] = []
    for part in parts:
        if isinstance(part, INLINES):
            if part != "":
                flat.append(part)
        else:
            flat.extend(text(*part))
    return tuple(flat)


def joined(pieces: Sequence[Inline], separator: str = ", ") -> list[Inline]:
    """The pieces with ``separator`` between each two: ``a, b, c``."""
    out: list[Inline] = []
    for piece in pieces:
        out += [separator, piece] if out else [piece]
    return out


def plain(run: Text) -> str:
    """The words of a run without any markup, e.g. for tests and alt texts."""
    return "".join(_plain(piece) for piece in run)


def _plain(piece: Inline) -> str:
    if isinstance(piece, str):
        return piece
    if isinstance(piece, (Spread, Same)):
        return piece.plain
    if isinstance(piece, Anchor):
        return ""
    if isinstance(piece, Break):
        return "\n"
    return piece.text


@dataclass(frozen=True)
class Paragraph:
    parts: Text


@dataclass(frozen=True)
class BulletList:
    items: tuple[Text, ...]


@dataclass(frozen=True)
class Table:
    """Rows of cells; ``numeric`` marks the columns to align right."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Text, ...], ...]
    numeric: tuple[bool, ...] = ()
    caption: str = ""

    def is_numeric(self, column: int) -> bool:
        return column < len(self.numeric) and self.numeric[column]


@dataclass(frozen=True)
class Chart:
    """A chart written by ``bench.report.charts``: ``stem`` is its path below the report
    folder without extension (``charts/bulk-fetch-dovecot-time``); PNG and SVG exist."""

    stem: str
    alt: str
    caption: str


@dataclass(frozen=True)
class CodeBlock:
    text: str


Block = Paragraph | BulletList | Table | Chart | CodeBlock


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return slug(self.title)

    def walk(self, level: int = 2) -> Iterable[tuple[int, Section]]:
        """This section and every section below it, with heading levels (2 = top)."""
        yield level, self
        for child in self.children:
            yield from child.walk(level + 1)


@dataclass
class Document:
    title: str
    intro: list[Block] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def walk(self) -> Iterable[tuple[int, Section]]:
        for section in self.sections:
            yield from section.walk()

    def section(self, title: str) -> Section:
        for _, section in self.walk():
            if section.title == title:
                return section
        raise KeyError(f"no section titled {title!r}")

    def charts(self) -> list[Chart]:
        return [block for _, s in self.walk() for block in s.blocks if isinstance(block, Chart)]

    def runs(self) -> Iterable[Text]:
        """Every run of inline pieces: paragraphs, list items and table cells."""
        blocks = [*self.intro, *(block for _, s in self.walk() for block in s.blocks)]
        for block in blocks:
            if isinstance(block, Paragraph):
                yield block.parts
            elif isinstance(block, BulletList):
                yield from block.items
            elif isinstance(block, Table):
                yield from (cell for row in block.rows for cell in row)

    def anchors(self) -> set[str]:
        """Every place a link can lead to in this document: sections and ``Anchor``s."""
        found = {s.anchor for _, s in self.walk()}
        found.update(piece.name for run in self.runs() for piece in run if isinstance(piece, Anchor))
        return found

    def link_targets(self) -> set[str]:
        """Where this document's links lead."""
        return {piece.target for run in self.runs() for piece in run if isinstance(piece, Link)}


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
