"""bulk-fetch: a device downloads a mailbox into its local store.

Variants:

- ``full``: every message, whole (IMAP ``BODY.PEEK[]`` vs POP3 ``RETR``).
- ``headers``: the header block of every message (IMAP ``BODY.PEEK[HEADER]`` vs ``TOP n 0``).
- ``new``: the device synced the mailbox earlier; a tenth more mail arrived since, and only
  that sync is measured (IMAP UIDs above the last seen vs POP3 UIDL against the known set).

Every message on the device is checked against the truth (the corpus as delivered); any
lost, changed or unexpected message fails the cell, naming the messages.
"""

from __future__ import annotations

from bench.errors import IntegrityError
from bench.measurement import MB
from scenarios.base import SampleContext, SampleOutcome, Scenario

NEW_SHARE = 10  # in the "new" variant, 1/NEW_SHARE of the mailbox arrives after the first sync


class BulkFetch(Scenario):
    name = "bulk-fetch"
    description = "download a whole mailbox (or its headers, or only what is new) to a device"
    variants = ("full", "headers", "new")
    default_tls = ("off", "on")  # the handshake's and encryption's cost shows here

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
        server_disk = ctx.server.disk_bytes(mailbox.account)

        with ctx.measure() as measured:
            with ctx.connect(mailbox, measured.meter) as access:
                synced = device.sync(access, part)
                pipelined = access.pipelined
                used = sorted(access.capabilities_used)

        server_disk_after = ctx.server.disk_bytes(mailbox.account)
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
            delivery_messages_per_s=delivery.messages_per_s,
        )
        return SampleOutcome(
            metrics=metrics,
            integrity=report.to_json(),
            commands=measured.meter.commands(),
            info={"pipelined": pipelined, "capabilities_used": used},
        )
