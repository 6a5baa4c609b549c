"""bulk-fetch: a device downloads a mailbox into its local store.

Variants:

- ``full``: every message, whole (IMAP ``BODY.PEEK[]`` vs POP3 ``RETR``).
- ``headers``: the header block of every message (IMAP ``BODY.PEEK[HEADER]`` vs ``TOP n 0``);
  not with pop3-delete, which would delete what it never downloaded (``excluded``).
- ``new``: the device synced the mailbox earlier; a tenth more mail arrived since, and only
  that sync is measured (IMAP UIDs above the last seen vs POP3 UIDL against the known set).
- ``search``: a device that never synced wants the messages whose Subject contains
  ``SEARCH_TERM``, whole (IMAP ``UID SEARCH`` on the server, then ``UID FETCH`` of the
  matches vs POP3 ``RETR`` of every message and a search on the device). The device keeps
  the matches only; they are checked against the matches of the corpus as delivered,
  computed on the client side alone (``bench.search``). Not with pop3-delete
  (``excluded``): it would delete every message it downloaded to search, matches or not.

Every message on the device is checked against the truth (the corpus as delivered, or its
matches in ``search``); any lost, changed or unexpected message fails the cell, naming the
messages.

The account's store on the server is read before and after the measured sync, each time
after the server's own purge of deleted mail (``RunningServer.purge``: Cyrus keeps expunged
messages until its expunge runs), so it counts what a reader can still get back; after the
sync it is also split into message files and the server's state (``store_usage``).
"""

from __future__ import annotations

from bench.corpus import Truth
from bench.corpus.truth import IntegrityReport
from bench.devices.device import SearchReport, SyncReport
from bench.errors import IntegrityError
from bench.measurement import MB
from bench.search import SEARCH_TERM, subject_contains
from bench.sample import Mailbox, SampleContext, SampleOutcome
from scenarios.base import Scenario

NEW_SHARE = 10  # in the "new" variant, 1/NEW_SHARE of the mailbox arrives after the first sync


class BulkFetch(Scenario):
    name = "bulk-fetch"
    description = ("download a whole mailbox (or its headers, or only what is new, or only what a "
                   "search finds) to a device")
    variants = ("full", "headers", "new", "search")
    default_tls = ("off", "on")  # the handshake's and encryption's cost shows here
    excluded = {
        ("pop3-delete", "headers"): "POP3 TOP n 0 downloads only a message's header, and pop3-delete then "
                                    "deletes the message: its body would be lost, on the server and the device",
        ("pop3-delete", "search"): "a POP3 client must download every message to search, and pop3-delete then "
                                   "deletes them all: the messages that do not match would be lost unless the "
                                   "device kept them, which is the full variant",
    }
    # Speed is judged by a test that 3 samples against 3 cannot pass (docs/claims.md).
    default_repeat = 5
    decision_variants = ("full",)  # the page's download times, round trips and server storage
    # The full download on a mobile link, for the decision page and the speed claim.
    default_links = {"mobile-4g": ("full",)}

    def run_sample(self, ctx: SampleContext) -> SampleOutcome:
        part = "headers" if ctx.variant == "headers" else "full"
        mailbox = ctx.new_mailbox()
        device = ctx.device("device")
        later = max(1, ctx.messages // NEW_SHARE) if ctx.variant == "new" else 0
        delivery = ctx.deliver(mailbox, ctx.messages - later)
        if later:
            with ctx.connect(mailbox) as access:
                device.sync(access, part)
            ctx.deliver(mailbox, later)
        # The store is read after the server's own purge (Cyrus keeps expunged mail until its
        # expunge runs), so it counts what a reader can still get back.
        purge = ctx.server.purge(mailbox.account)
        server_disk = ctx.server.disk_bytes(mailbox.account)

        with ctx.measure() as measured:
            with ctx.connect(mailbox, measured.meter) as access:
                found: SearchReport | None = None
                if ctx.variant == "search":
                    found = device.search(access, SEARCH_TERM)
                    synced = SyncReport(found.matches, found.match_bytes)
                else:
                    synced = device.sync(access, part)
                pipelined = access.pipelined
                used = sorted(access.capabilities_used)

        ctx.server.purge(mailbox.account)
        server_disk_after = ctx.server.disk_bytes(mailbox.account)
        usage = ctx.server.store_usage(mailbox.account)
        if found is not None:
            report = _matches(ctx, mailbox, SEARCH_TERM).check(device.store)
            if not report.passed:
                raise IntegrityError(
                    f"the messages found for SUBJECT {SEARCH_TERM!r} differ from the corpus's matches "
                    f"({_named(report)}): {report.summary()}", report.to_json())
        else:
            report = mailbox.truth.check(device.store, part)
        if not report.passed:
            raise IntegrityError(f"device copy differs from the truth: {report.summary()}", report.to_json())
        elapsed = measured.metrics["elapsed_s"]
        metrics = dict(
            measured.metrics,
            messages=synced.messages,
            message_bytes=synced.message_bytes,
            messages_per_s=synced.messages / elapsed,
            mb_per_s=measured.metrics["bytes_down"] / MB / elapsed,
            server_disk_bytes=server_disk,
            server_disk_after_bytes=server_disk_after,
            server_message_file_bytes=usage.message_bytes,
            server_state_bytes=usage.state_bytes,
            delivery_messages_per_s=delivery.messages_per_s,
        )
        info = {"pipelined": pipelined, "capabilities_used": used, "server_purge": purge,
                "server_deletion": ctx.server.spec.deletion}
        if found is not None:
            metrics.update(search_matches=found.matches, messages_downloaded_to_search=found.downloaded)
            info["search"] = f"SUBJECT {SEARCH_TERM}"
        return SampleOutcome(
            metrics=metrics,
            integrity=report.to_json(),
            commands=measured.meter.commands(),
            info=info,
        )


def _matches(ctx: SampleContext, mailbox: Mailbox, term: str) -> Truth:
    """The truth of a search: the messages the server stored (the corpus as delivered, less
    what it refused) whose Subject contains ``term``, found by the client-side rule alone."""
    refused = {refusal.index for refusal in mailbox.refused}
    return Truth(
        raw for index, raw in enumerate(ctx.corpus.messages(0, mailbox.delivered))
        if index not in refused and subject_contains(raw, term)
    )


def _named(report: IntegrityReport, shown: int = 5) -> str:
    """The messages a failed check names, a few of each kind."""
    parts = []
    for kind in ("missing", "changed", "unexpected"):
        keys = getattr(report, kind)
        if keys:
            more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
            parts.append(f"{kind}: {', '.join(keys[:shown])}{more}")
    return "; ".join(parts)
