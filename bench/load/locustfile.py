"""The Locust users of the many-devices scenario: the file each Locust process loads.

Only Locust processes import this module (mailbench starts them: ``bench.load.processes``),
so gevent's monkey-patching never reaches the harness. Each user is one device of one
account, driving the suite's own access classes through ``LocustMeter``:

- ``ImapUser`` and ``JmapUser`` hold a session open (``SessionUser``) and differ only in
  how they poll. Where the server pushes news (the harness tried it: ``UserPlan.push``)
  either waits for it (``wait_for_news``: IMAP IDLE; JMAP's event stream, opened before the
  device's first listing, on a second connection), renewed every ``idle_refresh_s``.
  Otherwise ``ImapUser`` polls with NOOP every ``poll_interval_s``, and ``JmapUser`` keeps
  its HTTP/1.1 connection alive and waits ``poll_interval_s``: its poll is the query
  itself, ``Email/changes`` since its state string with the gets of what changed
  (``list_messages(after=token)``), with no keep-alive command between. After the wait, both list the new
  messages, fetch their headers, then each whole message, and mark some read
  (``flag_share``) and a tenth of those flagged. A dropped session is reported as an
  error and opened again, after a second's pause.
- ``Pop3KeepUser`` polls every ``poll_interval_s``: connect, log in, UIDL, RETR what it has
  not seen, QUIT. Its first poll only learns what is there: the device had the mailbox.
- ``Pop3DeleteUser`` polls every ``poll_interval_s``: connect, log in, RETR everything, DELE
  it, QUIT. Its first poll takes down the account's whole starting mailbox.

Every user stops by itself at the level's end (``UserPlan.ends_at``), a few seconds before
Locust's own ``--run-time`` is up, so that every command it reported reaches the master
too (workers report every 3 s): both statistics paths then hold the same commands. A
polling user's polls are paced at a fixed interval from a seeded offset, and its last wait
ends at the level's end.
"""

from __future__ import annotations

import itertools
import os
import random
import time
import zlib

from locust import User, constant, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner

from bench.access import Endpoint, MailAccess
from bench.access.base import FLAGGED, LOOPBACK, SEEN
from bench.load.client import LocustMeter, RecordFile, open_session
from bench.load.config import UserPlan

PLAN = UserPlan.read(os.environ["MAILBENCH_LOAD_PLAN"])
WORKER = int(os.environ.get("MAILBENCH_LOAD_WORKER", "0"))
RECONNECT_PAUSE_S = 1.0


class WorkerState:
    """This process's record file and how many users it has started."""

    def __init__(self) -> None:
        self.records: RecordFile | None = None
        self.started = itertools.count()


STATE = WorkerState()


@events.init.add_listener
def _open_records(environment, **kwargs) -> None:
    if isinstance(environment.runner, MasterRunner):
        return  # the master runs no users
    path = os.path.join(PLAN.records_dir, f"worker-{WORKER}-{os.getpid()}.jsonl")
    STATE.records = RecordFile(open(path, "a", buffering=1))


@events.quitting.add_listener
def _close_records(environment, **kwargs) -> None:
    if STATE.records is not None:
        STATE.records.close()
        STATE.records = None


class MailUser(User):
    """One device of one account; subclasses say how it keeps up with new mail."""

    abstract = True

    def on_start(self) -> None:
        self.username = PLAN.username_of(WORKER, next(STATE.started))
        self.deadline = PLAN.ends_at
        self.rng = random.Random(zlib.crc32(f"{PLAN.seed}:{self.username}".encode()))
        self.meter = LocustMeter(PLAN.protocol, self.username, self.environment.events.request.fire, STATE.records)
        # mailbench writes 127.0.0.1; a worker on another machine gets a plan naming the
        # run's --publish-address (docs/load.md)
        self.endpoint = Endpoint(PLAN.port, self.username, PLAN.password, PLAN.host,
                                 named_address=PLAN.host != LOOPBACK)

    def still_on(self) -> float:
        """Real seconds left of the level; stops the user when there are none."""
        left = self.deadline - time.time()
        if left <= 0:
            raise StopUser()
        return left

    def report_unmetered(self, exc: Exception) -> None:
        """An error outside any command (a parse, a refused state): reported as ``SESSION``."""
        if exc is not self.meter.last_error:
            self.meter.report_error("SESSION", exc)

    def open(self) -> MailAccess:
        return open_session(PLAN.protocol, self.endpoint, self.meter)


def _close_quietly(access: MailAccess | None) -> None:
    if access is None:
        return
    try:
        access.close()
    except Exception:
        pass


class SessionUser(MailUser):
    """A device that holds one session open: it waits for news (``wait``, what subclasses
    say), then fetches what is new; a session that fails is closed and opened again."""

    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        super().on_start()
        self.access: MailAccess | None = None
        self.token = None

    def connect(self) -> None:
        self.access = self.open()
        self.pushed = self.access.can_push if PLAN.push is None else PLAN.push and self.access.can_push
        if self.pushed:
            self.access.watch_for_news()  # before the listing: nothing arriving meanwhile goes unannounced
        if self.token is None:  # the device had the mailbox: learn where it ends
            self.token = self.access.list_messages().token

    def wait(self, left: float) -> None:
        """Wait for news, at most ``left`` seconds (the rest of the level): for the server's
        push where it pushes (renewed every ``idle_refresh_s``), else ``poll_wait``."""
        if self.pushed:
            self.access.wait_for_news(min(PLAN.idle_refresh_s, left))
        else:
            self.poll_wait(left)

    def poll_wait(self, left: float) -> None:
        raise NotImplementedError

    @task
    def keep_up(self) -> None:
        left = self.still_on()
        try:
            if self.access is None:
                self.connect()
            self.wait(left)
            self.fetch_new()
        except StopUser:
            raise
        except Exception as exc:
            self.report_unmetered(exc)
            _close_quietly(self.access)
            self.access = None
            time.sleep(RECONNECT_PAUSE_S)

    def fetch_new(self) -> None:
        listing = self.access.list_messages(after=self.token)
        self.token = listing.token
        if not listing.refs:
            return
        for _ in self.access.fetch(listing.refs, "headers"):
            pass
        for _, raw in self.access.fetch(listing.refs, "full"):
            self.meter.received_mail(raw)
        read = [ref for ref in listing.refs if self.rng.random() < PLAN.flag_share]
        if read:
            self.access.set_flags(read, [SEEN])
        flagged = [ref for ref in read if self.rng.random() < 0.1]
        if flagged:
            self.access.set_flags(flagged, [FLAGGED])

    def on_stop(self) -> None:
        _close_quietly(self.access)
        self.access = None


class ImapUser(SessionUser):
    def poll_wait(self, left: float) -> None:
        """A polling interval's pause and a NOOP. The server reports news on the inbox the
        session keeps selected after a NOOP as after an IDLE, so the listing after either is
        one ``UID FETCH`` above the last UID, with no new SELECT."""
        time.sleep(min(PLAN.poll_interval_s, left))
        self.access.noop()


class JmapUser(SessionUser):
    def poll_wait(self, left: float) -> None:
        """A polling interval's pause: the listing after it (``Email/changes``) is the poll."""
        time.sleep(min(PLAN.poll_interval_s, left))


class PollingUser(MailUser):
    abstract = True

    def on_start(self) -> None:
        super().on_start()
        self.polls = 0
        self.poll_began = 0.0
        time.sleep(self.rng.uniform(0, min(PLAN.poll_interval_s, self.still_on())))  # spread the polls

    def wait_time(self) -> float:
        """Until the next poll is due (a fixed pacing), or the level's end, whichever comes first."""
        due = min(self.poll_began + PLAN.poll_interval_s, self.deadline)
        return max(0.0, due - time.time())

    @task
    def poll(self) -> None:
        self.still_on()
        self.poll_began = time.time()
        access = None
        try:
            access = self.open()
            self.session(access)
            self.polls += 1
        except StopUser:
            raise
        except Exception as exc:
            self.report_unmetered(exc)
        finally:
            _close_quietly(access)

    def session(self, access: MailAccess) -> None:
        raise NotImplementedError


class Pop3KeepUser(PollingUser):
    def on_start(self) -> None:
        self.known: set[str] = set()
        super().on_start()

    def session(self, access: MailAccess) -> None:
        refs = access.list_messages().refs
        new = [ref for ref in refs if ref.id not in self.known]
        if self.polls:  # the first poll only learns what the device already had
            for _, raw in access.fetch(new):
                self.meter.received_mail(raw)
        self.known.update(ref.id for ref in new)


class Pop3DeleteUser(PollingUser):
    def session(self, access: MailAccess) -> None:
        refs = access.list_messages().refs
        for _, raw in access.fetch(refs):
            self.meter.received_mail(raw)
        if refs:
            access.delete(refs)


# By mode; each class's name is the one ``bench.load.device_models`` declares for the harness.
USER_CLASSES = {"imap": ImapUser, "pop3-keep": Pop3KeepUser, "pop3-delete": Pop3DeleteUser, "jmap": JmapUser}
