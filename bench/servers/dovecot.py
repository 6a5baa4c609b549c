"""Dovecot (dovecot-imapd, dovecot-pop3d): Maildir under /var/mail, users in a passwd-file."""

from bench.servers.base import MailServer


class Dovecot(MailServer):
    name = "dovecot"
    description = "Dovecot IMAP and POP3, Maildir storage"
