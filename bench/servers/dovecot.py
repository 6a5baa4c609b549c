"""Dovecot (dovecot-imapd, dovecot-pop3d): Maildir under /var/mail, users in a passwd-file.

Differences that matter for a comparison (docs/servers.md has all three servers): bare LF
in an APPENDed message is stored as CRLF; a NUL byte comes back as 0x80 over IMAP but as
NUL over POP3; POP3 UIDLs are ``%08Xu%08Xv`` and stable; a DELE is undone when the link
drops before QUIT. Deleted mail is removed at once (no lazy_expunge plugin): the Maildir
file is unlinked when the expunge is committed, so nothing needs purging. All of a user's
state (index, cache, UID list, subscriptions) is in their Maildir, below /var/mail/<user>.
"""

from bench.servers.base import MailServer


class Dovecot(MailServer):
    name = "dovecot"
    description = "Dovecot IMAP and POP3, Maildir storage"
