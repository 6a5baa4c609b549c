"""Dovecot (dovecot-imapd, dovecot-pop3d): Maildir under /var/mail, users in a passwd-file.

Differences that matter for a comparison (docs/servers.md has all three servers): bare LF
in an APPENDed message is stored as CRLF; a NUL byte comes back as 0x80 over IMAP but as
NUL over POP3; POP3 UIDLs are ``%08Xu%08Xv`` and stable; a DELE is undone when the link
drops before QUIT. Deleted mail is removed at once (no lazy_expunge plugin): the Maildir
file is unlinked when the expunge is committed, so nothing needs purging. All of a user's
state (index, cache, UID list, subscriptions) is in their Maildir, below /var/mail/<user>.

A user's store can therefore be copied to another user (``store_copy``): after an APPEND
delivery it holds the messages in ``new/``, ``dovecot-uidlist`` (UIDVALIDITY, next UID,
the file name of each UID), ``dovecot-uidvalidity``, ``dovecot.index.log`` and
``dovecot.index.cache``, and the mailbox list index's log ``dovecot.list.index.log``;
nothing of the user is written outside /var/mail/<user> (a ``find -newer`` of the whole
container after a delivery lists only that folder). The copy keeps the UIDs, UIDVALIDITY,
mailbox GUID and flags of the source, and its \\Recent: no session has selected the
source, so every message is recent to the first session that selects the copy. POP3
UIDLs (``%08Xu%08Xv``) follow from the UIDs and UIDVALIDITY.

Setup delivers as ``userN@setup``: the same mailbox, with ``mail_fsync = never``
(docker/dovecot/dovecot.conf), where every other login has Dovecot's default
(``optimized``: an fsync per message saved, a delivery's largest cost on the server;
docs/servers.md has the figures). ``settle`` then flushes the file system (syncfs(2), as
``sync -f`` does, from the host: ``RunningServer.flush_store``),
as a copy of a template account is on every server, so that the measurement starts as
after a delivery with an fsync per message: every message on disk, no writeback of its
own to compete with.
"""

from collections.abc import Callable

from docker.models.containers import Container

from bench.servers.base import MailServer

SETUP_DOMAIN = "setup"


class Dovecot(MailServer):
    name = "dovecot"
    description = "Dovecot IMAP and POP3, Maildir storage"
    store_copy = "a copy of the user's folder (Maildir, UID list, indexes), from the host"

    def setup_username(self, username: str) -> str:
        return f"{username}@{SETUP_DOMAIN}"

    def settle(self, container: Container, username: str, flush: Callable[[], None]) -> None:
        """Write what the setup session left in the page cache to disk (``flush``)."""
        flush()
