"""The life of one mail server container, whatever the implementation.

A subclass of ``MailServer`` says only what differs between implementations (its name,
where it keeps mail, which of its files are messages, how it purges deleted mail); this
module starts the container with its ports published on 127.0.0.1 only, waits until a
real LOGIN (for JMAP, an authenticated session request) succeeds on every protocol it
offers (never a fixed sleep), hands out test accounts, reads
the container's resources and an account's store, and removes it, also when the start
fails or the run is interrupted.
"""

from __future__ import annotations

import copy
import os
import re
import socket
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, ClassVar, Iterator

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from bench.access import AccessOptions, Endpoint, WireMeter, open_access
from bench.access.base import LOOPBACK
from bench.errors import MailbenchError, NotOffered, PortInUse, ServerStartError
from bench.protocols import PROTOCOLS, get_protocol, service_ports
from bench.servers.cgroup import CgroupFiles, Counters, find as find_cgroup
from bench.servers.store_copy import copy_store
from bench.servers.store_files import du_bytes, file_listing, linked_on_the_way, root_of, sync_file_system
from bench.tls import RunCertificates


LABEL = "mailbench"
LABEL_RUN = "mailbench.run"
LABEL_PID = "mailbench.pid"
LABEL_SERVER = "mailbench.server"


class MailServer:
    """One server implementation, as its image presents it.

    The image contract (see docker/<name>/): users ``user1``..``userN`` created at start from
    ``MAILBENCH_USERS``, all with the password in ``MAILBENCH_PASSWORD``; the mail store below
    ``mail_store``; the server's version in ``/etc/mailbench/version``; when the suite puts
    ``server.crt`` and ``server.key`` into ``/etc/mailbench/tls/`` before the start, IMAPS and
    POP3S on their ports (``bench.protocols``) and STARTTLS/STLS on the plaintext ports, with that certificate
    (and JMAP's HTTPS port, where the server offers JMAP).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    # The protocols the server offers (names in ``bench.protocols.PROTOCOLS``); a session of
    # any other gets ``NotOffered``.
    protocols: ClassVar[tuple[str, ...]] = ("imap", "pop3")
    # Protocols the image serves only when asked (``offering``), because switching them on
    # changes how the server keeps mail for the others too (Cyrus's JMAP needs its
    # conversations database); a run of IMAP and POP3 leaves them off.
    switchable: ClassVar[tuple[str, ...]] = ()
    # Protocol -> the protocol whose login an account needs once before a session of the
    # first finds its mailbox (Cyrus's httpd does not create a user's INBOX; imapd does).
    login_first: ClassVar[dict[str, str]] = {}
    tls_folder: ClassVar[str] = "/etc/mailbench/tls"
    mail_store: ClassVar[str] = "/var/mail"
    version_file: ClassVar[str] = "/etc/mailbench/version"
    password: ClassVar[str] = "mailbench"
    # Which files of a user's store (paths relative to it) hold one message each; every
    # other file is the server's state (indexes, UID lists, caches, flags). Maildir: the
    # files in cur/, new/ and tmp/ of each folder.
    message_file: ClassVar[re.Pattern[str]] = re.compile(r"(?:^|/)(?:cur|new|tmp)/[^/]+$")
    # What becomes of a message the user deleted (IMAP EXPUNGE, POP3 DELE and QUIT).
    deletion: ClassVar[str] = "removed at once: its file is unlinked when the deletion is committed"
    # Whether a copy of one user's store (``user_store``), made while the server has neither
    # open, is a valid mailbox of another user, the same as the server would have written
    # (``bench.servers.store_copy``); else, why not.
    store_copy: ClassVar[str | None] = None
    no_store_copy: ClassVar[str] = "not checked for this server"

    def copy_store(self, running: "RunningServer", source: Account, target: Account) -> str | None:
        """Make ``target``'s mailbox what ``source``'s is (``store_copy`` says how); None when
        done, else why it cannot be. Here: a copy of the user's folder from the host
        (``RunningServer.copy_files``), for servers that keep a user's whole state in it."""
        return running.copy_files(source, target)

    @property
    def ports(self) -> dict[str, int]:
        """Services by name: each offered protocol's plaintext port, and its implicit-TLS port
        (``<protocol>s``), as ``bench.protocols`` declares them."""
        return service_ports(self.protocols)

    def offers(self, protocol: str) -> bool:
        return protocol in self.protocols

    @property
    def image_stage(self) -> str | None:
        """The build stage of the server's Dockerfile for the protocols on (``offering``),
        where the file holds more than one image; None: its only (last) stage."""
        return None

    def offering(self, *extra: str) -> "MailServer":
        """This server with the ``switchable`` protocols named switched on as well."""
        unknown = [name for name in extra if name not in self.switchable]
        if unknown:
            raise NotOffered(self.not_offered(unknown[0]))
        switched = copy.copy(self)
        switched.protocols = tuple(dict.fromkeys((*self.protocols, *extra)))
        return switched

    def not_offered(self, protocol: str) -> str:
        """Why a session of ``protocol`` cannot be had here, in one line."""
        label = get_protocol(protocol).label
        if protocol in self.switchable:
            return f"{label} is off in this {self.name} container: the run did not ask for it"
        return f"{label} is not offered by this server ({self.name})"

    def username(self, index: int) -> str:
        return f"user{index}"

    def user_store(self, username: str) -> str:
        """Where one user's mail lies in the container (a shell glob), for its disk use."""
        return f"{self.mail_store}/{username}"

    def purge(self, container: Container, username: str) -> str:
        """Make the server remove for good the mail ``username`` deleted, so that a reading of
        the store counts only what a reader can still get back; returns what was done, for
        the results. Servers that delete at once need nothing."""
        return "none: the server deletes at once"

    def setup_username(self, username: str) -> str:
        """The login setup (delivering the corpus) uses for ``username``'s mailbox: the user's
        own, unless the server gives setup a faster way in (Dovecot)."""
        return username

    def settle(self, container: Container, username: str, flush: Callable[[], None]) -> None:
        """What must follow a delivery into ``username``'s mailbox before anything is
        measured, so that the measurement sees the server as a plain delivery leaves it:
        nothing where setup delivers as the user, with the server's own fsyncs; ``flush``
        puts the store on disk (``RunningServer.flush_store``)."""

    def flush(self, container: Container, username: str) -> None:
        """Write what is in the page cache of ``username``'s store to disk: ``sync -f``
        flushes the whole file system the store is on (syncfs(2)). For files written
        without an fsync (a setup login's delivery, a copy of a template account), where
        the host cannot do it (``RunningServer.flush_store``)."""
        code, output = container.exec_run(["sync", "-f", self.user_store(username)])
        if code != 0:
            raise MailbenchError(f"sync -f {self.user_store(username)} in {self.name} failed ({code}): "
                                 f"{output.decode(errors='replace').strip()}")

    def environment(self, users: int) -> dict[str, str]:
        return {"MAILBENCH_USERS": str(users), "MAILBENCH_PASSWORD": self.password,
                "MAILBENCH_PROTOCOLS": " ".join(self.protocols)}


@dataclass(frozen=True)
class Account:
    index: int
    username: str


@dataclass(frozen=True)
class StoreUsage:
    """One account's store by kind of file, in bytes (directories not counted; a file with
    several links counted once)."""

    message_bytes: int  # the message files
    state_bytes: int  # every other file: indexes, UID lists, caches, flags


@dataclass(frozen=True)
class Resources:
    """A reading of the container's counters; differences of two readings are the costs."""

    cpu_s: float
    memory_bytes: int


class RunningServer:
    """A started, ready container with typed accessors for what the scenarios need."""

    def __init__(self, spec: MailServer, container: Container, host_ports: dict[str, int], users: int,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.spec = spec
        self.container = container
        self.host_ports = host_ports
        self.users = users
        self.ssl_context = ssl_context  # trusts the run's CA only; None: the server has no TLS
        self._next_user = 1
        self._spare_taken = 0  # accounts taken from the top by ``spare_account``
        # The main process's cgroup files and file system on this host (``_host_view``).
        self._view: tuple[CgroupFiles | None, Path | None] | None = None
        # Accounts that had the login ``MailServer.login_first`` asks for, by protocol name.
        self._logged_in: set[tuple[str, str]] = set()
        # Where ``resources`` read the counters: "cgroup files" or "docker stats".
        self.counters_source = ""

    @property
    def name(self) -> str:
        return self.spec.name

    def endpoint(self, protocol: str, account: Account, tls: str = "off", timeout_s: float = 30.0) -> Endpoint:
        """Where ``account`` reaches ``protocol``: plaintext, implicit TLS (``on``) or STARTTLS.
        A protocol the server does not offer raises ``NotOffered``. Where the account needs
        another protocol's login first (``MailServer.login_first``), it gets it here, once."""
        record = get_protocol(protocol)
        if not self.spec.offers(protocol):
            raise NotOffered(self.spec.not_offered(protocol))
        service = record.service(tls)
        if tls != "off" and self.ssl_context is None:
            raise ValueError(f"{self.name} was started without TLS certificates")
        first = self.spec.login_first.get(protocol)
        if first is not None and (first, account.username) not in self._logged_in:
            open_access(first, self.endpoint(first, account, timeout_s=timeout_s), WireMeter()).close()
            self._logged_in.add((first, account.username))
        context = self.ssl_context if tls != "off" else None
        return Endpoint(self.host_ports[service], account.username, self.spec.password, LOOPBACK,
                        timeout_s, tls, context)

    def delivery_endpoint(self, account: Account) -> Endpoint:
        """Where setup delivers into ``account``'s mailbox: IMAP, plaintext, as the server's
        setup login (``MailServer.setup_username``)."""
        return replace(self.endpoint("imap", account), username=self.spec.setup_username(account.username))

    def settle_delivery(self, account: Account) -> None:
        """The step after a delivery into ``account`` and before a measurement (``MailServer.settle``)."""
        self.spec.settle(self.container, account.username, lambda: self.flush_store(account))

    def flush_store(self, account: Account) -> None:
        """Put ``account``'s store on disk: syncfs(2) from the host where it sees the
        container's files (``store_files.sync_file_system``), else ``MailServer.flush`` in
        the container; after a copy into it, or a setup delivery without fsyncs."""
        root = self._host_root()
        if root is None or not sync_file_system(root, self.spec.user_store(account.username)):
            self.spec.flush(self.container, account.username)

    def services(self) -> list[tuple[str, str]]:
        """Every (protocol, tls) way in that this container offers."""
        offered = [PROTOCOLS[name] for name in self.spec.protocols]
        ways = [(protocol.name, "off") for protocol in offered]
        if self.ssl_context is not None:
            ways += [(protocol.name, tls) for protocol in offered for tls in protocol.tls_ways]
        return ways

    def account(self, index: int) -> Account:
        return Account(index, self.spec.username(index))

    def fresh_account(self) -> Account:
        """An account no earlier sample has touched, so every sample starts alike."""
        if self._next_user > self.users - self._spare_taken:
            raise RuntimeError(f"{self.name}: all {self.users} test accounts are used")
        account = self.account(self._next_user)
        self._next_user += 1
        return account

    def spare_account(self) -> Account:
        """An untouched account taken from the top (user<N>, then user<N-1>, ...), so that the
        accounts ``fresh_account`` hands out are numbered as they would be without it: a
        user name's length is in every login's bytes."""
        if self.users - self._spare_taken < self._next_user:
            raise RuntimeError(f"{self.name}: all {self.users} test accounts are used")
        account = self.account(self.users - self._spare_taken)
        self._spare_taken += 1
        return account

    def resources(self) -> Resources:
        """CPU used so far, and memory in use the way ``docker stats`` counts it: without
        the page cache the kernel could drop (else every message written counts). Read
        from the container's cgroup files where this host has them (``bench.servers.cgroup``
        says why), else through the daemon; ``counters_source`` says which."""
        counters = self._cgroup_counters()
        if counters is not None:
            return Resources(counters.cpu_ns / 1e9, max(0, counters.memory_bytes - counters.inactive_file_bytes))
        self.counters_source = "docker stats"
        stats = self.container.stats(stream=False, one_shot=True)
        cpu_ns = stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0)
        memory_stats = stats.get("memory_stats", {})
        detail = memory_stats.get("stats", {})
        cache = detail.get("total_inactive_file", detail.get("inactive_file", 0))
        return Resources(cpu_ns / 1e9, max(0, memory_stats.get("usage", 0) - cache))

    def _host_view(self, stale: bool = False) -> tuple[CgroupFiles | None, Path | None]:
        """Where this host sees the container's main process: its cgroup files and its file
        system (None each where it does not). Looked up once per main process (a kill or a
        restart starts another), or again when a caller found the last lookup ``stale``; a
        host that sees neither is not asked again on every reading."""
        if self._view is None or stale:
            self.container.reload()
            pid = int(self.container.attrs.get("State", {}).get("Pid") or 0)
            self._view = (find_cgroup(pid), root_of(pid))
        return self._view

    def _cgroup_counters(self) -> Counters | None:
        """The counters from the cgroup files; None where they cannot be read."""
        for attempt in range(2):
            files = self._host_view(stale=attempt > 0)[0]
            if files is None:
                return None
            try:
                counters = files.read()
            except (OSError, KeyError, ValueError):
                continue
            self.counters_source = "cgroup files"
            return counters
        return None

    def _host_root(self) -> Path | None:
        """The container's file system as this host sees it (``bench.servers.store_files``)."""
        root = self._host_view()[1]
        if root is not None and not root.exists():
            root = self._host_view(stale=True)[1]
        return root

    def disk_bytes(self, account: Account | None = None) -> int:
        """Bytes under the mail store, or one account's part of it (messages, indexes, caches):
        ``du -sbc``, read from the host where it sees the container's files, else run in it."""
        path = self.spec.user_store(account.username) if account else self.spec.mail_store
        root = self._host_root()
        if root is not None:
            return du_bytes(root, path)
        code, output = self.container.exec_run(["sh", "-c", f"du -sbc {path} 2>/dev/null | tail -n 1"])
        try:
            return int(output.split()[0])
        except (IndexError, ValueError):
            raise RuntimeError(f"du in {self.name} failed ({code}): {output.decode(errors='replace').strip()}") from None

    def store_usage(self, account: Account) -> StoreUsage:
        """The bytes of message files and of every other file in the account's store
        (``MailServer.message_file`` tells them apart). Per-user state kept outside the
        store (Cyrus's, in /var/lib/cyrus) is not in it: docs/servers.md."""
        path = self.spec.user_store(account.username)
        root = self._host_root()
        listing = file_listing(root, path) if root is not None else None
        if listing is None:
            code, output = self.container.exec_run(
                ["sh", "-c", f"find {path} -type f -printf '%i %s %P\\n'"])
            if code != 0:
                raise RuntimeError(f"find in {self.name} failed ({code}): {output.decode(errors='replace').strip()}")
            listing = output.decode(errors="surrogateescape")
        return store_usage_of(listing, self.spec.message_file)

    def copy_account(self, source: Account, target: Account) -> str | None:
        """Make ``target``'s mailbox a copy of ``source``'s, the server's way
        (``MailServer.copy_store``); neither account may be in use. None when done, else
        why it cannot be: the server's store cannot be copied (``MailServer.no_store_copy``),
        or the copy could not be made."""
        if self.spec.store_copy is None:
            return self.spec.no_store_copy
        return self.spec.copy_store(self, source, target)

    def copy_files(self, source: Account, target: Account) -> str | None:
        """Make ``target``'s store a copy of ``source``'s folder (``bench.servers.store_copy``),
        from the host. None when done, else why not: this host does not see the
        container's files, or a symbolic link lies on the way."""
        root = self._host_root()
        if root is None:
            return "this host does not see the container's files (/proc/<pid>/root)"
        paths = [root / self.spec.user_store(account.username).lstrip("/") for account in (source, target)]
        for path in paths:
            link = linked_on_the_way(root, path)
            if link is not None:
                return f"{link.relative_to(root)} in the container is a symbolic link"
        copy_store(*paths)
        return None

    def discard_store(self, account: Account) -> None:
        """Remove ``account``'s store (its folder: messages and state) once no sample will
        use the account again: a run whose mailboxes would not all fit frees each sample's
        (``bench.disk_space``). Run in the container (``rm -rf``), so that no path is
        resolved on this host; a server's own records of the account (Cyrus's
        ``mailboxes.db``) stay, pointing at a folder nobody opens again."""
        path = self.spec.user_store(account.username)
        code, output = self.container.exec_run(["sh", "-c", f"rm -rf {path}"])
        if code != 0:
            raise MailbenchError(f"rm -rf {path} in {self.name} failed ({code}): "
                                 f"{output.decode(errors='replace').strip()}")

    def purge(self, account: Account) -> str:
        """Have the server remove for good what the account deleted (``MailServer.purge``);
        returns what was done."""
        return self.spec.purge(self.container, account.username)

    def kill(self) -> None:
        """Kill every process of the server at once (``docker kill``: SIGKILL), as a crash or
        a power cut of the process would; the container and its mail store stay."""
        self.container.kill()
        self._view = None  # its main process is gone; a restart starts another

    def restart(self, ready_timeout_s: float = 60.0) -> None:
        """Start the killed container again and wait until every service answers a LOGIN.
        Docker may publish it on new host ports: ``host_ports`` follows."""
        self.container.start()
        self._view = None
        self.host_ports = _published_ports(self.container, self.spec, list(self.host_ports))
        wait_ready(self, ready_timeout_s)

    def revive(self, ready_timeout_s: float = 60.0) -> str | None:
        """Bring back a server that a fault or a crash left down: thaw a paused container,
        start a stopped one, and wait until every service answers a LOGIN. Returns what was
        done, or None when it was running."""
        self.container.reload()
        status = self.container.status
        if status == "running":
            return None
        if status == "paused":
            self.container.unpause()
            wait_ready(self, ready_timeout_s)
            return "it was paused: thawed"
        self.restart(ready_timeout_s)
        return f"it had stopped ({status}): started again"

    def version(self) -> str:
        code, output = self.container.exec_run(["cat", self.spec.version_file])
        return output.decode(errors="replace").strip() if code == 0 else "unknown"

    def logs_tail(self, lines: int = 30) -> str:
        try:
            return self.container.logs(tail=lines).decode(errors="replace")
        except (APIError, NotFound):
            return "(no logs: container gone)"


def store_usage_of(listing: str, message_file: re.Pattern[str]) -> StoreUsage:
    """Sum ``find -printf '%i %s %P\\n'`` lines (inode, size, path in the store) by kind;
    a file linked under several names (a copied message) is counted once, as ``du`` does."""
    seen: set[str] = set()
    message_bytes = state_bytes = 0
    for line in listing.splitlines():
        inode, size, path = (line.split(" ", 2) + ["", ""])[:3]
        if not size.isdigit() or inode in seen:
            continue
        seen.add(inode)
        if message_file.search(path):
            message_bytes += int(size)
        else:
            state_bytes += int(size)
    return StoreUsage(message_bytes, state_bytes)


def check_port_free(port: int) -> None:
    """Raise ``PortInUse`` when something already listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            raise PortInUse(
                f"port 127.0.0.1:{port} is already in use; pass another --port-base, "
                "or leave it out and mailbench picks free ports"
            ) from None


def wait_ready(running: RunningServer, timeout_s: float, poll_s: float = 0.1) -> None:
    """Poll until a real LOGIN succeeds on every protocol the server offers (JMAP: an
    authenticated request of the session resource that names JMAP Mail), or fail with the
    container's logs."""
    deadline = time.monotonic() + timeout_s
    pending = set(running.services())
    last_error = "no attempt yet"
    while pending:
        running.container.reload()
        if running.container.status not in ("created", "running"):
            raise ServerStartError(
                f"{running.name} container stopped ({running.container.status}) while starting; "
                f"its log ends with:\n{running.logs_tail()}"
            )
        for protocol, tls in sorted(pending):
            try:
                endpoint = running.endpoint(protocol, running.account(1), tls, timeout_s=2.0)
                open_access(protocol, endpoint, WireMeter(), AccessOptions()).close()
                pending.discard((protocol, tls))
            except Exception as exc:  # any failure means "not ready yet" until the deadline
                last_error = f"{protocol} (tls {tls}): {type(exc).__name__}: {exc}"
        if pending and time.monotonic() > deadline:
            raise ServerStartError(
                f"{running.name} not ready after {timeout_s:.0f} s ({last_error}); "
                f"its log ends with:\n{running.logs_tail()}"
            )
        if pending:
            time.sleep(poll_s)


def _published_ports(container: Container, spec: MailServer, services: list[str]) -> dict[str, int]:
    container.reload()
    bindings = container.attrs["NetworkSettings"]["Ports"]
    ports = {}
    for service in services:
        port = spec.ports[service]
        binding = bindings.get(f"{port}/tcp") or []
        loopback = [b for b in binding if b.get("HostIp") == LOOPBACK]
        if not loopback:
            raise ServerStartError(f"{spec.name}: port {port} was not published on {LOOPBACK}")
        ports[service] = int(loopback[0]["HostPort"])
    return ports


def remove_container(container: Container) -> None:
    try:
        container.remove(force=True)
    except NotFound:
        pass


@contextmanager
def run_server(
    client: docker.DockerClient,
    spec: MailServer,
    image: str,
    *,
    users: int,
    run_id: str,
    certificates: RunCertificates | None = None,
    port_base: int | None = None,
    ready_timeout_s: float = 60.0,
    say: Callable[[str], None] = lambda line: None,
    cpuset_cpus: str | None = None,
    publish_address: str = LOOPBACK,
) -> Iterator[RunningServer]:
    """Start a container of ``spec`` and remove it on the way out, whatever happens.

    With ``certificates`` the container gets the run's server certificate before it starts,
    and its TLS ports are published too. ``cpuset_cpus`` pins it to those CPUs (docker's
    ``--cpuset-cpus``); ``publish_address``, when the user named one other than 127.0.0.1,
    publishes every port there too, beside 127.0.0.1, where the suite's own clients go.
    """
    services = [s for s in spec.ports if certificates is not None or s in PROTOCOLS]
    if port_base is not None:
        wanted = {service: port_base + i for i, service in enumerate(services)}
        for port in wanted.values():
            check_port_free(port)
    else:
        wanted = {service: None for service in services}
    publish: dict[str, object] = {f"{spec.ports[service]}/tcp": (LOOPBACK, host) for service, host in wanted.items()}
    if publish_address != LOOPBACK:
        publish = {port: [binding, (publish_address, None)] for port, binding in publish.items()}
    labels = {LABEL: "1", LABEL_RUN: run_id, LABEL_PID: str(os.getpid()), LABEL_SERVER: spec.name}
    container = None
    try:
        container = client.containers.create(
            image,
            labels=labels,
            environment=spec.environment(users),
            ports=publish,
            cpuset_cpus=cpuset_cpus,
            name="-".join(["mailbench", run_id, spec.name, *(p for p in spec.protocols if p in spec.switchable)]),
        )
        if certificates is not None:
            container.put_archive(spec.tls_folder, certificates.server_archive())
        try:
            container.start()
        except APIError as exc:
            if "already allocated" in str(exc) or "address already in use" in str(exc):
                raise PortInUse(f"a port for {spec.name} is already in use ({exc.explanation}); "
                                "pass another --port-base") from None
            raise
        context = certificates.client_context() if certificates is not None else None
        running = RunningServer(spec, container, _published_ports(container, spec, services), users, context)
        started = time.monotonic()
        wait_ready(running, ready_timeout_s)
        ports = ", ".join(f"{service} 127.0.0.1:{port}" for service, port in running.host_ports.items())
        say(f"{spec.name} ready in {time.monotonic() - started:.1f} s ({ports})")
        yield running
    finally:
        if container is not None:
            remove_container(container)


def _owner_alive(pid_label: str | None) -> bool:
    """Whether the process that started a container still runs; a container without an
    owner label was started by hand, and only ``mailbench clean`` removes it."""
    try:
        pid = int(pid_label or "")
    except ValueError:
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean(client: docker.DockerClient, *, orphans_only: bool = False, run_id: str | None = None) -> list[str]:
    """Remove containers labelled ``mailbench``: all of them, one run's, or those whose run is dead.

    ``orphans_only`` is what a new run does first: it removes what a killed run left behind
    (its owner process is gone) without touching a run going on beside it.
    """
    label = f"{LABEL_RUN}={run_id}" if run_id else LABEL
    removed = []
    for container in client.containers.list(all=True, filters={"label": label}):
        if orphans_only and _owner_alive(container.labels.get(LABEL_PID)):
            continue
        remove_container(container)
        removed.append(container.name)
    return removed
