"""Reading a POP3 multi-line answer in blocks gives what poplib's line-by-line reading
gives, and reads no byte past the answer."""

from __future__ import annotations

import io
import poplib

import pytest

from bench.access.pop3 import read_multiline


class _Trickle(io.RawIOBase):
    """A raw stream that hands out at most ``size`` bytes per read, as a socket may."""

    def __init__(self, data: bytes, size: int) -> None:
        self._data, self._size, self._at = data, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self._data[self._at:self._at + min(self._size, len(buffer))]
        buffer[:len(piece)] = piece
        self._at += len(piece)
        return len(piece)


def _poplib_lines(answer: bytes) -> list[bytes]:
    """What poplib's own _getlongresp returns for the same bytes (after a status line)."""
    pop = poplib.POP3.__new__(poplib.POP3)
    pop.file = io.BufferedReader(io.BytesIO(b"+OK\r\n" + answer))
    pop._debugging = 0
    return pop._getlongresp()[1]


ANSWERS = [
    b".\r\n",  # no lines
    b"\r\n.\r\n",  # one empty line
    b"Subject: a\r\n\r\nbody\r\n.\r\n",
    b"..leading dot\r\n...two\r\n.\r\n",  # dot-stuffed lines
    b"a\r\n.\r\nb\r\n",  # a terminator in the middle: the answer ends there
    b"x" * 70_000 + b"\r\n" + b"y\r\n" * 5000 + b".\r\n",
]


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 4096, 1 << 20])
def test_block_reading_gives_poplibs_lines_and_leaves_what_follows(answer, size, monkeypatch):
    monkeypatch.setattr(poplib, "_MAXLINE", 1 << 20)  # the access allows long lines too (MAX_LINE)
    after = b"+OK next answer\r\n"
    file = io.BufferedReader(_Trickle(answer + after, size), buffer_size=max(size, 8))
    counted: list[int] = []
    lines = read_multiline(file, counted.append)
    assert lines == _poplib_lines(answer)
    end = answer.index(b".\r\n") if answer.startswith(b".\r\n") else answer.index(b"\r\n.\r\n") + 2
    assert sum(counted) == end + 3  # every byte up to the terminator, none beyond
    assert file.read() == answer[end + 3:] + after


def test_a_connection_closed_inside_an_answer_is_an_error():
    with pytest.raises(poplib.error_proto):
        read_multiline(io.BufferedReader(io.BytesIO(b"line\r\nmore")), lambda n: None)
