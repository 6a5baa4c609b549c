"""Courier (courier-imap 5.0.13, courier-pop from Debian 12): Maildir under /var/mail,
users in userdb.

There is no init system in the image (docker/courier/): the entrypoint runs authdaemond
and one ``couriertcpd`` per port in the foreground, with the settings of Debian's
/etc/courier/{imapd,pop3d}[-ssl] and its own on top, and stops the container when any of
them ends. Logs go to the container's output. Users are userdb entries (one password hash
for all, ``makeuserdb`` once) with a Maildir made at start: ready in about 0.5 s with 200
users, 0.9 s with 1,000. Settings that differ from Debian's: ``MAXDAEMONS`` and
``MAXPERIP`` 500 (Debian: 40, and 20 per address for IMAP, 4 for POP3, while every
connection here comes from the one bridge gateway), ``authmodulelist="authuserdb"``, no
STARTTLS/STLS without a certificate, and the self-signed pair Debian makes at install is
removed. Kept from Debian: 5 authdaemond processes, and ``ulimit -v`` of 128 MB on imapd.

**Pipelining pitfall.** Courier advertises POP3 PIPELINING, but a command sent in the same
write as PASS gets no answer, and in IMAP a command in the same write as LOGIN neither
(checked with STAT and NOOP: nothing within 3 s). Our client never sends anything in the
same write as PASS or LOGIN; another client that does would hang on Courier.

What differs from the other servers, as measured on this image:

- APPEND of a message with bare LF line endings is accepted and stored with CRLF (IMAP and
  POP3 return CRLF; RFC822.SIZE counts it). Bare CRs are dropped, so lines separated only
  by CR run together. A NUL byte is kept as it is. Cyrus refuses all three; Dovecot also
  stores CRLF, but returns NUL as 0x80 over IMAP. A message without a final CRLF gets one
  (RFC822.SIZE grows by 2), where Dovecot and Cyrus return it over IMAP as sent.
- Lines longer than 998 octets are kept byte for byte (tried up to 2 MB). No size limit by
  default: 1 GB was accepted.
- POP3 UIDLs are ``UID<uid>-<UIDVALIDITY>`` and stable across sessions, but message numbers
  follow the Maildir's directory order, not arrival. A DELE is undone when the connection
  drops before QUIT. LOGIN-DELAY 10 is advertised but not enforced.
- IMAP CAPABILITY after login: IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT
  THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION ENABLE UTF8=ACCEPT (before login,
  STARTTLS too when a certificate was given). No MULTIAPPEND, LITERAL+, CONDSTORE, QRESYNC,
  MOVE or COMPRESS, so delivery appends one message per command.
- POP3 CAPA, the same before and after login: TOP, USER, LOGIN-DELAY 10, PIPELINING, UIDL,
  UTF8 USER, IMPLEMENTATION Courier Mail Server (and STLS with a certificate); no SASL, no
  RESP-CODES.
- Deleted mail is removed at once: the Maildir file is unlinked when QUIT (or EXPUNGE)
  commits it, so nothing needs purging. All of a user's state (``courierimapuiddb``,
  ``courierpop3dsizelist``, keywords, subscriptions) is in their Maildir, so a user's store
  can be copied to another user (``store_copy``): after an APPEND delivery it holds the
  messages in ``cur/``, ``courierimapuiddb`` (UIDVALIDITY, next UID, the file name of each
  UID) and an empty ``courierimapkeywords/``; a ``find -newer`` of the whole container
  after a delivery lists nothing else, and authdaemond keeps no per-user file. The copy
  keeps the source's UIDs, UIDVALIDITY and flags, and so its POP3 UIDLs.
- Sessions of one user wait for each other: 30 simultaneous SELECTs of one INBOX took
  1.2 s each (Dovecot 0.16 s, Cyrus 0.03 s); different users do not wait.
"""

from bench.servers.base import MailServer


class Courier(MailServer):
    name = "courier"
    description = "Courier IMAP and POP3, Maildir storage"
    mail_store = "/var/mail"
    store_copy = "a copy of the user's folder (Maildir, courierimapuiddb), from the host"
