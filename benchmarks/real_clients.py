"""mailbench's full download beside real, widely used C clients: mbsync (IMAP), fetchmail (POP3).

    python benchmarks/real_clients.py [--server dovecot] [--messages 300] [--rounds 5] [--seed 1]
                                      [--mbsync-compress on|off] [--out FILE.json]
    python benchmarks/real_clients.py --from FILE.json      # the table again, from the file alone

Does mailbench's device model download a mailbox the way real clients do, in time, bytes
and round trips? One server container (``bench.servers.run_server``, Dovecot unless
``--server`` says otherwise) serves four clients, in rounds:

- ``mailbench`` over IMAP and over POP3: bulk-fetch's full download, through the access
  layer as ``scenarios/bulk_fetch.py`` does it (a ``Device`` of mode ``imap`` or
  ``pop3-keep`` syncing into its Maildir store through ``bench.access.open_access`` with a
  ``WireMeter``);
- ``mbsync`` (Debian's isync): a generated mbsyncrc pulls INBOX into a fresh Maildir
  (``Sync Pull``, plaintext, ``AuthMechs LOGIN``). ``FSync no``: mailbench's store does
  not force its writes to disk either, and a per-message fsync would measure the disk, not
  the protocol. Everything else is mbsync's default, COMPRESS=DEFLATE included where the
  server offers it (``--mbsync-compress off`` disables it, to see the protocol alone);
  whether the session compressed is recorded;
- ``fetchmail``: ``--keep --all`` over POP3, delivering with ``--bsmtp`` into a file that
  is read back, with ``--invisible`` (no Received line of its own) and ``--norewrite``.
  BSMTP, not an MDA: an MDA is a process forked per message, which would measure process
  starts (a few milliseconds each) rather than the protocol; the BSMTP file is written in
  fetchmail's own process, as mailbench writes its store in its own.

Every client reaches the server through the same counting forwarder on 127.0.0.1
(``benchmarks/counting_forwarder.py``), mailbench too, so all four are counted by one
instrument at one place and pay the same extra hop. It counts bytes each way and round
trips with the meter's own ``ConnectionTap``: a round trip is each switch from
client-to-server bytes to server-to-client bytes on a connection, the greeting counting as
one, as ``bench/access/meter.py`` counts them for mailbench. For mailbench's rows the
meter's own figures are recorded beside the forwarder's, as a check of the instrument.

Each client run gets a fresh account with the corpus just delivered (``bench.delivery``;
its truth in a ``bench.corpus.Truth``), as each bulk-fetch sample does: every client meets
the same untouched mailbox (\\Recent set, nothing \\Seen), and no client's download, nor
the server's reaction to it (Dovecot's POP3 marks what RETR sent as \\Seen), reaches
another client's run. The mailbox is read before and after each run (IMAP EXAMINE, which
changes nothing): a message lost or added fails the run; flags the server set are recorded.

Rounds alternate the clients, and each round starts one place further along the order,
so no client always runs first (or right after a delivery). The time of a run is its wall
time: connect to logout for mailbench, process start to exit for mbsync and fetchmail. The
server's CPU during the run is read from the container's cgroup (``RunningServer.resources``)
before and after it: compression, for one, costs the server CPU the bytes do not show.

Every message a client stored is checked against the truth in canonical form
(``bench.corpus.canonical``); a run that lost or changed a byte fails, and a failed run's
time is never in the medians. Two documented client edits are undone before the check,
each exactly and no more: mbsync inserts one ``X-TUID:`` header line into each message
it stores (its transaction id); fetchmail moves a leading ``Return-Path:`` field into
the envelope (BSMTP's ``MAIL FROM``) for the final delivery to write back, as its source
says an MTA then does; the field is restored only where the envelope holds its address.

The results (``--out``, by default ``reports/real-clients-<server>-<time>.json``) hold
every run and the versions of the clients and the server, and a Markdown table is printed:
per protocol, mailbench against the real client. isync and fetchmail are installed with
apt-get when they are missing and this runs as root on Debian; otherwise it says what to
install. The container carries the ``mailbench`` label and is removed at the end, after
Ctrl-C or ``kill`` too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib import metadata
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any, Callable, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import environment
from bench.access import AccessOptions, Endpoint, WireMeter, open_access
from bench.access.base import LOOPBACK
from bench.corpus import Truth, canonical, message_id
from bench.corpus.generate import generate_messages
from bench.delivery import deliver
from bench.devices.device import Device, DeviceStore
from bench.errors import MailbenchError, UsageError, one_line
from bench.modes import get_mode
from bench.servers import SERVERS, get_server, run_server
from bench.servers.base import Account, RunningServer
from bench.servers.docker_client import connect
from bench.servers.images import ensure_base_image, ensure_server_image
from benchmarks.counting_forwarder import ForwarderProcess

RESULTS_KIND = "real-clients"
RESULTS_VERSION = 1
MB = 1_000_000

# The clients of a round, in their order in round 1; each later round starts one further on.
CLIENTS = ("mailbench-imap", "mbsync", "mailbench-pop3", "fetchmail")
PROTOCOL = {"mailbench-imap": "imap", "mbsync": "imap", "mailbench-pop3": "pop3", "fetchmail": "pop3"}
REAL_CLIENT = {"imap": "mbsync", "pop3": "fetchmail"}
MAILBENCH_MODE = {"imap": "imap", "pop3": "pop3-keep"}
# The programs each Debian package provides.
PACKAGES = {"mbsync": "isync", "fetchmail": "fetchmail"}
APT_TIMEOUT_S = 900
VERSION_TIMEOUT_S = 30
CLIENT_TIMEOUT_S = 600.0  # a client's run, at most
SERVER_TIMEOUT_S = 60  # a client's wait for one answer of the server
CHANNEL = "inbox"


# ---------------------------------------------------------------------------------------
# The clients: installed, their versions, their configuration files.


def missing_programs() -> list[str]:
    return [program for program in PACKAGES if shutil.which(program) is None]


def ensure_clients(say: Callable[[str], None] = print) -> None:
    """Install isync and fetchmail with apt-get when a program is missing and this runs as
    root on Debian (saying so in one line); else raise a ``UsageError`` naming the packages."""
    missing = missing_programs()
    if not missing:
        return
    packages = [PACKAGES[program] for program in missing]
    advice = f"install Debian's {' and '.join(packages)} (apt-get install {' '.join(packages)}) and run again"
    if os.geteuid() != 0 or not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        raise UsageError(f"{' and '.join(missing)} not found: {advice}")
    say(f"installing {' '.join(packages)} with apt-get ({', '.join(missing)} not found)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    done = _quiet(install, env)
    if done.returncode != 0:  # the package lists may be missing or stale
        _quiet(["apt-get", "update", "-q"], env)
        done = _quiet(install, env)
    if done.returncode != 0 or missing_programs():
        last = (done.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise UsageError(f"apt-get could not install {' '.join(packages)} ({last[0]}): {advice}")


def _quiet(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=APT_TIMEOUT_S, check=False)


def client_versions() -> dict[str, dict[str, str]]:
    """Each real client's version as it reports it, and its Debian package's version."""
    versions = {}
    for program, package in PACKAGES.items():
        said = subprocess.run([program, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=VERSION_TIMEOUT_S, check=False).stdout
        versions[program] = {"version": program_version(program, said), "package": package,
                             "package_version": _package_version(package)}
    return versions


def program_version(program: str, said: str) -> str:
    """The version in ``--version``'s output: ``isync 1.4.4`` gives ``1.4.4``; fetchmail's
    ``This is fetchmail release 6.4.37+GSS+...`` gives ``6.4.37``."""
    pattern = r"^isync (\S+)" if program == "mbsync" else r"fetchmail release ([0-9][^+\s]*)"
    found = re.search(pattern, said, re.M)
    return found.group(1) if found else "unknown"


def _package_version(package: str) -> str:
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=VERSION_TIMEOUT_S, check=False)
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def _quoted(text: str) -> str:
    """A double-quoted string as mbsync's and fetchmail's configuration files read it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mbsyncrc(port: int, user: str, password: str, inbox: Path, compress: bool = True,
             timeout_s: int = SERVER_TIMEOUT_S) -> str:
    """An mbsyncrc that pulls the server's INBOX on 127.0.0.1:``port`` into the Maildir
    ``inbox``, plaintext, and changes nothing on the server (module docstring)."""
    lines = [
        "# Generated by benchmarks/real_clients.py: pull INBOX into a fresh Maildir.",
        "FSync no",
        "",
        "IMAPAccount server",
        f"Host {LOOPBACK}",
        f"Port {port}",
        f"User {_quoted(user)}",
        f"Pass {_quoted(password)}",
        "SSLType None",
        "AuthMechs LOGIN",
        f"Timeout {timeout_s}",
    ]
    if not compress:
        lines.append("DisableExtension COMPRESS=DEFLATE")
    lines += [
        "",
        "IMAPStore server",
        "Account server",
        "",
        "MaildirStore device",
        f"Inbox {_quoted(str(inbox))}",
        "",
        f"Channel {CHANNEL}",
        "Far :server:INBOX",
        "Near :device:INBOX",
        "Sync Pull",
        "Create Near",
        "Expunge None",
        "SyncState *",
        "",
    ]
    return "\n".join(lines)


def fetchmailrc(port: int, user: str, password: str, local_user: str, bsmtp: Path, idfile: Path,
                pidfile: Path, timeout_s: int = SERVER_TIMEOUT_S) -> str:
    """A fetchmailrc that reads the maildrop on 127.0.0.1:``port`` over plaintext POP3 into
    the BSMTP file ``bsmtp``; ``--keep --all`` are given on the command line."""
    return "\n".join([
        "# Generated by benchmarks/real_clients.py: POP3, no SMTP, the messages into a BSMTP file.",
        "set no syslog",
        "set no bouncemail",
        f"set idfile {_quoted(str(idfile))}",
        f"set pidfile {_quoted(str(pidfile))}",
        f"poll {LOOPBACK} with proto POP3 port {port} auth password timeout {timeout_s}",
        f"    user {_quoted(user)} there with password {_quoted(password)} is {_quoted(local_user)} here",
        f"    sslproto '' bsmtp {_quoted(str(bsmtp))}",
        "",
    ])


FETCHMAIL_OPTIONS = ("--keep", "--all", "--norewrite", "--invisible")


# ---------------------------------------------------------------------------------------
# What the clients stored, read back; their documented edits undone.

_TUID = re.compile(rb"^X-TUID: [^\r\n]*(?:\r\n|\n)", re.M)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def without_tuid(raw: bytes) -> bytes:
    """``raw`` less the one ``X-TUID:`` line mbsync inserts at the end of the header
    (the last such line in the header, and nothing else)."""
    end = _HEADER_END.search(raw)
    header = raw[: end.end()] if end else raw
    found = list(_TUID.finditer(header))
    if not found:
        return raw
    last = found[-1]
    return raw[: last.start()] + raw[last.end():]


def maildir_messages(inbox: Path) -> tuple[list[bytes], int]:
    """The messages of a Maildir (``cur/`` and ``new/``), in file-name order, and how many
    unfinished files ``tmp/`` still holds."""
    files = sorted(path for sub in ("cur", "new") if (inbox / sub).is_dir() for path in (inbox / sub).iterdir())
    unfinished = sum(1 for _ in (inbox / "tmp").iterdir()) if (inbox / "tmp").is_dir() else 0
    return [path.read_bytes() for path in files], unfinished


_MAIL_FROM = re.compile(rb"MAIL FROM:<([^>]*)>[^\r\n]*\r?\n")
_DATA = re.compile(rb"DATA\r?\n")
_END_OF_DATA = re.compile(rb"^\.\r?\n", re.M)
_LINES = re.compile(rb"(?<=\n)")


def bsmtp_messages(data: bytes) -> list[tuple[str, bytes]]:
    """The (envelope sender, message) pairs of a BSMTP file: ``MAIL FROM``, ``RCPT TO``
    lines, ``DATA``, the dot-stuffed message, a line holding one dot. ``ValueError`` when
    the file is not that."""
    records, pos = [], 0
    while pos < len(data):
        sender = _MAIL_FROM.match(data, pos)
        if sender is None:
            raise ValueError(f"BSMTP: no MAIL FROM at byte {pos}")
        start = _DATA.search(data, sender.end())
        if start is None:
            raise ValueError(f"BSMTP: no DATA after byte {sender.end()}")
        end = _END_OF_DATA.search(data, start.end())
        if end is None:
            raise ValueError(f"BSMTP: the message after byte {start.end()} has no end")
        lines = _LINES.split(data[start.end(): end.start()])
        message = b"".join(line[1:] if line.startswith(b".") else line for line in lines)
        records.append((sender.group(1).decode("utf-8", "replace"), message))
        pos = end.end()
    return records


_RETURN_PATH = re.compile(rb"Return-Path:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*", re.I)
_ADDRESS = re.compile(rb"<([^>]*)>")


def return_path_field(raw: bytes) -> bytes | None:
    """The ``Return-Path:`` field (folded lines included) when it is the first field of the
    canonical message, else None."""
    found = _RETURN_PATH.match(canonical(raw))
    return found.group(0) if found else None


def with_return_path(sender: str, message: bytes, fields: dict[str, bytes]) -> bytes:
    """The message as the final delivery writes it back: its Return-Path field (``fields``:
    by Message-ID, taken from the corpus as delivered) in front, where the envelope sender
    is that field's address; else the message as it is."""
    key = message_id(message)
    found = fields.get(key) if key else None
    if found is None:
        return message
    address = _ADDRESS.search(found)
    if address is None or address.group(1).decode("utf-8", "replace") != sender:
        return message
    return found + canonical(message)


# ---------------------------------------------------------------------------------------
# The mailbox on the server, before and after a run.

MailboxState = dict[int, tuple[int, frozenset[str]]]  # UID: (size, flags less \Recent)


def mailbox_state(running: RunningServer, account: Account) -> MailboxState:
    """Every message of the account's INBOX, read with EXAMINE (nothing changes, not even
    \\Recent), directly from the server."""
    with open_access("imap", running.endpoint("imap", account), WireMeter()) as access:
        client = access.client
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        answers = client.fetch(uids, ["FLAGS", "RFC822.SIZE"]) if uids else {}
    return {
        int(uid): (int(data[b"RFC822.SIZE"]),
                   frozenset(flag.decode() if isinstance(flag, bytes) else str(flag)
                             for flag in data[b"FLAGS"]) - {"\\Recent"})
        for uid, data in answers.items()
    }


def compare_mailboxes(before: MailboxState, after: MailboxState) -> dict[str, Any]:
    """What a run changed: messages lost or added (a failure: the download must keep the
    mailbox), and flags gained or lost, counted by flag (the server's doing, recorded)."""
    lost = sorted(uid for uid in before if uid not in after or after[uid][0] != before[uid][0])
    added = sorted(uid for uid in after if uid not in before)
    gained: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for uid in set(before) & set(after):
        gained.update(after[uid][1] - before[uid][1])
        dropped.update(before[uid][1] - after[uid][1])
    return {"kept": not lost and not added, "messages": len(after), "lost": len(lost), "added": len(added),
            "flags_gained": dict(sorted(gained.items())), "flags_lost": dict(sorted(dropped.items()))}


# ---------------------------------------------------------------------------------------
# One run of one client.


@dataclass
class Mailbox:
    """A fresh account with the corpus delivered: its truth, and the Return-Path fields by
    Message-ID (for fetchmail's envelope)."""

    account: Account
    truth: Truth = field(default_factory=Truth)
    return_paths: dict[str, bytes] = field(default_factory=dict)
    delivery_s: float = 0.0

    def stored(self, raw: bytes) -> None:
        self.truth.add(raw)
        found = return_path_field(raw)
        key = message_id(canonical(raw))
        if found is not None and key:
            self.return_paths[key] = found


@dataclass
class Download:
    """What one client's run left: its wall time and the messages it stored, as read back."""

    seconds: float
    messages: list[bytes]
    unfinished: int = 0
    meter: dict[str, int] | None = None  # mailbench's own meter, beside the forwarder's count
    edits: str = "none"


def deliver_mailbox(running: RunningServer, messages: int, seed: int) -> Mailbox:
    mailbox = Mailbox(running.fresh_account())
    report = deliver(running.endpoint("imap", mailbox.account), generate_messages(messages, seed),
                     stored=mailbox.stored)
    if report.refused:
        raise MailbenchError(f"{running.name} refused {len(report.refused)} of the corpus's messages "
                             f"({report.refused[0].answer}); every client must see the same mailbox")
    mailbox.delivery_s = report.seconds
    return mailbox


def run_mailbench(protocol: str, endpoint: Endpoint, workdir: Path) -> Download:
    """bulk-fetch's full download: a device syncs the whole mailbox into its store."""
    device = Device(f"mailbench-{protocol}", get_mode(MAILBENCH_MODE[protocol]), DeviceStore(workdir / "store"))
    meter = WireMeter()
    start = time.perf_counter()
    with open_access(protocol, endpoint, meter, AccessOptions()) as access:
        device.sync(access, "full")
    seconds = time.perf_counter() - start
    return Download(seconds, list(device.store), device.store.unfinished(), meter.totals())


def _run_program(command: list[str], workdir: Path, timeout_s: float) -> float:
    """Run a client to its end, its output into ``workdir/output.log``; its wall time.
    Its HOME is ``workdir``: it reads and writes nothing of the user's."""
    env = dict(os.environ, HOME=str(workdir), FETCHMAILHOME=str(workdir), LC_ALL="C")
    log = workdir / "output.log"
    with open(log, "wb") as output:
        start = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                  stderr=subprocess.STDOUT, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise MailbenchError(f"{command[0]} did not finish in {timeout_s:g} s") from None
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        said = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        raise MailbenchError(f"{command[0]} exited with {done.returncode}: {said[-1] if said else 'no output'}")
    return seconds


def run_mbsync(endpoint: Endpoint, workdir: Path, compress: bool, timeout_s: float) -> Download:
    inbox = workdir / "Maildir" / "INBOX"
    config = workdir / "mbsyncrc"
    config.write_text(mbsyncrc(endpoint.port, endpoint.username, endpoint.password, inbox, compress))
    seconds = _run_program(["mbsync", "-c", str(config), CHANNEL], workdir, timeout_s)
    stored, unfinished = maildir_messages(inbox)
    return Download(seconds, [without_tuid(raw) for raw in stored], unfinished,
                    edits="the X-TUID line mbsync inserts, removed")


def run_fetchmail(endpoint: Endpoint, workdir: Path, mailbox: Mailbox, timeout_s: float) -> Download:
    bsmtp = workdir / "messages.bsmtp"
    config = workdir / "fetchmailrc"
    config.write_text(fetchmailrc(endpoint.port, endpoint.username, endpoint.password, getpass.getuser(),
                                  bsmtp, workdir / "fetchids", workdir / "fetchmail.pid"))
    config.chmod(0o600)  # fetchmail refuses a readable rc file: it holds a password
    seconds = _run_program(["fetchmail", "-f", str(config), *FETCHMAIL_OPTIONS], workdir, timeout_s)
    records = bsmtp_messages(bsmtp.read_bytes()) if bsmtp.exists() else []
    return Download(seconds, [with_return_path(sender, raw, mailbox.return_paths) for sender, raw in records],
                    edits="the Return-Path fetchmail moved into MAIL FROM, put back where they agree")


_COMPRESS = re.compile(r"^\S+ COMPRESS DEFLATE\r?$", re.M | re.I)


def compressed(openings: Iterable[str]) -> bool:
    """Whether a client asked for COMPRESS=DEFLATE (RFC 4978) in its first bytes."""
    return any(_COMPRESS.search(opening) for opening in openings)


def one_run(running: RunningServer, client: str, forwarder: ForwarderProcess, workdir: Path, args: argparse.Namespace,
            round_number: int, position: int) -> dict[str, Any]:
    """Deliver a fresh mailbox, let ``client`` download it through ``forwarder``, check it."""
    protocol = PROTOCOL[client]
    row: dict[str, Any] = {"round": round_number, "position": position, "client": client, "protocol": protocol}
    try:
        mailbox = deliver_mailbox(running, args.messages, args.seed)
        row.update(account=mailbox.account.username, delivery_s=round(mailbox.delivery_s, 4),
                   message_bytes=mailbox.truth.total_bytes)
        before = mailbox_state(running, mailbox.account)
        endpoint = running.endpoint(protocol, mailbox.account)
        endpoint = Endpoint(forwarder.port, endpoint.username, endpoint.password, timeout_s=SERVER_TIMEOUT_S)
        forwarder.take()  # what the delivery and the reading left, if anything, is not this run's
        cpu_before = running.resources().cpu_s
        try:
            if client.startswith("mailbench"):
                download = run_mailbench(protocol, endpoint, workdir)
            elif client == "mbsync":
                download = run_mbsync(endpoint, workdir, args.mbsync_compress == "on", args.client_timeout)
            else:
                download = run_fetchmail(endpoint, workdir, mailbox, args.client_timeout)
        finally:
            counts = forwarder.take()
        row["server_cpu_s"] = round(max(0.0, running.resources().cpu_s - cpu_before), 4)
        row.update(seconds=round(download.seconds, 6), bytes_up=counts["bytes_up"], bytes_down=counts["bytes_down"],
                   round_trips=counts["round_trips"], connections=counts["connections"])
        if counts["open"]:
            row["open_connections"] = counts["open"]
        if protocol == "imap":
            row["compress_deflate"] = compressed(counts["openings"])
        if download.meter is not None:
            row["meter"] = {key: download.meter[key] for key in ("bytes_up", "bytes_down", "round_trips")}
        report = mailbox.truth.check(download.messages)
        row["integrity"] = dict(report.to_json(), unfinished=download.unfinished, edits_undone=download.edits)
        row["mailbox"] = compare_mailboxes(before, mailbox_state(running, mailbox.account))
        problems = []
        if not report.passed:
            problems.append(report.summary())
        if download.unfinished:
            problems.append(f"{download.unfinished} unfinished files in the Maildir's tmp/")
        if not row["mailbox"]["kept"]:
            problems.append(f"the mailbox changed: {row['mailbox']['lost']} messages lost, "
                            f"{row['mailbox']['added']} added")
        if problems:
            row["error"] = "; ".join(problems)
    except Exception as exc:  # a run's failure is its own (a protocol error too): record it, go on
        row["error"] = one_line(exc)
    row["passed"] = "error" not in row
    return row


def round_order(round_index: int, clients: tuple[str, ...] = CLIENTS) -> list[str]:
    """The clients of round ``round_index`` (from 0): the order rotated one place per round."""
    shift = round_index % len(clients)
    return list(clients[shift:] + clients[:shift])


# ---------------------------------------------------------------------------------------
# The table.


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def summary(results: dict[str, Any]) -> list[dict[str, Any]]:
    """A row per protocol and client, mailbench first: medians over its passed runs."""
    runs = [run for round_ in results["rounds"] for run in round_["runs"]]
    rows = []
    for protocol in ("imap", "pop3"):
        base = None
        for client in (f"mailbench-{protocol}", REAL_CLIENT[protocol]):
            mine = [run for run in runs if run["client"] == client]
            passed = [run for run in mine if run.get("passed")]
            row: dict[str, Any] = {"protocol": protocol, "client": client, "runs": len(mine), "passed": len(passed),
                                   "errors": sorted({run["error"] for run in mine if run.get("error")})}
            for key in ("seconds", "bytes_up", "bytes_down", "round_trips", "connections", "server_cpu_s"):
                values = [run[key] for run in passed if key in run]
                row[key] = median(values) if values else None
                if key in ("seconds", "round_trips") and values:
                    row[f"{key}_min"], row[f"{key}_max"] = min(values), max(values)
            if client.startswith("mailbench"):
                base = row["seconds"]
            row["ratio"] = row["seconds"] / base if row["seconds"] is not None and base else None
            compress = {run.get("compress_deflate") for run in passed} - {None}
            row["compress_deflate"] = compress.pop() if len(compress) == 1 else (None if not compress else "mixed")
            rows.append(row)
    return rows


def client_label(client: str, results: dict[str, Any]) -> str:
    if client.startswith("mailbench"):
        return "mailbench"
    version = results.get("clients", {}).get(client, {}).get("version", "")
    return f"{client} {version}".strip()


def markdown(results: dict[str, Any]) -> str:
    """The table, with the lines that say what it was measured on."""
    server = results["server"]
    lines = [
        f"`{results['command']}`",
        "",
        f"{server['name']} {server['version']}, {results['messages']} messages "
        f"({(results.get('message_bytes') or 0) / MB:.1f} MB), {len(results['rounds'])} "
        f"round{'' if len(results['rounds']) == 1 else 's'}"
        f"{'' if results.get('finished_at') else ' (the run was interrupted)'}; medians of the passed runs, "
        "time (and round trips where they varied) with their min–max; bytes and round trips counted by the same "
        "forwarder for every client",
    ]
    load = results.get("load_average") or {}
    if load.get("start") is not None:
        cpus = (results.get("environment") or {}).get("machine", {}).get("cpus")
        lines.append(f"(load average {load['start']:.2f} at the start, "
                     + (f"{load['end']:.2f} at the end" if load.get("end") is not None else "no end")
                     + (f", {cpus} CPUs" if cpus else "") + ")")
    lines += [
        "",
        "| protocol | client | time s | × mailbench | MB down | kB up | round trips | connections | server CPU s "
        "| integrity |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in summary(results):
        label = client_label(row["client"], results)
        if row["compress_deflate"] is True:
            label += " (COMPRESS)"
        if not row["runs"]:
            time_s = "not run"
        elif row["seconds"] is None:
            time_s = "failed"
        else:
            time_s = f"{row['seconds']:.3f} ({row['seconds_min']:.3f}–{row['seconds_max']:.3f})"
        integrity = f"passed {row['passed']}/{row['runs']}" if row["runs"] else "not run"
        if row["passed"] < row["runs"]:
            integrity = f"FAILED {row['runs'] - row['passed']}/{row['runs']}: {row['errors'][0]}"
        trips = _fmt(row["round_trips"], ",.0f")
        if row["round_trips"] is not None and row["round_trips_min"] != row["round_trips_max"]:
            trips += f" ({row['round_trips_min']:,}–{row['round_trips_max']:,})"
        down = None if row["bytes_down"] is None else row["bytes_down"] / MB
        up = None if row["bytes_up"] is None else row["bytes_up"] / 1000
        lines.append(
            f"| {row['protocol'].upper()} | {label} | {time_s} | {_fmt(row['ratio'], '.2f')} | {_fmt(down, '.2f')} | "
            f"{_fmt(up, '.1f')} | {trips} | {_fmt(row['connections'], '.0f')} | "
            f"{_fmt(row['server_cpu_s'], '.2f')} | {integrity} |")
    lines += ["", instrument_check(results), "", mailbox_note(results)]
    return "\n".join(lines)


def _spread(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low:,}" if low == high else f"{low:,} to {high:,}"


def instrument_check(results: dict[str, Any]) -> str:
    """How the forwarder's counts of mailbench's runs compare with mailbench's own meter."""
    runs = [run for round_ in results["rounds"] for run in round_["runs"] if "meter" in run]
    if not runs:
        return "No mailbench run to check the forwarder against."
    parts = []
    for key, name in (("bytes_up", "bytes up"), ("round_trips", "round trips"), ("bytes_down", "bytes down")):
        by_protocol = []
        for protocol in ("imap", "pop3"):
            differences = [run[key] - run["meter"][key] for run in runs if run["protocol"] == protocol]
            if differences:
                by_protocol.append(f"{protocol.upper()} {_spread(differences)}")
        parts.append(f"{name} {', '.join(by_protocol)}")
    return (f"The forwarder against mailbench's own meter, in {len(runs)} mailbench runs (forwarder minus meter): "
            + "; ".join(parts) + ".")


def mailbox_note(results: dict[str, Any]) -> str:
    """Whether every run kept the mailbox, and which flags the server set, by client."""
    runs = [run for round_ in results["rounds"] for run in round_["runs"] if "mailbox" in run]
    kept = sum(1 for run in runs if run["mailbox"]["kept"])
    gained = []
    for client in CLIENTS:
        flags: Counter[str] = Counter()
        mine = [run for run in runs if run["client"] == client]
        for run in mine:
            flags.update(run["mailbox"]["flags_gained"])
        if flags:
            each = ", ".join(f"{flag} on {count / len(mine):,.0f}" for flag, count in sorted(flags.items()))
            gained.append(f"{client} {each} messages a run")
    return (f"The mailbox was kept (no message lost or added) in {kept} of {len(runs)} runs; flags the server "
            f"set during a download: {'; '.join(gained) if gained else 'none'}.")


# ---------------------------------------------------------------------------------------
# The run.


def _load() -> float | None:
    """The machine's load average over the last minute: other work on it shows in the times."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def save(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(results, indent=1) + "\n")
    partial.replace(path)


def run(args: argparse.Namespace, say: Callable[[str], None] = print) -> dict[str, Any]:
    ensure_clients(say)
    client = connect()
    spec = get_server(args.server)
    base = ensure_base_image(client, say)
    image = ensure_server_image(client, spec.name, base, say)
    run_id = "realclients-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    results: dict[str, Any] = {
        "kind": RESULTS_KIND, "version": RESULTS_VERSION, "run_id": run_id,
        "command": shlex.join([Path(sys.argv[0]).as_posix() if sys.argv[0] else "real_clients.py", *sys.argv[1:]]),
        "started_at": now_iso(), "load_average": {"start": _load()}, "messages": args.messages, "seed": args.seed, "rounds_asked": args.rounds,
        "settings": {"mbsync_compress": args.mbsync_compress, "fetchmail_options": list(FETCHMAIL_OPTIONS),
                     "order": list(CLIENTS)},
        "clients": {**client_versions(), "mailbench": {"version": metadata.version("mailbench")}},
        "environment": environment.describe(client),
        "rounds": [],
    }
    users = args.rounds * len(CLIENTS) + 1
    with run_server(client, spec, image, users=users, run_id=run_id, say=say) as running, \
            tempfile.TemporaryDirectory(prefix="real-clients-") as scratch:
        running.fresh_account()  # user1 answers the readiness checks
        results["server"] = {"name": spec.name, "version": running.version()}
        save(results, args.out)  # written from the start, and again after every run
        forwarders = {protocol: ForwarderProcess(running.host_ports[protocol]) for protocol in ("imap", "pop3")}
        with forwarders["imap"], forwarders["pop3"]:
            for index in range(args.rounds):
                runs: list[dict[str, Any]] = []
                results["rounds"].append({"round": index + 1, "order": round_order(index), "runs": runs})
                for position, name in enumerate(round_order(index)):
                    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch))
                    row = one_run(running, name, forwarders[PROTOCOL[name]], workdir, args, index + 1, position)
                    shutil.rmtree(workdir, ignore_errors=True)
                    runs.append(row)
                    results.setdefault("message_bytes", row.get("message_bytes"))
                    save(results, args.out)
                    said = f"{row['seconds']:.3f} s" if "seconds" in row else "no time"
                    say(f"round {index + 1}/{args.rounds} {name}: {said}, "
                        f"{'passed' if row['passed'] else 'FAILED: ' + row['error']}")
    results["finished_at"] = now_iso()
    results["load_average"]["end"] = _load()
    save(results, args.out)
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="mailbench's full download beside mbsync (IMAP) and fetchmail (POP3).")
    parser.add_argument("--server", choices=list(SERVERS), default="dovecot")
    parser.add_argument("--messages", type=int, default=300, help="messages in the generated corpus (300)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each client (5)")
    parser.add_argument("--seed", type=int, default=1, help="the generated corpus's seed (1)")
    parser.add_argument("--mbsync-compress", choices=("on", "off"), default="on",
                        help="let mbsync use COMPRESS=DEFLATE where the server offers it (on: its default)")
    parser.add_argument("--client-timeout", type=float, default=CLIENT_TIMEOUT_S,
                        help=f"seconds a client's run may take ({CLIENT_TIMEOUT_S:g})")
    parser.add_argument("--out", type=Path, help="the results file (reports/real-clients-<server>-<time>.json)")
    parser.add_argument("--from", dest="source", type=Path, help="print the table of this results file and stop")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.rounds < 1:
        parser.error("--messages and --rounds must be at least 1")
    if args.out is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        args.out = Path("reports") / f"real-clients-{args.server}-{stamp}.json"
    return args


def load(path: Path) -> dict[str, Any]:
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {one_line(exc)}") from None
    if not isinstance(results, dict) or results.get("kind") != RESULTS_KIND:
        raise UsageError(f"{path} is not a results file of benchmarks/real_clients.py")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        results = load(args.source) if args.source else run(args)
    except UsageError as exc:
        print(f"real_clients: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("real_clients: interrupted; the container is removed", file=sys.stderr)
        return 130
    if not args.source:
        print(f"results: {args.out}")
    print(markdown(results))
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` cleans up as Ctrl-C does
    sys.exit(main())
