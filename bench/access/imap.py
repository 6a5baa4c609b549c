"""IMAP access on imapclient, with every byte and wait counted by the meter."""

from __future__ import annotations

import imaplib
import socket
from typing import Any, Iterable, Iterator

from imapclient import IMAPClient
from imapclient import imap4
from imapclient.response_parser import parse_fetch_response

from bench.access.base import AccessOptions, Endpoint, Listing, MailAccess, MessageRef, Part, connect
from bench.access.meter import ConnectionTap, WireMeter

INBOX = "INBOX"
# A FETCH asks for at most this many messages or bytes at once, so the client holds one
# batch in memory however large the mailbox is (and the answer still streams in one turn).
FETCH_BATCH_MESSAGES = 200
FETCH_BATCH_BYTES = 4 * 1024 * 1024

_FETCH_ITEM = {"full": (b"BODY.PEEK[]", b"BODY[]"), "headers": (b"BODY.PEEK[HEADER]", b"BODY[HEADER]")}


class _MeteredIMAP4(imap4.IMAP4WithTimeout):
    """imaplib's connection, reporting each write and read to a tap."""

    def __init__(self, endpoint: Endpoint, tap: ConnectionTap) -> None:
        self._endpoint = endpoint
        self._tap = tap
        super().__init__(endpoint.host, endpoint.port, endpoint.timeout_s)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return connect(self._endpoint, timeout if timeout is not None else self._timeout, self._tap)

    def starttls(self, ssl_context=None):
        result = super().starttls(ssl_context)
        self._tap.handshake(self.sock)
        return result

    def shutdown(self) -> None:
        self._tap.closing(getattr(self, "sock", None))
        super().shutdown()

    def send(self, data: bytes) -> None:
        super().send(data)
        self._tap.sent(len(data))

    def read(self, size: int) -> bytes:
        data = super().read(size)
        self._tap.received(len(data))
        return data

    def readline(self) -> bytes:
        line = super().readline()
        self._tap.received(len(line))
        return line


class _MeteredIMAPClient(IMAPClient):
    def __init__(self, endpoint: Endpoint, tap: ConnectionTap) -> None:
        self._endpoint = endpoint
        self._tap = tap
        super().__init__(endpoint.host, endpoint.port, ssl=False, timeout=endpoint.timeout_s)

    def _create_IMAP4(self) -> imaplib.IMAP4:
        return _MeteredIMAP4(self._endpoint, self._tap)

    def uid_fetch_range(self, uid_set: str, items: list[bytes]) -> dict[int, dict[bytes, Any]]:
        """``UID FETCH <set> <items>`` for a range such as ``"101:*"``, in one round trip.

        ``IMAPClient.fetch`` keeps only the UIDs it was given as integers, which drops every
        answer to a range; a client listing a mailbox asks for a range, as real clients do.
        """
        tag = self._imap._command("UID", "FETCH", uid_set, b"(" + b" ".join(items) + b")")
        typ, data = self._imap._command_complete("FETCH", tag)
        self._checkok("fetch", typ, data)
        typ, data = self._imap._untagged_response(typ, data, "FETCH")
        return parse_fetch_response(data, self.normalise_times, True)


def _batches(refs: list[MessageRef]) -> Iterator[list[MessageRef]]:
    batch: list[MessageRef] = []
    size = 0
    for ref in refs:
        if batch and (len(batch) >= FETCH_BATCH_MESSAGES or size + ref.size > FETCH_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(ref)
        size += ref.size
    if batch:
        yield batch


class ImapAccess(MailAccess):
    """IMAP4rev1 on the INBOX; the listing token is ``(UIDVALIDITY, highest UID seen)``."""

    protocol = "imap"

    def __init__(self, endpoint: Endpoint, meter: WireMeter, options: AccessOptions) -> None:
        super().__init__(endpoint, meter, options)
        with meter.measure("CONNECT"):
            self._client = _MeteredIMAPClient(endpoint, meter.tap())
        if endpoint.tls == "starttls":
            with meter.measure("STARTTLS"):
                self._client.starttls(endpoint.ssl_context)
        with meter.measure("LOGIN"):
            self._client.login(endpoint.username, endpoint.password)
        self._capabilities = frozenset(c.decode().upper() for c in self._client.capabilities())
        self._selected = False

    @property
    def capabilities(self) -> frozenset[str]:
        return self._capabilities

    @property
    def client(self) -> IMAPClient:
        """The underlying imapclient, for setup work such as delivery (still metered)."""
        return self._client

    def _select(self) -> dict[bytes, Any]:
        with self.meter.measure("SELECT"):
            info = self._client.select_folder(INBOX)
        self._selected = True
        return info

    def list_messages(self, after: Any = None) -> Listing:
        info = self._select()
        uidvalidity = int(info[b"UIDVALIDITY"])
        if info[b"EXISTS"] == 0:
            last = after[1] if after and after[0] == uidvalidity else 0
            return Listing([], (uidvalidity, last))
        first = 1
        if after is not None and after[0] == uidvalidity:
            first = after[1] + 1
        with self.meter.measure("FETCH"):
            data = self._client.uid_fetch_range(f"{first}:*", [b"RFC822.SIZE"])
        # "n:*" always matches the highest UID, even below n: keep only what is new.
        refs = [
            MessageRef(f"{uidvalidity}/{uid}", int(items[b"RFC822.SIZE"]), uid)
            for uid, items in sorted(data.items())
            if uid >= first
        ]
        last = max([ref.handle for ref in refs], default=first - 1)
        return Listing(refs, (uidvalidity, last))

    def fetch(self, refs: Iterable[MessageRef], part: Part = "full") -> Iterator[tuple[MessageRef, bytes]]:
        request, answer = _FETCH_ITEM[part]
        if not self._selected:
            self._select()
        for batch in _batches(list(refs)):
            with self.meter.measure("FETCH"):
                data = self._client.fetch([ref.handle for ref in batch], [request])
            for ref in batch:
                yield ref, data[ref.handle][answer]

    def delete(self, refs: Iterable[MessageRef]) -> None:
        uids = [ref.handle for ref in refs]
        if not uids:
            return
        with self.meter.measure("STORE"):
            self._client.delete_messages(uids)
        with self.meter.measure("EXPUNGE"):
            if "UIDPLUS" in self._capabilities:
                self.capabilities_used.add("UIDPLUS")
                self._client.uid_expunge(uids)
            else:
                self._client.expunge()

    def set_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        with self.meter.measure("STORE"):
            self._client.add_flags([ref.handle for ref in refs], list(flags))

    def close(self) -> None:
        try:
            with self.meter.measure("LOGOUT"):
                self._client.logout()
        except (imaplib.IMAP4.error, OSError):
            self._client.shutdown()
