"""The life of one mail server container, whatever the implementation.

A subclass of ``MailServer`` says only what differs between implementations (its name,
where it keeps mail); this module starts the container with its ports published on
127.0.0.1 only, waits until a real LOGIN succeeds on every protocol (never a fixed sleep),
hands out test accounts, reads the container's resources, and removes it, also when the
start fails or the run is interrupted.
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, ClassVar, Iterator

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from bench.access import AccessOptions, Endpoint, WireMeter, open_access
from bench.access.base import LOOPBACK
from bench.errors import PortInUse, ServerStartError

LABEL = "mailbench"
LABEL_RUN = "mailbench.run"
LABEL_PID = "mailbench.pid"
LABEL_SERVER = "mailbench.server"


class MailServer:
    """One server implementation, as its image presents it.

    The image contract (see docker/<name>/): users ``user1``..``userN`` created at start from
    ``MAILBENCH_USERS``, all with the password in ``MAILBENCH_PASSWORD``; the mail store below
    ``mail_store``; the server's version in ``/etc/mailbench/version``.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    ports: ClassVar[dict[str, int]] = {"imap": 143, "pop3": 110}
    mail_store: ClassVar[str] = "/var/mail"
    version_file: ClassVar[str] = "/etc/mailbench/version"
    password: ClassVar[str] = "mailbench"

    def username(self, index: int) -> str:
        return f"user{index}"

    def user_store(self, username: str) -> str:
        """Where one user's mail lies in the container (a shell glob), for its disk use."""
        return f"{self.mail_store}/{username}"

    def environment(self, users: int) -> dict[str, str]:
        return {"MAILBENCH_USERS": str(users), "MAILBENCH_PASSWORD": self.password}


@dataclass(frozen=True)
class Account:
    index: int
    username: str


@dataclass(frozen=True)
class Resources:
    """A reading of the container's counters; differences of two readings are the costs."""

    cpu_s: float
    memory_bytes: int


class RunningServer:
    """A started, ready container with typed accessors for what the scenarios need."""

    def __init__(self, spec: MailServer, container: Container, host_ports: dict[str, int], users: int) -> None:
        self.spec = spec
        self.container = container
        self.host_ports = host_ports
        self.users = users
        self._next_user = 1

    @property
    def name(self) -> str:
        return self.spec.name

    def endpoint(self, protocol: str, account: Account, timeout_s: float = 30.0) -> Endpoint:
        return Endpoint(self.host_ports[protocol], account.username, self.spec.password, LOOPBACK, timeout_s)

    def account(self, index: int) -> Account:
        return Account(index, self.spec.username(index))

    def fresh_account(self) -> Account:
        """An account no earlier sample has touched, so every sample starts alike."""
        if self._next_user > self.users:
            raise RuntimeError(f"{self.name}: all {self.users} test accounts are used")
        account = self.account(self._next_user)
        self._next_user += 1
        return account

    def resources(self) -> Resources:
        """CPU used so far, and memory in use the way ``docker stats`` counts it: without
        the page cache the kernel could drop (else every message written counts)."""
        stats = self.container.stats(stream=False, one_shot=True)
        cpu_ns = stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0)
        memory_stats = stats.get("memory_stats", {})
        detail = memory_stats.get("stats", {})
        cache = detail.get("total_inactive_file", detail.get("inactive_file", 0))
        return Resources(cpu_ns / 1e9, max(0, memory_stats.get("usage", 0) - cache))

    def disk_bytes(self, account: Account | None = None) -> int:
        """Bytes under the mail store, or one account's part of it (messages, indexes, caches)."""
        path = self.spec.user_store(account.username) if account else self.spec.mail_store
        code, output = self.container.exec_run(["sh", "-c", f"du -sbc {path} 2>/dev/null | tail -n 1"])
        try:
            return int(output.split()[0])
        except (IndexError, ValueError):
            raise RuntimeError(f"du in {self.name} failed ({code}): {output.decode(errors='replace').strip()}") from None

    def version(self) -> str:
        code, output = self.container.exec_run(["cat", self.spec.version_file])
        return output.decode(errors="replace").strip() if code == 0 else "unknown"

    def logs_tail(self, lines: int = 30) -> str:
        try:
            return self.container.logs(tail=lines).decode(errors="replace")
        except (APIError, NotFound):
            return "(no logs: container gone)"


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
    """Poll until a real LOGIN succeeds on every protocol, or fail with the container's logs."""
    deadline = time.monotonic() + timeout_s
    pending = set(running.spec.ports)
    last_error = "no attempt yet"
    while pending:
        running.container.reload()
        if running.container.status not in ("created", "running"):
            raise ServerStartError(
                f"{running.name} container stopped ({running.container.status}) while starting; "
                f"its log ends with:\n{running.logs_tail()}"
            )
        for protocol in sorted(pending):
            endpoint = running.endpoint(protocol, running.account(1), timeout_s=2.0)
            try:
                open_access(protocol, endpoint, WireMeter(), AccessOptions()).close()
                pending.discard(protocol)
            except Exception as exc:  # any failure means "not ready yet" until the deadline
                last_error = f"{protocol}: {type(exc).__name__}: {exc}"
        if pending and time.monotonic() > deadline:
            raise ServerStartError(
                f"{running.name} not ready after {timeout_s:.0f} s ({last_error}); "
                f"its log ends with:\n{running.logs_tail()}"
            )
        if pending:
            time.sleep(poll_s)


def _published_ports(container: Container, spec: MailServer) -> dict[str, int]:
    container.reload()
    bindings = container.attrs["NetworkSettings"]["Ports"]
    ports = {}
    for protocol, port in spec.ports.items():
        binding = bindings.get(f"{port}/tcp") or []
        loopback = [b for b in binding if b.get("HostIp") == LOOPBACK]
        if not loopback:
            raise ServerStartError(f"{spec.name}: port {port} was not published on {LOOPBACK}")
        ports[protocol] = int(loopback[0]["HostPort"])
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
    port_base: int | None = None,
    ready_timeout_s: float = 60.0,
    say: Callable[[str], None] = lambda line: None,
) -> Iterator[RunningServer]:
    """Start a container of ``spec`` and remove it on the way out, whatever happens."""
    if port_base is not None:
        wanted = {protocol: port_base + i for i, protocol in enumerate(sorted(spec.ports))}
        for port in wanted.values():
            check_port_free(port)
    else:
        wanted = {protocol: None for protocol in spec.ports}
    publish = {f"{spec.ports[protocol]}/tcp": (LOOPBACK, host) for protocol, host in wanted.items()}
    labels = {LABEL: "1", LABEL_RUN: run_id, LABEL_PID: str(os.getpid()), LABEL_SERVER: spec.name}
    container = None
    try:
        try:
            container = client.containers.run(
                image,
                detach=True,
                labels=labels,
                environment=spec.environment(users),
                ports=publish,
                name=f"mailbench-{run_id}-{spec.name}",
            )
        except APIError as exc:
            if "already allocated" in str(exc) or "address already in use" in str(exc):
                raise PortInUse(f"a port for {spec.name} is already in use ({exc.explanation}); "
                                "pass another --port-base") from None
            raise
        running = RunningServer(spec, container, _published_ports(container, spec), users)
        started = time.monotonic()
        wait_ready(running, ready_timeout_s)
        say(f"{spec.name} ready in {time.monotonic() - started:.1f} s "
            f"(imap 127.0.0.1:{running.host_ports['imap']}, pop3 127.0.0.1:{running.host_ports['pop3']})")
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


def clean(client: docker.DockerClient, *, orphans_only: bool = False) -> list[str]:
    """Remove containers labelled ``mailbench``: all of them, or those whose run is dead.

    ``orphans_only`` is what a new run does first: it removes what a killed run left behind
    (its owner process is gone) without touching a run going on beside it.
    """
    removed = []
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        if orphans_only and _owner_alive(container.labels.get(LABEL_PID)):
            continue
        remove_container(container)
        removed.append(container.name)
    return removed
