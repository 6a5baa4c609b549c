"""Cyrus IMAP (cyrus-imapd, cyrus-pop3d, cyrus-caldav 3.6.1 from Debian 12): Cyrus's own
mailbox format below /var/spool/cyrus/mail, users in sasldb; IMAP, POP3 and JMAP.

The image (docker/cyrus/) runs ``cyrmaster -D`` in the foreground; Cyrus logs only to
syslog, so a busybox syslogd writes the log to the container's output. Users are created
with ``saslpasswd2`` in the realm ``mailbench`` (= ``servername``, which must not follow the
container's host name), about 4 ms a user: ready in about 1.2 s with 200 users, 4 s with
1,000. A user's INBOX is created at their first login, over IMAP or POP3. Settings that
differ from Debian's: ``popminpoll: 0`` (Debian allows one POP3 login a minute),
``maxchild=500`` and a listen backlog of 256 (a burst beyond the backlog of 32 waits a SYN
retransmission, 1 s), ``sasl_mech_list: PLAIN LOGIN`` like the other servers, no reverse
DNS (Cyrus looks up every client's host name; under a burst, lost DNS answers held some
greetings for the resolver's 5 s), and mailbox folders named after users
(``mailbox_legacy_dirs``, no hashing), so one user's mail is ``user/<name>``. Subscription
files, quota roots and ``mailboxes.db`` live in /var/lib/cyrus, outside ``mail_store``.

What differs from the other servers, as measured on this image:

- APPEND of a message with bare LF line endings is refused (``NO Message contains bare
  newlines``), and so are bare CR (``NO Message contains invalid header``) and NUL
  (``NO Message contains NUL characters``); Dovecot and Courier store all three.
- Lines longer than 998 octets, in the header or the body, are kept byte for byte (tried
  up to 2 MB). No size limit by default: 1 GB was accepted; ``APPENDLIMIT=4294967295``.
- POP3 UIDLs are ``<UIDVALIDITY>.<UID>`` and stable across sessions; a DELE is undone when
  the connection drops before QUIT. Commands in the same write as LOGIN or PASS are
  answered.
- IMAP CAPABILITY after login: IMAP4rev1 LITERAL+ ID ENABLE ACL ANNOTATE-EXPERIMENT-1
  BINARY CATENATE CHILDREN CONDSTORE CREATE-SPECIAL-USE ESEARCH ESORT LIST-EXTENDED
  LIST-MYRIGHTS LIST-STATUS MAILBOX-REFERRALS METADATA MOVE MULTIAPPEND NAMESPACE OBJECTID
  PREVIEW QRESYNC QUOTA RIGHTS=kxten SAVEDATE SEARCH=FUZZY SORT SORT=DISPLAY SPECIAL-USE
  STATUS=SIZE THREAD=ORDEREDSUBJECT THREAD=REFERENCES UIDPLUS UNSELECT URLAUTH
  URLAUTH=BINARY WITHIN DIGEST=SHA1 LIST-METADATA NO_ATOMIC_RENAME SCAN SORT=MODSEQ
  SORT=UID THREAD=REFS X-CREATEDMODSEQ X-REPLICATION X-SIEVE-MAILBOX XLIST XMOVE
  LOGINDISABLED COMPRESS=DEFLATE X-QUOTA=STORAGE X-QUOTA=MESSAGE
  X-QUOTA=X-ANNOTATION-STORAGE X-QUOTA=X-NUM-FOLDERS IDLE APPENDLIMIT=4294967295
  (before login, STARTTLS too when a certificate was given).
- POP3 CAPA after login: EXPIRE NEVER, LOGIN-DELAY 0, TOP, UIDL, PIPELINING, RESP-CODES,
  AUTH-RESP-CODE, IMPLEMENTATION; before login also SASL PLAIN LOGIN, USER (and STLS).
- Expunged mail stays on disk: Cyrus 3.6's defaults are ``expunge_mode: delayed`` and
  ``delete_mode: delayed`` (``cyr_info conf-default``), so an expunged message (IMAP
  EXPUNGE, POP3 DELE and QUIT) leaves the index but its file stays, recoverable with
  ``unexpunge``, until ``cyr_expire -X`` runs (a server runs it from cyrus.conf's EVENTS;
  this image's cyrus.conf has no such event). 20 messages deleted over POP3 left the store at
  1,348,696 bytes, byte for byte as before; ``cyr_expire -X 0 -u <user>`` brought it to
  4,794 in 0.09 s. ``purge`` runs that, as the cyrus user, for one account.
- The owner's seen flags are in the folder's ``cyrus.index``; reading messages creates no
  seen database. Outside the account's folder, in /var/lib/cyrus: its subscriptions
  (``user/<x>/<name>.sub``), its quota root (``quota/<x>/user.<name>``), and its folders'
  entries in ``mailboxes.db`` and ``annotations.db``.
- A sample's first mailbox is copied by the server itself (``copy_store``): Cyrus's admin
  (``admins: mailbench-admin`` in imapd.conf, a user of the image's own) gives itself the
  rights it needs on the template's and the sample's INBOX, COPYs every message of the
  template into the sample's (logged in once first, which creates it, as a delivery's
  login does), and takes the rights back, so both ACLs are as before. A copied folder
  would not do: a folder of Cyrus is a mailbox only through its entry in
  ``mailboxes.db`` (its unique id, UIDVALIDITY and ACL, also kept in the folder's
  ``cyrus.header`` and ``cyrus.index``), and ``reconstruct``, which would make one,
  rebuilds ``cyrus.index`` and ``cyrus.cache`` its own way and gives a new unique id. The
  COPY gives the sample's mailbox its own UIDVALIDITY and unique id, UIDs from 1 in the
  template's order, the messages' sizes, flags and cache records; each message file is a
  hard link to the template's (single-instance store, Cyrus's default), which changes no
  reading of the sample's folder (``du`` counts an inode once, and the template's folder
  is not read) and is never written (Cyrus writes a message file once; an expunge
  unlinks the sample's name only). 300 messages: 0.058 s against 0.600 s over APPEND
  (medians of 5, ``python benchmarks/store_copy_speed.py --server cyrus --messages 300``).
- A process serves one connection at a time and none is started ahead (Debian's
  ``prefork=0``): when 60 connections arrive at once on a fresh server, the later ones
  wait up to about 1.3 s for their greeting.
- JMAP, from httpd (``cyrus-caldav``) on JMAP's ports, in a container asked for it
  (``offering("jmap")``; docker/cyrus/imapd-jmap.conf): ``httpmodules: jmap`` with
  ``conversations: 1`` (every mailbox change, over IMAP and POP3 too, then updates the
  user's conversations database: docs/servers.md), so a run of IMAP and POP3 leaves it off. httpd does not create a user's INBOX:
  before the user's first IMAP or POP3 login the session names the account but its
  methods answer ``accountNotFound``, hence ``login_first``. Debian's httpd has no push (no
  Wslay in its build: its EventSource answers 204), so a container with JMAP runs the image's
  ``jmap-push`` stage (``image_stage``), whose httpd is built with Wslay and checks each
  pushed account every ``jmap_pushpoll`` second (docs/servers.md).
"""

import imaplib
import re

from docker.models.containers import Container

from bench.errors import MailbenchError
from bench.servers.base import Account, MailServer, RunningServer

CYR_EXPIRE = "/usr/lib/cyrus/bin/cyr_expire"
# Cyrus's admin (``admins`` in docker/cyrus/imapd.conf; made with the users by the image's
# entrypoint), and the rights it takes on a template and a sample's INBOX for a copy:
# lookup and read on the first, insert and the flags' rights on the second.
ADMIN = "mailbench-admin"
ADMIN_RIGHTS = "lrswit"
# How long the admin's session waits for an answer: a COPY of a large mailbox is one
# command (300 messages took 0.06 s; 100,000 are 333 times as many).
COPY_TIMEOUT_S = 600.0


def _ok(answer: tuple[str, list]) -> None:
    """imaplib answers NO with a ("NO", ...) pair, not an exception; make it one."""
    status, data = answer
    if status != "OK":
        raise imaplib.IMAP4.error(f"{status} {data!r}")


class Cyrus(MailServer):
    name = "cyrus"
    description = "Cyrus IMAP, POP3 and JMAP, Cyrus's own mailbox format"
    # JMAP only where asked (``offering("jmap")``): it needs the conversations database,
    # which every IMAP and POP3 change then updates too.
    switchable = ("jmap",)
    # httpd does not create a user's INBOX, imapd does at the first login (autocreate).
    login_first = {"jmap": "imap"}
    mail_store = "/var/spool/cyrus/mail"
    message_file = re.compile(r"(?:^|/)[0-9]+\.$")  # one file per message, "<uid>."
    deletion = ("kept, recoverable (unexpunge), until Cyrus's expunge runs (cyr_expire -X): "
                "expunge_mode is delayed, Cyrus 3.6's default")
    store_copy = "an IMAP COPY by Cyrus's admin (message files hard-linked)"

    def copy_store(self, running: RunningServer, source: Account, target: Account) -> str | None:
        """COPY the template's messages into the target's INBOX as Cyrus's admin (the
        module's docstring says why not a folder copy); None when done, else why not
        (the target then still empty, so that it can be delivered). A COPY that failed
        leaves the target in a state nobody knows (the server may have finished it after
        the client gave up): that is an error, not a reason to deliver on top of it."""
        endpoint = running.endpoint("imap", target)
        source_box, target_box = (f"user/{account.username}" for account in (source, target))
        try:
            with imaplib.IMAP4(endpoint.host, endpoint.port, timeout=endpoint.timeout_s) as user:
                _ok(user.login(target.username, self.password))  # creates the INBOX, as a delivery's login
                user.logout()
            admin = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=COPY_TIMEOUT_S)
        except (OSError, imaplib.IMAP4.error) as exc:
            return f"Cyrus's admin could not copy {source_box} into {target_box}: {exc}"
        with admin:
            try:
                _ok(admin.login(ADMIN, self.password))
                for mailbox in (source_box, target_box):
                    _ok(admin.setacl(mailbox, ADMIN, ADMIN_RIGHTS))
                _ok(admin.select(source_box, readonly=True))
            except (OSError, imaplib.IMAP4.error) as exc:
                return f"Cyrus's admin could not copy {source_box} into {target_box}: {exc}"
            try:
                _ok(admin.copy("1:*", target_box))
                _ok(admin.close())
                for mailbox in (source_box, target_box):
                    _ok(admin.deleteacl(mailbox, ADMIN))
                admin.logout()
            except (OSError, imaplib.IMAP4.error) as exc:
                raise MailbenchError(f"Cyrus's admin's COPY of {source_box} into {target_box} failed, leaving "
                                     f"{target_box} in a state not known: {exc}") from None
        return None

    @property
    def image_stage(self) -> str:
        """``jmap-push`` (Debian's Cyrus with an httpd built with Wslay, which pushes) for a
        container that serves JMAP; ``server`` (Debian's packages alone) for the others, so
        an IMAP and POP3 run never waits for a compiler (docker/cyrus/Dockerfile)."""
        return "jmap-push" if "jmap" in self.protocols else "server"

    def user_store(self, username: str) -> str:
        return f"{self.mail_store}/user/{username}"

    def purge(self, container: Container, username: str) -> str:
        """Run Cyrus's expunge for the user's folders at once (``cyr_expire -X 0``)."""
        command = [CYR_EXPIRE, "-X", "0", "-u", username]
        code, output = container.exec_run(command, user="cyrus")
        if code != 0:
            raise RuntimeError(f"{' '.join(command)} in cyrus failed ({code}): "
                               f"{output.decode(errors='replace').strip()}")
        return "cyr_expire -X 0 (as the cyrus user) before each reading of the store"
