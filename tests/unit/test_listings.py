"""Listings read a line at a time (pure logic, no server): the IMAP answer's UID and size,
POP3's UIDL and LIST answers merged by message number, and POP3's dot-unstuffing."""

from __future__ import annotations

import io

import poplib
import pytest

from bench.access import WireMeter
from bench.access.base import MessageRef
from bench.access.imap import uid_and_size
from bench.access.pop3 import Pop3Access, _MeteredPOP3


def test_an_imap_answer_gives_its_uid_and_size_in_any_order_and_case():
    assert uid_and_size(b"7 (UID 12 RFC822.SIZE 4120)") == (12, 4120)
    assert uid_and_size(b"7 (rfc822.size 4120 uid 12)") == (12, 4120)
    assert uid_and_size(b"7 (FLAGS (\\Seen))") is None  # unsolicited: no UID, no size
    assert uid_and_size(b"7 (UID 12)") is None


class Answers:
    """A POP3 connection that answers UIDL and LIST from fixed lines."""

    def __init__(self, uidl: list[bytes], listing: list[bytes]) -> None:
        self.answers = {"UIDL": uidl, "LIST": listing}
        self.asked: list[str] = []

    def long_lines(self, command: str):
        self.asked.append(command)
        yield from self.answers[command]


def _access(uidl: list[bytes], listing: list[bytes]) -> Pop3Access:
    access = object.__new__(Pop3Access)  # no connection: the listing logic alone
    access.meter, access.capabilities_used, access._conn = WireMeter(), set(), Answers(uidl, listing)
    return access


def test_a_pop3_listing_pairs_each_uidl_with_its_size_and_leaves_out_what_was_seen():
    access = _access([b"1 aa", b"2 bb", b"3 cc"], [b"1 100", b"2 200", b"3 300"])
    listing = access.list_messages(after=frozenset({"bb"}))
    assert listing.refs == [MessageRef("aa", 100, 1), MessageRef("cc", 300, 3)]
    assert listing.token == frozenset({"aa", "bb", "cc"})
    assert access._conn.asked == ["UIDL", "LIST"]


def test_a_pop3_listing_out_of_order_is_put_in_order_of_message_number():
    access = _access([b"3 cc", b"1 aa"], [b"3 300", b"2 200", b"1 100"])
    assert access.list_messages().refs == [MessageRef("aa", 100, 1), MessageRef("cc", 300, 3)]


def test_a_message_in_uidl_but_not_in_list_is_an_error():
    with pytest.raises(poplib.error_proto, match="message 2 is in the UIDL answer but not in the LIST"):
        _access([b"1 aa", b"2 bb"], [b"1 100"]).list_messages()


class Tap:
    def sent(self, nbytes: int) -> None:
        pass

    def received(self, nbytes: int) -> None:
        pass


class Socket:
    def __init__(self) -> None:
        self.written = b""

    def sendall(self, data: bytes) -> None:
        self.written += data


def test_long_lines_are_read_one_by_one_and_dot_unstuffed():
    conn = object.__new__(_MeteredPOP3)
    conn._tap, conn.sock, conn._debugging = Tap(), Socket(), 0
    conn.file = io.BytesIO(b"+OK\r\n1 aa\r\n..dotted\r\n.\r\n+OK next\r\n")
    assert list(conn.long_lines("UIDL")) == [b"1 aa", b".dotted"]
    assert conn.sock.written == b"UIDL\r\n"
    assert conn.file.readline() == b"+OK next\r\n"  # nothing read past the answer's end
