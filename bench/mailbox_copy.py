"""A sample's initial mailbox made by a copy on the server instead of a fresh delivery.

Every sample starts from a fresh account into which the corpus's first N messages are
delivered over IMAP APPEND: setup, not measured, and 15-25 % of a run's time. Where the
server's store can be copied (``MailServer.store_copy``: Dovecot and Courier keep a user's
whole state in its Maildir, and Cyrus's admin can COPY a mailbox's messages into
another's), the first delivery of the first N messages on a server goes
into a template account instead, and every sample's first delivery of those N messages
becomes a copy of the template's store into the sample's own fresh account
(``RunningServer.copy_account``). The template is written once and never opened again:
no sample sees what an earlier one did. What the delivery recorded (the truth of the
messages the server stored, the messages it refused, with their corpus positions) is kept
from the template's delivery and given to each copy, so it is what an APPEND of the same
messages gives. Later deliveries into a mailbox (new mail) stay APPENDs.

The shortcut is off with ``RunConfig.deliver_each_sample`` (``--deliver-each-sample``), on
a server whose store cannot be copied, and where the copy cannot be made (a folder copy
where this host does not see the container's files); each cell records how its mailboxes were made (``describe``,
``info["mailboxes"]``).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from bench.corpus import Truth
from bench.delivery import DeliveryReport, Refusal
from bench.servers.base import Account, RunningServer

# Accounts a server keeps for templates, beside one per sample: one per distinct initial
# mailbox size a plan's scenarios deliver (bulk-fetch's N and its "new" variant's N less a
# tenth, the device scenarios' initial mailboxes), with room to spare.
TEMPLATE_ACCOUNTS = 8

COPIED = "copy"
DELIVERED = "append"


@dataclass(frozen=True)
class Template:
    """An account holding the corpus's first ``count`` messages, delivered once over APPEND
    and never opened since; what that delivery recorded."""

    account: Account
    count: int
    truth: Truth
    refused: tuple[Refusal, ...]
    messages: int
    bytes: int


@dataclass
class MailboxCopies:
    """One server's templates (by their number of messages), made on first need from spare
    accounts (``RunningServer.spare_account``). ``enabled`` False: every mailbox is
    delivered, and ``why_not`` says why."""

    server: RunningServer
    enabled: bool = True
    why_not: str = ""
    templates: dict[int, Template] = field(default_factory=dict)
    spare_accounts: int = TEMPLATE_ACCOUNTS
    template_accounts: int = 0  # spare accounts taken for templates so far, a failed one included

    @classmethod
    def for_server(cls, server: RunningServer, deliver_each_sample: bool) -> "MailboxCopies":
        if deliver_each_sample:
            return cls(server, False, "turned off (--deliver-each-sample)")
        if server.spec.store_copy is None:
            return cls(server, False, server.spec.no_store_copy)
        return cls(server)

    @staticmethod
    def applies(delivered: int, count: int) -> bool:
        """Whether a delivery of ``count`` messages into a mailbox that had ``delivered`` may
        be made by a copy: only a mailbox's first delivery (from the corpus's first message)."""
        return delivered == 0 and count > 0

    def copy_into(self, account: Account, count: int,
                  deliver: Callable[[Account, Truth], DeliveryReport]) -> tuple[DeliveryReport, Truth] | str:
        """Make ``account`` hold what a delivery of the corpus's first ``count`` messages gives,
        by a copy of the template; when there is none yet, a spare account becomes it, filled
        by ``deliver(account, truth)`` (an APPEND of those messages recording each one the
        server stored in ``truth``).
        Returns the report (the template delivery's figures and refusals, the copy's
        seconds) and a truth of the account's own; or, when no copy can be made, why (a
        server whose files this host cannot see turns the shortcut off for the server)."""
        if not self.enabled:
            return self.why_not
        template = self.templates.get(count)
        if template is None:
            if self.template_accounts >= self.spare_accounts:
                return (f"the {self.spare_accounts} template accounts are taken by other mailbox sizes: "
                        f"{count} messages are delivered each time")
            template = self._make_template(count, deliver)
        start = time.perf_counter()
        problem = self.server.copy_account(template.account, account)
        if problem is not None:
            self.enabled, self.why_not = False, problem
            return problem
        report = DeliveryReport(template.messages, template.bytes, time.perf_counter() - start,
                                list(template.refused))
        return report, copy.deepcopy(template.truth)

    def _make_template(self, count: int, deliver: Callable[[Account, Truth], DeliveryReport]) -> Template:
        """Deliver a template; one that fails on the way is never used (its account stays spent)."""
        self.template_accounts += 1
        account = self.server.spare_account()
        truth = Truth()
        report = deliver(account, truth)
        template = Template(account, count, truth, tuple(report.refused), report.messages, report.bytes)
        self.templates[count] = template
        return template

    def describe(self, made: list[str | None]) -> dict[str, Any] | None:
        """What a cell's results say about its mailboxes (``info["mailboxes"]``), from how each
        initial mailbox of its samples was made (None: copied; else why it was delivered):
        ``initial`` is "copy" when every one was copied, else "append", with the first reason
        in ``why``; ``copied`` and ``delivered`` count them. None when no sample made one."""
        if not made:
            return None
        reasons = [why for why in made if why is not None]
        figures = {"copied": len(made) - len(reasons), "delivered": len(reasons)}
        if not reasons:
            return {"initial": COPIED,
                    "how": f"{self.server.spec.store_copy}, of a template account that got the same first "
                           "messages over IMAP APPEND once on this server; later mail over IMAP APPEND",
                    **figures}
        return {"initial": DELIVERED, "how": "IMAP APPEND into each sample's fresh account", "why": reasons[0],
                **figures}
