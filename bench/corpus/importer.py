"""Import of a user's own mail: an mbox file, a Maildir folder or a single .eml file.

``open_mailbox(path)`` checks the whole source once, up front, and returns a
``MailboxSource``: its ``len()`` is the number of messages and iterating it reads them
from disk again, one at a time, canonical (see ``bench.corpus.canonical``). So a large
mailbox is never held in memory, and a bad one is refused before anything is delivered.
``load_messages(path)`` is the short form that returns them all as a list.

Which kind of source, decided by the path:
- a folder with ``cur/`` and ``new/`` subfolders is a Maildir (``tmp/`` only matters while
  delivering, so it may be absent); its messages are the files of ``new/`` and ``cur/`` in
  file-name order, numbers compared as numbers (Maildir names start with the delivery
  time); subfolders (``.Sent``…) are not read;
- a file named ``*.eml`` is one message; there and in Maildir files, a leading
  mbox-style ``From `` line (some tools write one) is dropped;
- any other file must be an mbox: its first line starts with ``From ``. Messages are split
  by Python's ``mailbox.mbox``; ``>From `` quoting is kept as it is in the file (mbox
  variants disagree on it), and in an mbox written with CRLF line ends the separating
  empty line is dropped as it is with LF.

What is refused (``CorpusError``, one line: what is wrong and what to do):
- a path that does not exist or cannot be read; a folder that is not a Maildir;
- an empty file, a Maildir with no messages, a whitespace-only file;
- a binary file: NUL bytes anywhere, or a file that is neither an mbox nor an .eml;
- a message that is empty or does not start with a header field (in an mbox this is
  what an unquoted ``From `` line in a body produces);
- a truncated message: one with no empty line after its header fields whose last line is
  not a complete header field (it has no line end, or is not ``Name: value``); the last
  message of an mbox whose file does not end with a line end; a multipart message,
  anywhere a file can be cut (the last of an mbox, an .eml, a Maildir file), that lacks
  its closing boundary.
A header-only message (no body) that ends cleanly is accepted: RFC 5322 allows it.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

from bench.corpus.canonical import canonical, header_block
from bench.errors import CorpusError

_HEAD_BYTES = 64 * 1024
_DIGITS = re.compile(r"(\d+)")
_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")
_WHAT_TO_DO = "give an mbox file, a Maildir folder or a single .eml message"


@dataclass(frozen=True)
class MailboxSource:
    """A checked mailbox on disk: ``len()`` messages, read again on each iteration."""

    path: Path
    kind: str  # "mbox", "maildir" or "eml"
    count: int

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[bytes]:
        for raw in _read(self.path, self.kind):
            yield canonical(raw)


def open_mailbox(path: Path | str) -> MailboxSource:
    """Check the mailbox at ``path`` and return it, or raise ``CorpusError``."""
    path = Path(path)
    kind = _kind(path)
    try:
        total = _count(path, kind)
    except OSError as error:
        raise _unreadable(path, error) from None
    count = 0
    for count, raw in enumerate(_read(path, kind), start=1):
        cuttable = kind != "mbox" or count == total
        _check_message(path, raw, f"message {count} of {total}", cuttable)
    if count == 0:
        raise CorpusError(f"{_show(path)} holds no messages: {_WHAT_TO_DO} with mail in it")
    return MailboxSource(path, kind, count)


def load_messages(path: Path | str) -> list[bytes]:
    """Every message at ``path``, canonical, in mailbox order (see ``open_mailbox``)."""
    return list(open_mailbox(path))


def _kind(path: Path) -> str:
    """Which kind of source ``path`` is, after checking the file's first bytes."""
    try:
        if path.is_dir():
            if (path / "cur").is_dir() and (path / "new").is_dir():
                return "maildir"
            raise CorpusError(
                f"{_show(path)} is a folder but not a Maildir (no cur/ and new/ in it): "
                f"{_WHAT_TO_DO}"
            )
        if not path.exists():
            raise CorpusError(f"{_show(path)} does not exist: {_WHAT_TO_DO}")
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES)
            file.seek(0, 2)
            file.seek(max(0, file.tell() - 1))
            last = file.read(1)
    except OSError as error:
        raise _unreadable(path, error) from None
    if not head.strip():
        raise CorpusError(f"{_show(path)} is empty: {_WHAT_TO_DO} with mail in it")
    if b"\0" in head:
        raise CorpusError(f"{_show(path)} is a binary file (NUL bytes), not mail: {_WHAT_TO_DO}")
    if path.suffix.lower() == ".eml":
        return "eml"
    if not head.startswith(b"From "):
        hint = " (if it is a single message, name it .eml)" if _FIELD.match(head) else ""
        raise CorpusError(
            f"{_show(path)} is not an mbox: its first line does not start with 'From '{hint}; "
            f"{_WHAT_TO_DO}"
        )
    if last != b"\n":
        raise CorpusError(
            f"{_show(path)} ends in the middle of a line, so it looks truncated: "
            "export the mailbox again"
        )
    return "mbox"


def _count(path: Path, kind: str) -> int:
    if kind == "eml":
        return 1
    if kind == "maildir":
        return len(_maildir_files(path))
    box = mailbox.mbox(path, factory=None, create=False)
    try:
        return len(box)
    finally:
        box.close()


def _read(path: Path, kind: str) -> Iterator[bytes]:
    """The raw messages of the source, in order, one at a time."""
    try:
        if kind == "eml":
            yield _drop_from_line(path.read_bytes())
        elif kind == "maildir":
            for file in _maildir_files(path):
                yield _drop_from_line(file.read_bytes())
        else:
            yield from _read_mbox(path)
    except OSError as error:
        raise _unreadable(path, error) from None


def _maildir_files(path: Path) -> list[Path]:
    """The message files of a Maildir in name order: names start with the delivery time."""
    files = [
        file
        for folder in ("new", "cur")
        for file in (path / folder).iterdir()
        if not file.name.startswith(".") and file.is_file()
    ]
    return sorted(files, key=lambda file: _natural(file.name))


def _natural(name: str) -> list[tuple[int, str]]:
    """A sort key comparing the numbers in a name as numbers (Maildir's M…P…Q… parts)."""
    return [(int(part), "") if part.isdigit() else (-1, part) for part in _DIGITS.split(name)]


def _read_mbox(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        crlf = file.readline().endswith(b"\r\n")
    box = mailbox.mbox(path, factory=None, create=False)
    try:
        for key in box.keys():
            raw = box.get_bytes(key)
            if crlf and raw.endswith(b"\r\n\r\n"):
                raw = raw[:-2]  # mailbox.mbox only drops an LF separator line
            yield raw
    finally:
        box.close()


def _unreadable(path: Path, error: OSError) -> CorpusError:
    return CorpusError(
        f"cannot read {_show(path)} ({error.strerror or error}): check its permissions, "
        f"or {_WHAT_TO_DO}"
    )


def _drop_from_line(raw: bytes) -> bytes:
    """A single-message file without the mbox-style ``From `` line some tools put first."""
    if raw.startswith(b"From "):
        end = raw.find(b"\n")
        return raw[end + 1 :] if end >= 0 else b""
    return raw


def _check_message(path: Path, raw: bytes, where: str, cuttable: bool) -> None:
    """Refuse a message that is empty, binary, not mail, or visibly cut short."""
    if not raw.strip():
        raise CorpusError(f"{_show(path)}: {where} is empty: remove it or export the mailbox again")
    if b"\0" in raw:
        raise CorpusError(
            f"{_show(path)}: {where} holds NUL bytes (binary data, not mail): {_WHAT_TO_DO}"
        )
    if not _FIELD.match(raw):
        raise CorpusError(
            f"{_show(path)}: {where} does not start with a header field (Name: value); "
            "if it is an mbox, an unquoted 'From ' line in a body splits messages: "
            "export the mailbox again"
        )
    message = canonical(raw)
    if message.find(b"\r\n\r\n") < 0 and not _ends_with_field(raw):
        raise CorpusError(
            f"{_show(path)}: {where} is cut inside its header section (no empty line ends it "
            "and the last line is incomplete), so the file looks truncated: export it again"
        )
    if cuttable:
        boundary = _boundary(message)
        if boundary and b"\r\n--" + boundary + b"--" not in message:
            raise CorpusError(
                f"{_show(path)}: {where} is multipart but its closing boundary is missing, "
                "so the file looks truncated: export it again"
            )


def _ends_with_field(raw: bytes) -> bool:
    """Whether a message with no body ends with a complete header field and a line end."""
    if not raw.endswith((b"\n", b"\r")):
        return False
    lines = canonical(raw).split(b"\r\n")[:-1]
    return all(_FIELD.match(line) or line[:1] in (b" ", b"\t") for line in lines)


def _boundary(message: bytes) -> bytes | None:
    """The boundary a multipart message declares, or None."""
    headers = BytesHeaderParser().parsebytes(header_block(message))
    if headers.get_content_maintype() != "multipart":
        return None
    boundary = headers.get_boundary()
    return boundary.encode("utf-8", "surrogateescape") if boundary else None


def _show(path: Path) -> str:
    """``path`` for a one-line message: control characters escaped."""
    text = str(path)
    return text if text.isprintable() else repr(text)
