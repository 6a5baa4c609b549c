"""Seeded, realistic e-mail messages, regenerated on demand.

Message ``i`` of seed ``s`` is a pure function of ``(s, i)``: it draws from its own
``random.Random`` seeded with both, so a corpus can be streamed into a mailbox and
regenerated later for a check, and ``start`` continues a sequence ("new mail").

Each message has the headers a delivered message carries (Return-Path, Received, Date,
From, To, Subject, ``Message-ID: <mb-{seed}-{i}@mailbench.test>``, MIME-Version,
Content-Type); messages under 1,600 bytes keep only the essential fields. About 15% are
in UTF-8: subject and sender name encoded per RFC 2047, text in quoted-printable.

Its size is drawn from the measured distribution in ``bench.corpus.sizes`` and it is built
to within a few bytes of it: small ones are plain text or HTML with a text alternative,
large ones carry base64 attachments whose bytes come from the same seeded generator (the
smallest possible message is about 900 bytes, whatever ``max_bytes`` says). Text and base64
lines are under 80 octets, HTML lines under 120 (RFC 5322 allows 998); no body line
starts with ``From `` (so an mbox export round-trips); each message is already canonical.

Bytes depend only on ``(seed, i)`` and Python's ``random`` algorithms, which have been
stable across CPython 3 releases. Attachments, most of a large corpus's bytes, are made
with numpy (``_random_bytes``, ``_base64_lines``): the same bytes as ``Random.randbytes``
and ``base64.encodebytes``, without a Python loop per line of base64.
"""

from __future__ import annotations

import binascii
import bisect
import itertools
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, formataddr

import numpy as np

from bench.corpus.sizes import DEFAULT_MAX_BYTES, KIB, MESSAGE_SIZES

DOMAIN = "mailbench.test"
CRLF = "\r\n"

_WORDS = (
    "the of and to in is for on that with as this be are by it from at or an have will "
    "project report meeting budget review draft schedule team client update release "
    "server mailbox folder message sync device network latency offline quarter invoice "
    "customer support ticket deadline proposal contract agenda minutes slides figures "
    "please thanks regards attached below above following next week today tomorrow "
    "monday friday morning afternoon office remote call notes action items owner status "
    "approved pending blocked risk plan estimate cost revenue growth results summary "
    "question answer issue fix test build deploy backup storage quota limit policy"
).split()
_WORDS_UTF8 = (
    "Grüße Straße München Größe Übersicht Änderung café résumé déjà naïve façade "
    "Zürich Ångström señor mañana año niño Kraków Łódź żółw"
).split()
_FIRST = "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy".split()
_LAST = "Smith Jones Brown Taylor Wilson Davies Evans Thomas Roberts Walker Wright Hall".split()
# UTF-8 first names with the ASCII form their owners use in addresses.
_FIRST_UTF8 = {
    "Zoë": "zoe",
    "José": "jose",
    "Søren": "soeren",
    "Jürgen": "juergen",
    "Françoise": "francoise",
    "Łukasz": "lukasz",
    "Ana María": "anamaria",
    "Åsa": "asa",
}
_ORGS = ["example.com", "example.org", "example.net", "corp.example", "mail.example"]
_SUBJECTS = [
    "Meeting notes for {day}",
    "Quarterly report draft v{n}",
    "Invoice #{n} from {org}",
    "Re: Project schedule",
    "Fwd: Contract review",
    "Lunch on {day}?",
    "[team] Weekly status update {n}",
    "Your ticket #{n} has been updated",
    "Slides for the {day} call",
    "Re: Re: Budget questions",
]
_SUBJECTS_UTF8 = [
    "Grüße aus München",
    "Réunion de lundi : ordre du jour",
    "Café menu for {day} ☕",
    "Отчёт за квартал {n}",
    "会議の議事録 ({day})",
    "Ζητήματα προϋπολογισμού",
    "🎉 Release {n} is out",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
_ATTACHMENTS = [
    ("application/pdf", "pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
    ("image/jpeg", "jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
    ("image/png", "png", b"\x89PNG\r\n\x1a\n"),
    ("application/zip", "zip", b"PK\x03\x04\x14\x00\x00\x00"),
    ("application/octet-stream", "bin", b""),
]
_ATTACHMENT_NAMES = ["report", "scan", "photo", "slides", "invoice", "archive", "data"]
_MAILERS = ["Thunderbird 115.6", "Apple Mail (2.3774)", "Microsoft Outlook 16.0"]
_ROOMY_BYTES = 1600  # below this, a message gets only the essential header fields
_EPOCH = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


def _make_lines(rng: random.Random, words: list[str], count: int) -> tuple[str, ...]:
    """``count`` lines of words, 30 to 75 characters, about one in seven left empty.

    No line starts with "From " (an mbox would quote it) or with a dot.
    """
    openers = [word for word in words if word != "from"]
    lines = []
    for _ in range(count):
        if rng.random() < 0.14:
            lines.append("")
            continue
        width = rng.randint(30, 74)
        line = rng.choice(openers).capitalize()
        while True:
            word = rng.choice(words)
            if len(line) + 1 + len(word) > width:
                break
            line += " " + word
        lines.append(line + rng.choice(".,;:") if rng.random() < 0.5 else line)
    return tuple(lines)


# Fixed pools, made once: picking whole lines keeps generation fast.
_POOL_RNG = random.Random("mailbench-text-pool")
_ASCII_LINES = _make_lines(_POOL_RNG, _WORDS, 2048)
_UTF8_LINES = _make_lines(_POOL_RNG, _WORDS + _WORDS_UTF8 * 2, 512)


def generate_messages(
    count: int, seed: int, start: int = 0, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[bytes]:
    """Messages ``start`` .. ``start + count - 1`` of ``seed``, canonical, one at a time."""
    if count < 0 or start < 0:
        raise ValueError(f"count and start must not be negative, got {count} and {start}")
    for i in range(start, start + count):
        yield generate_message(seed, i, max_bytes=max_bytes)


def generate_message(seed: int, i: int, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Message ``i`` of ``seed``: always the same bytes for the same arguments."""
    rng = _message_random(seed, i)
    target = MESSAGE_SIZES.draw(rng, max_bytes)
    kind = _choose_kind(rng, target)
    utf8 = rng.random() < 0.15
    boundary = f"=_mb-{kind}-{seed}-{i}"
    head = _headers(rng, seed, i, utf8, _content_type(kind, boundary, utf8), target)
    chunks, pad_at = _BUILDERS[kind](rng, boundary, utf8, target - len(head) - 2)
    missing = target - len(head) - 2 - sum(len(chunk) for chunk in chunks)
    chunks.insert(pad_at, _filler(missing))
    return b"".join([head.encode("ascii"), b"\r\n", *chunks])


def message_size(seed: int, i: int, *, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """The size message ``i`` of ``seed`` is built to (it lands within a byte of it), from
    the message's first draw alone: a corpus's size without generating it."""
    return MESSAGE_SIZES.draw(_message_random(seed, i), max_bytes)


def _message_random(seed: int, i: int) -> random.Random:
    return random.Random(f"mailbench:{seed}:{i}")


def _choose_kind(rng: random.Random, target: int) -> str:
    roll = rng.random()
    if target < 2 * KIB:
        return "plain"
    if target < 8 * KIB:
        return "plain" if roll < 0.65 else "alternative"
    if target < 48 * KIB:
        return "plain" if roll < 0.35 else "alternative" if roll < 0.75 else "mixed"
    if target < 256 * KIB:
        return "alternative" if roll < 0.15 else "mixed"
    return "mixed"


def _headers(
    rng: random.Random, seed: int, i: int, utf8: bool, content_type: str, target: int
) -> str:
    """The header section; the trace and optional fields only when the size leaves room."""
    sender = _address(rng, utf8 and rng.random() < 0.5)
    when = _EPOCH + timedelta(minutes=7 * i, seconds=rng.randrange(420))
    zone = timezone(timedelta(hours=rng.choice([-8, -5, 0, 1, 2, 5, 9])))
    date = format_datetime(when.astimezone(zone))
    lines = []
    roomy = target >= _ROOMY_BYTES
    if roomy:
        relay = f"mx{rng.randint(1, 4)}.{sender[1].split('@')[1]}"
        lines += [
            f"Return-Path: <{sender[1]}>",
            f"Received: from {relay} ({relay} [192.0.2.{rng.randint(1, 254)}])",
            f"\tby mail.{DOMAIN} with ESMTPS id {rng.getrandbits(48):012X}",
            f"\tfor <user@{DOMAIN}>; {date}",
        ]
    lines += [
        f"Date: {date}",
        f"From: {_format_address(sender)}",
        f"To: {_format_address(_address(rng, False, DOMAIN))}",
    ]
    if roomy and rng.random() < 0.2:
        lines.append(f"Cc: {_format_address(_address(rng, False))}")
    lines.append(f"Subject: {_subject(rng, utf8)}")
    lines.append(f"Message-ID: <mb-{seed}-{i}@{DOMAIN}>")
    if roomy and i > 0 and rng.random() < 0.3:
        parent = f"<mb-{seed}-{rng.randrange(i)}@{DOMAIN}>"
        lines += [f"In-Reply-To: {parent}", f"References: {parent}"]
    if roomy and rng.random() < 0.4:
        lines.append(f"X-Mailer: {rng.choice(_MAILERS)}")
    lines.append("MIME-Version: 1.0")
    lines.append(content_type)
    return CRLF.join(lines) + CRLF


def _address(rng: random.Random, utf8: bool, domain: str | None = None) -> tuple[str, str]:
    first = rng.choice(list(_FIRST_UTF8) if utf8 else _FIRST)
    last = rng.choice(_LAST)
    local = f"{_FIRST_UTF8.get(first, first)}.{last}".lower()
    return f"{first} {last}", f"{local}@{domain or rng.choice(_ORGS)}"


def _format_address(address: tuple[str, str]) -> str:
    return formataddr(address, charset="utf-8")


def _subject(rng: random.Random, utf8: bool) -> str:
    template = rng.choice(_SUBJECTS_UTF8 if utf8 else _SUBJECTS)
    text = template.format(day=rng.choice(_DAYS), n=rng.randint(2, 9999), org=rng.choice(_ORGS))
    if text.isascii():
        return text
    return Header(text, "utf-8", header_name="Subject").encode(linesep=CRLF)


# Bodies. A builder gets the octets left for the body and returns the body's chunks and
# where filler may go (the end of the first text part) to land on the drawn size.


def _content_type(kind: str, boundary: str, utf8: bool) -> str:
    if kind == "plain":
        return f"Content-Type: text/plain; {_text_charset(utf8)}"
    return f'Content-Type: multipart/{kind};\r\n\tboundary="{boundary}"'


def _text_charset(utf8: bool) -> str:
    if utf8:
        return "charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
    return "charset=us-ascii"


def _text(rng: random.Random, size: int, utf8: bool) -> list[str]:
    """Lines of text adding up to at most ``size`` octets once encoded (at least one line)."""
    pool = _UTF8_LINES if utf8 else _ASCII_LINES
    picked = rng.choices(pool, k=max(1, size // 40 + 1))
    ends = list(itertools.accumulate(len(line) + 2 for line in picked))
    return picked[: max(1, bisect.bisect_right(ends, size))]


def _encode_text(lines: list[str], utf8: bool) -> bytes:
    """A text part's body: 7bit ASCII, or UTF-8 in quoted-printable."""
    text = "\n".join(lines) + "\n"
    if utf8:
        return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    return text.replace("\n", CRLF).encode("ascii")


def _html(lines: list[str], utf8: bool) -> bytes:
    page = [
        "<!DOCTYPE html>",
        f'<html><head><meta charset="{"utf-8" if utf8 else "us-ascii"}"></head>',
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px">',
        *(f'<p style="margin:0 0 12px 0">{line}</p>' if line else "<br>" for line in lines),
        "</body></html>",
    ]
    return _encode_text(page, utf8)


def _plain(rng: random.Random, boundary: str, utf8: bool, size: int) -> tuple[list[bytes], int]:
    return _shrink(_text(rng, size, utf8), size, lambda lines: ([_encode_text(lines, utf8)], 1))


def _alternative(
    rng: random.Random, boundary: str, utf8: bool, size: int
) -> tuple[list[bytes], int]:
    text_type = f"Content-Type: text/plain; {_text_charset(utf8)}"
    html_type = f"Content-Type: text/html; {_text_charset(utf8)}"

    def build(lines: list[str]) -> tuple[list[bytes], int]:
        parts = [(text_type, _encode_text(lines, utf8)), (html_type, _html(lines, utf8))]
        return _multipart(boundary, parts)

    return _shrink(_text(rng, int(size * 0.36), utf8), size, build)


def _shrink(
    lines: list[str], size: int, build: Callable[[list[str]], tuple[list[bytes], int]]
) -> tuple[list[bytes], int]:
    """``build(lines)``, dropping lines from the end until it fits in ``size`` octets."""
    while True:
        chunks, pad_at = build(lines)
        total = sum(len(chunk) for chunk in chunks)
        if total <= size or len(lines) == 1:
            return chunks, pad_at
        lines = lines[: max(1, min(len(lines) - 1, int(len(lines) * size / total)))]


def _mixed(rng: random.Random, boundary: str, utf8: bool, size: int) -> tuple[list[bytes], int]:
    text = _encode_text(_text(rng, rng.randint(200, 3000), utf8), utf8)
    parts = [(f"Content-Type: text/plain; {_text_charset(utf8)}", text)]
    shares = [rng.random() + 0.2 for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))]
    room = max(0, size - len(text) - 200 - 300 * len(shares))
    for n, share in enumerate(shares):
        encoded = room * share / sum(shares)
        parts.append(_attachment(rng, n, int(encoded * 57 / 78)))  # 57 bytes a 78-octet line
    return _multipart(boundary, parts)


def _attachment(rng: random.Random, n: int, raw_size: int) -> tuple[str, bytes]:
    mime, extension, magic = rng.choice(_ATTACHMENTS)
    name = f"{rng.choice(_ATTACHMENT_NAMES)}-{n + 1}.{extension}"
    data = magic + _random_bytes(rng, max(0, raw_size - len(magic)))
    headers = (
        f'Content-Type: {mime}; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\n'
        "Content-Transfer-Encoding: base64"
    )
    return headers, _base64_lines(data)


# Below this many bytes ``Random.randbytes`` itself is quicker than moving the state to numpy
# and back (about 0.15 ms); at a megabyte numpy takes less than half its time.
_NUMPY_RANDOM_BYTES = 256 * 1024
_BASE64_LINE = 76  # characters of a base64 line (57 bytes), as base64.encodebytes writes them


def _random_bytes(rng: random.Random, n: int) -> bytes:
    """``rng.randbytes(n)``, the same bytes and the same state after, made by numpy's
    Mersenne Twister from ``rng``'s state (both are MT19937 and give the same 32-bit words).

    ``randbytes(n)`` is ``getrandbits(8 * n)`` little-endian: 32-bit words least significant
    first, of which the last, when ``8 * n`` is not a multiple of 32, keeps its top bits."""
    if n < _NUMPY_RANDOM_BYTES:
        return rng.randbytes(n)
    version, internal, gauss_next = rng.getstate()
    twister = np.random.MT19937()
    twister.state = {"bit_generator": "MT19937",
                     "state": {"key": np.array(internal[:-1], dtype=np.uint32), "pos": internal[-1]}}
    words = twister.random_raw((8 * n + 31) // 32).astype("<u4")
    if (8 * n) % 32:
        words[-1] >>= 32 - (8 * n) % 32
    state = twister.state["state"]
    rng.setstate((version, (*state["key"].tolist(), int(state["pos"])), gauss_next))
    return words.tobytes()[:n]


def _base64_lines(data: bytes) -> bytes:
    """``base64.encodebytes(data)`` with CRLF line ends: lines of 76 characters, the last
    one shorter; no line at all for no data."""
    text = binascii.b2a_base64(data, newline=False)
    whole, rest = divmod(len(text), _BASE64_LINE)
    full_lines = np.frombuffer(text, dtype=np.uint8, count=whole * _BASE64_LINE)
    lines = np.empty((whole, _BASE64_LINE + 2), dtype=np.uint8)
    lines[:, :_BASE64_LINE] = full_lines.reshape(whole, _BASE64_LINE)
    lines[:, _BASE64_LINE:] = (13, 10)
    return lines.tobytes() + (text[whole * _BASE64_LINE:] + b"\r\n" if rest else b"")


def _multipart(boundary: str, parts: list[tuple[str, bytes]]) -> tuple[list[bytes], int]:
    """The chunks of a multipart body; filler goes at the end of the first part."""
    delimiter = f"--{boundary}\r\n".encode("ascii")
    chunks = [b"This is a multi-part message in MIME format.\r\n\r\n"]
    for headers, body in parts:
        chunks += [delimiter, headers.encode("ascii") + b"\r\n\r\n", body]
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return chunks, 4


_BUILDERS = {"plain": _plain, "alternative": _alternative, "mixed": _mixed}
_FILL_LINES = tuple(line.encode("ascii") for line in _ASCII_LINES if line)


def _filler(size: int) -> bytes:
    """About ``size`` octets of text lines ending in CRLF; nothing when ``size`` < 2."""
    out, left = [], size
    for line in itertools.cycle(_FILL_LINES):
        if left < 2:
            break
        take = min(len(line), left - 2)
        if left - take - 2 == 1:  # leave room for one more (empty) line, not a lone octet
            take -= 1
        out.append(line[:take] + b"\r\n")
        left -= take + 2
    return b"".join(out)
