"""The HTML report opened in a real headless browser: Debian's chromium, driven by Playwright.

The report of a stored run (tests/data/results_real_tls.json) is rendered into a temporary
folder and opened as ``file://.../report.html``. The page must load without a console error,
a page (uncaught script) error or a failed request; the appendix must be folded (a closed
``<details>``) and open when a link leads into it; once it is open, every image must have
decoded (natural width > 0) and be laid out; the section headings must be there and the
in-page links must lead somewhere; and a full-page screenshot is written next to the report.

The page is also opened 390 px wide (a phone): the contents list must not overlap itself or
run out of its box, the page must not scroll sideways, and no code span may stand apart
from the punctuation after it.

Playwright drives the system's chromium (``executable_path``): it never downloads a browser
(``playwright install`` is not needed and not called). ``--no-sandbox`` because the tests run
as root. Without chromium or playwright the tests skip, except under CI (``CI=true``), where
that is a failure: the point of CI is to run them. ``scripts/setup-host.sh`` installs chromium
and the ``test`` extra installs playwright.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.report import render
from bench.results import load

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data"
RESULTS = DATA / "results_real_tls.json"
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 60_000
REQUIRED_HEADINGS = {"Decision: which protocol, for which user", "Claims", "Scenario: bulk-fetch", "Integrity",
                     "Capabilities", "Per-command latency", "Integrity of every cell"}

# Every image the page uses: <img>, <object>/<embed> data, SVG <image> and CSS background
# images. Each is loaded again as an Image to learn whether it decodes; an <img> also reports
# its own state and layout size.
_IMAGES_JS = """
async () => {
    const imgs = Array.from(document.images).map(img => ({
        src: img.currentSrc.slice(0, 80),
        alt: img.alt,
        complete: img.complete,
        naturalWidth: img.naturalWidth,
        naturalHeight: img.naturalHeight,
        width: img.getBoundingClientRect().width,
        height: img.getBoundingClientRect().height,
    }));
    const others = [];
    for (const el of document.querySelectorAll('object[data], embed[src]')) {
        others.push({kind: el.tagName.toLowerCase(), url: el.data || el.src});
    }
    for (const el of document.querySelectorAll('svg image')) {
        const href = el.href && el.href.baseVal;
        if (href) others.push({kind: 'svg image', url: new URL(href, document.baseURI).href});
    }
    for (const el of document.querySelectorAll('*')) {
        for (const pseudo of [null, '::before', '::after']) {
            const bg = getComputedStyle(el, pseudo).backgroundImage;
            for (const m of bg.matchAll(/url\\(["']?([^"')]+)["']?\\)/g)) {
                others.push({kind: 'background', url: m[1]});
            }
        }
    }
    const decode = url => new Promise(resolve => {
        const probe = new Image();
        probe.onload = () => resolve(probe.naturalWidth);
        probe.onerror = () => resolve(0);
        probe.src = url;
    });
    for (const other of others) {
        other.naturalWidth = await decode(other.url);
        other.url = other.url.slice(0, 80);
    }
    return {imgs, others};
}
"""

# At a phone's width: in the contents list, each entry's text (the rectangles of its lines) and
# the room its number takes left of it (the list's left padding, where the first column's
# numbers stand); any two of those overlapping, an entry whose text runs out of the list, and
# how far the page is wider than the screen.
_NARROW_JS = """
() => {
    const list = document.querySelector('nav ol');
    const room = parseFloat(getComputedStyle(list).paddingLeft);
    const bounds = list.getBoundingClientRect();
    const items = Array.from(list.querySelectorAll('li')).map(li => {
        const range = document.createRange();
        range.selectNodeContents(li);
        const lines = Array.from(range.getClientRects()).filter(r => r.width > 0);
        const box = li.getBoundingClientRect();
        const first = lines.length ? lines[0] : box;
        return {text: li.innerText.slice(0, 40), lines,
                number: {left: box.left - room, right: box.left, top: first.top, bottom: first.bottom}};
    });
    const meet = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5
                        && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
    const overlaps = [];
    items.forEach((a, i) => items.forEach((b, j) => {
        if (i === j) return;
        if (a.lines.some(line => meet(line, b.number) || (j > i && b.lines.some(other => meet(line, other))))) {
            overlaps.push([a.text, b.text]);
        }
    }));
    const outside = items.filter(i => i.lines.some(r => r.right > bounds.right + 1)).map(i => i.text);
    return {count: items.length, overlaps, outside,
            pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth};
}
"""

# The gap between the last character of each code span and the punctuation right after it,
# in CSS pixels: the code's padding and background would show as a space.
_CODE_GAPS_JS = """
() => Array.from(document.querySelectorAll('code')).flatMap(code => {
    const next = code.nextSibling;
    if (!next || next.nodeType !== Node.TEXT_NODE || !/^[,.;:!?)\\]]/.test(next.textContent)) return [];
    const own = code.lastChild;
    if (!own || own.nodeType !== Node.TEXT_NODE || !own.textContent.length) return [];
    const last = document.createRange(), range = document.createRange();
    last.setStart(own, own.textContent.length - 1);
    last.setEnd(own, own.textContent.length);
    range.setStart(next, 0);
    range.setEnd(next, 1);
    const mark = range.getBoundingClientRect(), end = last.getBoundingClientRect();
    if (Math.abs(mark.top - end.top) > end.height) return [];  // wrapped to the next line
    return [{code: code.textContent.slice(0, 40), gap: mark.left - end.right}];
})
"""

_ANCHORS_JS = """
() => Array.from(document.querySelectorAll('a[href^="#"]'))
    .map(a => a.getAttribute('href'))
    .filter(h => h.length > 1 && !document.getElementById(decodeURIComponent(h.slice(1))))
"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str):
    if _in_ci():
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@dataclass
class LoadedReport:
    """What the browser saw of the report."""

    html: Path
    charts: list[Path]
    screenshot: Path
    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    images: dict = field(default_factory=dict)
    headings: list[str] = field(default_factory=list)
    appendix_open_at_load: bool | None = None
    appendix_opened_by_link: bool | None = None
    narrow: dict = field(default_factory=dict)
    code_gaps: list = field(default_factory=list)
    broken_anchors: list[str] = field(default_factory=list)
    title: str = ""
    scroll_size: tuple[int, int] = (0, 0)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> LoadedReport:
    chromium = shutil.which("chromium")
    if chromium is None:
        _unavailable("chromium is not installed (Debian: apt-get install chromium; scripts/setup-host.sh does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")

    out_dir = tmp_path_factory.mktemp("report")
    files = render(load(RESULTS), out_dir)
    report = LoadedReport(html=files.html, charts=files.charts, screenshot=out_dir / "report.png")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], timeout=TIMEOUT_MS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: report.console.append((m.type, m.text)))
            page.on("pageerror", lambda e: report.page_errors.append(str(e)))
            page.on("requestfailed", lambda r: report.failed_requests.append(f"{r.url[:80]}: {r.failure}"))
            page.goto(files.html.as_uri(), wait_until="load")
            page.wait_for_function("Array.from(document.images).every(i => i.complete)")
            report.appendix_open_at_load = page.evaluate("document.getElementById('appendix').open")
            # a link from the report into the appendix (a claim's evidence) opens it
            page.locator('a[href^="#evidence-"]').first.click()
            report.appendix_opened_by_link = page.evaluate("document.getElementById('appendix').open")
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
            page.wait_for_function("Array.from(document.images).every(i => i.complete)")
            report.images = page.evaluate(_IMAGES_JS)
            report.headings = [h.strip() for h in page.locator("h2").all_inner_texts()]
            report.broken_anchors = page.evaluate(_ANCHORS_JS)
            report.title = page.title()
            report.scroll_size = tuple(
                page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            )
            page.screenshot(path=str(report.screenshot), full_page=True)
            report.code_gaps = page.evaluate(_CODE_GAPS_JS)
            phone = browser.new_page(viewport=PHONE)
            phone.set_default_timeout(TIMEOUT_MS)
            phone.goto(files.html.as_uri(), wait_until="load")
            report.narrow = phone.evaluate(_NARROW_JS)
            phone.screenshot(path=str(out_dir / "report-390.png"))
        finally:
            browser.close()
    return report


def test_no_console_error_page_error_or_failed_request(loaded):
    errors = [text for kind, text in loaded.console if kind == "error"]
    assert errors == [], f"console errors: {errors}"
    assert loaded.page_errors == [], f"page errors: {loaded.page_errors}"
    assert loaded.failed_requests == [], f"failed requests: {loaded.failed_requests}"


def test_every_image_loaded_and_is_shown(loaded):
    imgs = loaded.images["imgs"]
    # One image per chart (each chart is written as PNG and SVG; the page shows one of them).
    assert len(imgs) >= len({chart.stem for chart in loaded.charts}) > 0
    broken = [i for i in imgs if not i["complete"] or i["naturalWidth"] <= 0 or i["naturalHeight"] <= 0]
    assert broken == [], f"images that did not load: {broken}"
    hidden = [i for i in imgs if i["width"] <= 0 or i["height"] <= 0]
    assert hidden == [], f"images laid out with no size: {hidden}"
    assert all(i["alt"] for i in imgs), "every image has alt text"
    others = [o for o in loaded.images["others"] if o["naturalWidth"] <= 0]
    assert others == [], f"object, SVG or background images that did not load: {others}"


def test_appendix_is_folded_and_a_link_opens_it(loaded):
    assert loaded.appendix_open_at_load is False
    assert loaded.appendix_opened_by_link is True


def test_contents_list_does_not_overlap_at_a_phone_s_width(loaded):
    narrow = loaded.narrow
    assert narrow["count"] > 5
    assert narrow["overlaps"] == [], f"contents entries overlapping at 390 px: {narrow['overlaps']}"
    assert narrow["outside"] == [], f"contents entries running out of the list: {narrow['outside']}"
    assert narrow["pageWidth"] <= narrow["viewport"], "the page scrolls sideways at 390 px"


def test_no_gap_between_a_code_span_and_its_punctuation(loaded):
    assert loaded.code_gaps, "the report has code spans followed by punctuation"
    apart = [g for g in loaded.code_gaps if g["gap"] > 1.0]
    assert apart == [], f"punctuation standing apart from its code span: {apart[:5]}"


def test_sections_and_in_page_links(loaded):
    assert loaded.title.startswith("mailbench report")
    missing = REQUIRED_HEADINGS - set(loaded.headings)
    assert not missing, f"missing sections {sorted(missing)}; the page has {loaded.headings}"
    assert loaded.broken_anchors == [], f"links to no element: {loaded.broken_anchors}"


def test_full_page_screenshot_written(loaded):
    from PIL import Image

    shot = loaded.screenshot
    assert shot.is_file()
    assert shot.stat().st_size > 200_000  # a blank page of this height compresses to far less
    with Image.open(shot) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width == VIEWPORT["width"]
        assert height == loaded.scroll_size[1] > VIEWPORT["height"]  # the whole page, not the viewport
        darkest, lightest = image.convert("L").getextrema()
        assert lightest - darkest > 128  # text on a background, not one flat colour
