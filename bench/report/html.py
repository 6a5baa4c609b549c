"""The document as one self-contained HTML file: ``report.html``.

Styles are embedded and every chart is embedded as an SVG data URI, so the file can be
mailed or archived alone: it loads nothing from anywhere and needs no JavaScript.

The appendix (``appendix.md`` in Markdown) is part of the same page, folded: a closed
``<details id="appendix">`` after the report. Links into it work as in-page links (browsers
open a closed ``<details>`` when a link leads into it); its charts are embedded too.
"""

from __future__ import annotations

import base64
import re
from html import escape
from pathlib import Path

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
    plain,
)

SHORT = 24  # table cells up to this many characters are kept on one line
APPENDIX = "appendix"  # the id of the folded appendix
# Text that follows a code span with no space: the code's right padding would look like one.
PUNCTUATION = re.compile(r"^[,.;:!?)\]]")

CSS = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; --band: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: var(--ink); max-width: 72rem; margin: 0 auto; padding: 1.5rem 1.5rem 4rem; }
h1 { font-size: 1.7rem; margin-bottom: .25rem; }
h2 { font-size: 1.35rem; border-bottom: 1px solid var(--rule); padding-bottom: .25rem; margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin-top: 1.75rem; }
nav ol { columns: 2; column-gap: 2rem; padding-left: 1.25rem; }
nav li { break-inside: avoid; overflow-wrap: anywhere; }
code { font: .86em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: var(--band); padding: .05em .3em; border-radius: 4px; overflow-wrap: anywhere; }
code.tight { padding-right: 0; border-radius: 4px 0 0 4px; }
pre { background: var(--band); padding: .75rem 1rem; border-radius: 6px; overflow-x: auto; }
pre code { background: none; padding: 0; }
.table { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: collapse; font-size: .88rem; }
caption { caption-side: top; text-align: left; color: var(--muted); font-style: italic; padding-bottom: .35rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .35rem .6rem; vertical-align: top; text-align: left; }
th { background: var(--band); font-weight: 600; white-space: nowrap; }
td.short, td a { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.range, .same { display: block; color: var(--muted); font-size: .8em; }
details.appendix { margin-top: 3rem; border-top: 2px solid var(--rule); }
details.appendix > summary { cursor: pointer; font-size: 1.35rem; font-weight: 600; padding: 1rem 0; }
@media (max-width: 40rem) {
  body { padding: 1rem .75rem 3rem; }
  nav ol { columns: 1; }
}
figure { margin: 1.5rem 0; }
figure img { width: 100%; max-width: 800px; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .88rem; max-width: 800px; }
"""


def inline(piece: Inline) -> str:
    if isinstance(piece, str):
        return escape(piece)
    if isinstance(piece, Code):
        return f"<code>{escape(piece.text)}</code>"
    if isinstance(piece, Strong):
        return f"<strong>{escape(piece.text)}</strong>"
    if isinstance(piece, Spread):
        if piece.low == piece.high == piece.median:
            return escape(piece.median)
        return f'{escape(piece.median)}<span class="range">{escape(piece.low)}–{escape(piece.high)}</span>'
    if isinstance(piece, Same):
        if piece.samples < 2:
            return escape(piece.value)
        return f'{escape(piece.value)}<span class="same">all {piece.samples} samples</span>'
    if isinstance(piece, Link):
        return f'<a href="#{escape(piece.target)}">{escape(piece.text)}</a>'
    if isinstance(piece, Anchor):
        return f'<a id="{escape(piece.name)}"></a>'
    if isinstance(piece, Break):
        return "<br>"
    raise TypeError(f"cannot render {piece!r} as HTML")


def run(parts: Text) -> str:
    out = []
    for i, piece in enumerate(parts):
        after = parts[i + 1] if i + 1 < len(parts) else ""
        if isinstance(piece, Code) and isinstance(after, str) and PUNCTUATION.match(after):
            out.append(f'<code class="tight">{escape(piece.text)}</code>')
        else:
            out.append(inline(piece))
    return "".join(out)


class HtmlRenderer:
    """Renders one document; ``base`` is the report folder that holds the chart files."""

    def __init__(self, base: Path) -> None:
        self.base = Path(base)

    def chart(self, chart: Chart) -> str:
        svg = (self.base / f"{chart.stem}.svg").read_bytes()
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
        return (
            f'<figure><img src="{uri}" alt="{escape(chart.alt)}">'
            f"<figcaption>{escape(chart.caption)}</figcaption></figure>"
        )

    def table(self, table: Table) -> str:
        def cls(i: int, cell: Text = ()) -> str:
            if table.is_numeric(i):
                return ' class="num"'
            # Short words such as "pop3-delete" must not break at their hyphen.
            return ' class="short"' if 0 < len(plain(cell)) <= SHORT else ""

        head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(table.headers))
        body = "".join(
            "<tr>" + "".join(f"<td{cls(i, cell)}>{run(cell)}</td>" for i, cell in enumerate(row)) + "</tr>"
            for row in table.rows
        )
        caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
        return f'<div class="table"><table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'

    def block(self, item: Block) -> str:
        if isinstance(item, Paragraph):
            return f"<p>{run(item.parts)}</p>"
        if isinstance(item, BulletList):
            return "<ul>" + "".join(f"<li>{run(entry)}</li>" for entry in item.items) + "</ul>"
        if isinstance(item, Table):
            return self.table(item)
        if isinstance(item, Chart):
            return self.chart(item)
        if isinstance(item, CodeBlock):
            return f"<pre><code>{escape(item.text)}</code></pre>"
        raise TypeError(f"cannot render {item!r} as HTML")

    def section(self, section: Section, level: int, anchors: dict[int, str]) -> str:
        parts = [f'<section id="{anchors[id(section)]}">', f"<h{level}>{escape(section.title)}</h{level}>"]
        parts += [self.block(item) for item in section.blocks]
        parts += [self.section(child, level + 1, anchors) for child in section.children]
        parts.append("</section>")
        return "\n".join(parts)

    def appendix(self, appendix: Document, anchors: dict[int, str]) -> str:
        """The appendix, folded: its title as the summary line, then its intro and sections."""
        intro = "\n".join(self.block(item) for item in appendix.intro)
        body = "\n".join(self.section(s, 2, anchors) for s in appendix.sections)
        return (f'<details class="appendix" id="{APPENDIX}">\n<summary>{escape(appendix.title)}</summary>\n'
                f"{intro}\n{body}\n</details>\n")

    def render(self, document: Document, appendix: Document | None = None) -> str:
        anchors: dict[int, str] = {}  # keyed by id(): sections are mutable, not hashable
        used: set[str] = {APPENDIX}
        walked = [*document.walk(), *(appendix.walk() if appendix is not None else ())]
        for _, section in walked:
            anchor, n = section.anchor, 2
            while anchor in used:
                anchor, n = f"{section.anchor}-{n}", n + 1
            used.add(anchor)
            anchors[id(section)] = anchor
        toc = "".join(
            f'<li><a href="#{anchors[id(s)]}">{escape(s.title)}</a></li>' for s in document.sections
        )
        if appendix is not None:
            toc += f'<li><a href="#{APPENDIX}">{escape(appendix.title)}</a></li>'
        body = "\n".join(self.section(s, 2, anchors) for s in document.sections)
        folded = self.appendix(appendix, anchors) if appendix is not None else ""
        intro = "\n".join(self.block(item) for item in document.intro)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(document.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{escape(document.title)}</h1>\n{intro}</header>\n"
            f'<nav aria-label="Contents"><ol>{toc}</ol></nav>\n<main>\n{body}\n{folded}</main>\n</body>\n</html>\n'
        )


def render(document: Document, base: Path, appendix: Document | None = None) -> str:
    """The HTML text of the document, with ``appendix`` folded at its end; chart files are
    read from ``base``."""
    return HtmlRenderer(base).render(document, appendix)
