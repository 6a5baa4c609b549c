"""interrupted-sync: a device downloads its mailbox while something breaks, then syncs again.

The device (a phone with the cell's mode: in ``pop3-delete`` it deletes what it downloaded)
starts downloading the whole mailbox; the variant's fault (``scenarios.interrupted_sync.faults``) strikes at a
seeded point; once the device noticed, the fault is undone (link back, server started again
or thawed) and the device syncs again, retrying until it succeeds (bounded in time), as a
phone does when the signal returns. The device resumes: what it holds whole is not fetched
again, and in a delete mode it deletes what it holds.

Then three readings are compared (``scenarios.interrupted_sync.loss``): the truth (what was delivered), the
server's mailbox read directly (not through the link), and the device's store (whole
messages, and files it never finished). Figures: messages **lost** (on neither side),
**duplicated** on the device, **partial** files on the device, messages left on the server,
how long the device took to notice the fault, and the time, bytes and attempts to recover.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from bench.access import WireMeter, open_access
from bench.devices.device import Device
from bench.devices.playback import merged_commands
from bench.errors import MailbenchError, one_line
from bench.sample import Mailbox, SampleContext, SampleOutcome
from scenarios.base import Scenario
from scenarios.interrupted_sync.faults import FAULTS, Fault, draw_point, make_fault
from scenarios.interrupted_sync.loss import count_losses, digest


SETTLE_S = 0.2
SETTLE_LIMIT_S = 10.0


def _settled_server(ctx: SampleContext, mailbox: Mailbox) -> list[bytes]:
    """The server's inbox (digests) once two listings SETTLE_S apart agree: Courier answers
    QUIT before it has deleted the messages, so a reading right after can still see some.
    The messages are read once, in the session of the last listing, over IMAP with
    BODY.PEEK (nothing changes), unmetered and straight to the server: an observer."""
    server = ctx.direct_server
    deadline = time.perf_counter() + SETTLE_LIMIT_S
    last = None
    while True:
        with open_access("imap", server.endpoint("imap", mailbox.account), WireMeter()) as access:
            listing = access.list_messages()
            now = [(ref.id, ref.size) for ref in listing.refs]
            if now == last or time.perf_counter() > deadline:
                return sorted(digest(raw) for _, raw in access.fetch(listing.refs, "full"))
        last = now
        ctx.wait(SETTLE_S)


@dataclass
class Recovery:
    """The device's way back: its sessions, each failed one's error, and what the successful
    one fetched beyond what was missing, or was listed but refused (gone, or not deletable)."""

    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    fetched: int = 0
    refetched: int = 0
    refused: int = 0


CLOSE_FAILED = "the session's closing command (QUIT / LOGOUT) failed; the connection was dropped"


class InterruptedSync(Scenario):
    name = "interrupted-sync"
    description = "a download broken by a link cut, a killed or a frozen server; what is lost, and the recovery"
    variants = FAULTS
    needs_link_control = True

    # A frozen server shows only after the device's read timeout (``detect_s`` of
    # server-paused is the timeout, by construction), and a cut link stays down for the
    # outage before it is restored and the recovery starts: neither decides a figure beyond
    # that, so both are kept short (the integration tests run every fault with a 1 s
    # timeout and a 0.1 to 0.2 s outage).
    def __init__(self, client_timeout_s: float = 1.5, outage_s: float = 0.5, recovery_limit_s: float = 120.0) -> None:
        self.client_timeout_s = client_timeout_s  # the device's read timeout: a frozen server shows after it
        self.outage_s = outage_s  # how long a cut link stays down after the device noticed
        self.recovery_limit_s = recovery_limit_s

    def run_sample(self, ctx: SampleContext) -> SampleOutcome:
        mailbox = ctx.new_mailbox()
        ctx.deliver(mailbox, ctx.messages)
        refused = {refusal.index for refusal in mailbox.refused}  # not on the server: not the device's to get

        def delivered() -> Iterator[bytes]:
            """The messages the server stored, in order, read again from the corpus."""
            return (raw for index, raw in enumerate(ctx.corpus.messages(0, mailbox.delivered)) if index not in refused)

        stored = len(mailbox.truth)
        if not stored:
            raise MailbenchError("interrupted-sync needs at least one delivered message")
        point = draw_point(ctx.seed, ctx.variant, ctx.sample, stored)
        fault = make_fault(ctx.variant, ctx, point, self.outage_s)
        device = ctx.device("phone")
        first, recovery = WireMeter(), WireMeter()
        with ctx.ledger.part("measured"):  # the broken download and the recovery are the finding
            try:
                fault.arm(delivered)
                failure, detect_s = self._first_session(ctx, mailbox, device, fault, first)
                if not fault.fired:
                    raise MailbenchError(f"the fault never struck ({fault.does}); the session ended with: "
                                         f"{failure or 'no error'}")
                kept = len(device.store)
                cleared = fault.clear()
                if fault.failure is not None:
                    raise MailbenchError(f"the fault ({fault.does}) could not be made: {one_line(fault.failure)}")
                recovered = self._recover(ctx, mailbox, device, recovery, stored - kept)
                recover_s = time.perf_counter() - cleared
            finally:
                fault.release()
        count = count_losses(
            (digest(raw) for raw in delivered()),
            _settled_server(ctx, mailbox),
            (digest(raw) for raw in device.store),
            unfinished=device.store.unfinished(),
        )
        metrics: dict[str, float] = {
            "messages_lost": count.lost,
            "messages_duplicated": count.duplicated,
            "messages_partial": count.partial,
            "left_on_server": count.on_server,
            "whole_on_device": count.on_device,
            "kept_through_fault": kept,
            "refetched": recovered.refetched,
            "recover_refused": recovered.refused,
            "recover_s": recover_s,
            "recover_attempts": recovered.attempts,
            "recover_bytes_down": recovery.bytes_down,
            "recover_bytes_up": recovery.bytes_up,
            "recover_round_trips": recovery.round_trips,
            "first_bytes_down": first.bytes_down,
        }
        if detect_s is not None:
            metrics["detect_s"] = detect_s
        restart_s = getattr(fault, "restart_s", None)
        if restart_s is not None:
            metrics["server_restart_s"] = restart_s
        report = mailbox.truth.check(device.store)
        info: dict[str, Any] = {
            "fault": fault.does,
            "fault_point": {"whole_before": point.whole_before, "between": point.between},
            "session_error": failure,
            "recovery_errors": recovered.errors,
            "account": mailbox.account.username,
        }
        return SampleOutcome(metrics=metrics, integrity=report.to_json(),
                             commands=merged_commands([first, recovery]), info=info)

    def _first_session(self, ctx: SampleContext, mailbox: Mailbox, device: Device, fault: Fault,
                       meter: WireMeter) -> tuple[str | None, float | None]:
        """The download the fault breaks: the error the device saw, and how long after the
        fault struck it saw it (where the fault's moment is known)."""
        access = ctx.connect_within(mailbox, self.client_timeout_s, meter)
        failure: str | None = None
        detect_s: float | None = None
        try:
            device.sync(access, at=fault.at)
        except Exception as exc:  # whatever the fault makes of the session is the finding
            failure = one_line(exc)
            if fault.fired_at is not None:
                detect_s = time.perf_counter() - fault.fired_at
        finally:
            try:
                access.close()
            except Exception:
                pass
        if failure is None and access.close_failed:
            failure = CLOSE_FAILED
            if fault.fired_at is not None:
                detect_s = time.perf_counter() - fault.fired_at
        return failure, detect_s

    def _recover(self, ctx: SampleContext, mailbox: Mailbox, device: Device, meter: WireMeter, missing: int) -> Recovery:
        """Sync again until a sync succeeds whole: no error, its closing command answered,
        and no listed message refused (Courier refuses for a moment messages that another,
        broken session still holds)."""
        deadline = time.perf_counter() + self.recovery_limit_s
        recovery = Recovery()
        wait_s = 0.25
        while True:
            recovery.attempts += 1
            stored = [0]

            def count(point: str, so_far: int) -> None:
                if point == "stored":
                    stored[0] = so_far

            try:
                with ctx.connect_within(mailbox, self.client_timeout_s, meter) as access:
                    device.sync(access, at=count)
                if access.close_failed:  # POP3 applied none of its deletions: not done yet
                    raise MailbenchError(CLOSE_FAILED)
                if access.unavailable:  # listed, then refused: the next sync may get them
                    recovery.refused += len(access.unavailable)
                    raise MailbenchError(f"{len(access.unavailable)} listed messages refused (RETR / DELE / "
                                         "FETCH answered with an error)")
                recovery.fetched += stored[0]
                recovery.refetched = max(0, recovery.fetched - missing)
                return recovery
            except Exception as exc:  # the server may still be busy with the broken session
                recovery.fetched += stored[0]
                recovery.errors.append(one_line(exc))
                if time.perf_counter() + wait_s > deadline:
                    raise MailbenchError(f"the device did not recover within {self.recovery_limit_s:.0f} s "
                                         f"({recovery.attempts} attempts; last: {recovery.errors[-1]})") from None
                ctx.wait(wait_s)
                wait_s = min(2 * wait_s, 4.0)
