"""Whether a run's mailboxes fit on disk, checked before any container starts.

A run of 100,000 messages a mailbox fills gigabytes per sample: better one line at the
start than a full disk an hour in. What a run needs, at most, in each place:

- **Docker's data root** (``docker info``: DockerRootDir), where the containers' files are:
  every sample delivers the corpus into an account of its own (or copies it there from a
  template account, ``bench.mailbox_copy``) and no account is emptied during the run (a
  pop3-delete sample empties its own; the estimate counts it anyway), so a server's
  container grows by one mailbox per sample of its cells, and by its templates: one per
  size of initial mailbox, counted here as one per scenario and variant the server runs
  (at most ``TEMPLATE_ACCOUNTS``), where its store can be copied. Servers run one after
  another and each container is removed with its server: the server with the most
  mailboxes sets the need.
- **the run's working folder** (in memory where it fits, else the temporary folder,
  ``TMPDIR``: ``bench.device_folder``): each sample's devices
  keep their copies there until the sample ends; the scenario whose sample keeps the most
  whole copies (``Scenario.whole_copies_on_devices``) sets the need.
- **the output folder** (``--out``): the results and the report, ``REPORT_BYTES``.

A mailbox is the corpus's bytes (``corpus_bytes``) times ``OVERHEAD``, which covers what a
server stores beside the messages (index, cache, UID lists) and file-system blocks: an
account of 5,000 generated messages took 1.03 (Dovecot, Courier) to 1.06 (Cyrus) times the
message bytes in blocks (``benchmarks/store_overhead.py``, docs/scenarios.md). Places on one file system add up, and each
file system keeps ``KEEP_FREE`` bytes free besides.

Free space is read with ``shutil.disk_usage``. ``MAILBENCH_FREE_BYTES``, when set, stands for
the free space of every file system the check looks at; nothing else reads it (tests fake
a full disk with it, without touching Docker).
"""

from __future__ import annotations

import math
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from bench import device_folder
from bench.corpus.generate import message_size
from bench.corpus.source import CorpusSource, FileCorpus, GeneratedCorpus
from bench.device_folder import KEEP_FREE, DeviceFolder
from bench.errors import UsageError
from bench.mailbox_copy import TEMPLATE_ACCOUNTS
from bench.plan import Cell
from bench.servers import get_server

OVERHEAD = 1.10
REPORT_BYTES = 100_000_000
# Canonical form makes every line end CRLF: a file with LF line ends grows by a byte a line,
# under 5 % for lines of 20 bytes or more.
CRLF_ALLOWANCE = 1.05
FREE_ENV = "MAILBENCH_FREE_BYTES"


@dataclass(frozen=True)
class Need:
    """What one place must hold at most during the run, and why."""

    place: str  # "Docker's data root", "the run's working folder", "the output folder"
    path: Path
    bytes: int
    why: str  # "24 mailboxes of 100,000 messages, 5.87 GB each, on dovecot"


def corpus_bytes(corpus: CorpusSource, count: int) -> int:
    """The bytes of the corpus's first ``count`` messages as delivered: for the generated
    corpus, the sizes its messages are built to (``message_size``, no message made); for a
    user's mail, its files' size, in proportion to the messages taken, with room for the
    line ends canonical form adds."""
    if isinstance(corpus, GeneratedCorpus):
        return sum(message_size(corpus.seed, i) for i in range(count))
    if isinstance(corpus, FileCorpus):
        available = corpus.resolve_count(None)
        return math.ceil(_size_on_disk(corpus.path) * min(1.0, count / available) * CRLF_ALLOWANCE)
    raise TypeError(f"no size estimate for {type(corpus).__name__}")


def _size_on_disk(path: Path) -> int:
    if path.is_dir():
        return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())
    return path.stat().st_size


def run_needs(cells: Sequence[Cell], samples_of: Callable[[Cell], int], templates_on: Callable[[str], int],
              mailbox_bytes: int, messages: int, docker_root: Path | None, workdir: Path, out: Path,
              freed: bool = False) -> list[Need]:
    """What each place must hold (the module's docstring says how), from the samples each
    cell takes and the template mailboxes each server keeps, or with ``freed``, from the
    templates and one sample's mailbox (each freed after its sample); Docker's data root is
    left out when it is not on this machine's file systems (``docker_root`` None)."""
    mailbox = math.ceil(mailbox_bytes * OVERHEAD)
    needs = []
    if docker_root is not None and cells:
        mailboxes: Counter[str] = Counter()
        for cell in cells:
            mailboxes[cell.server] = 1 if freed else mailboxes[cell.server] + samples_of(cell)
        for server in mailboxes:
            mailboxes[server] += templates_on(server)
        server, most = max(mailboxes.items(), key=lambda item: item[1])
        freeing = ", each sample's freed after it" if freed else ""
        needs.append(Need("Docker's data root", docker_root, most * mailbox,
                          f"{_count(most, 'mailbox', 'mailboxes')} of {messages:,} messages, {_gb(mailbox)} each, "
                          f"on {server}{freeing}"))
    copies = _device_copies(cells)
    if copies:
        needs.append(Need("the run's working folder", workdir, copies * mailbox,
                          f"{_count(copies, 'device copy', 'device copies')} of a mailbox"))
    needs.append(Need("the output folder", out, REPORT_BYTES, "the results and the report"))
    return needs


def _device_copies(cells: Sequence[Cell]) -> int:
    """The most whole copies of a mailbox a sample of these cells keeps on its devices."""
    from scenarios import get_scenario

    return max((get_scenario(cell.scenario).whole_copies_on_devices() for cell in cells), default=0)


def device_bytes(cells: Sequence[Cell], mailbox_bytes: int) -> int:
    """What the run's working folder holds at most: a sample's device copies."""
    return _device_copies(cells) * math.ceil(mailbox_bytes * OVERHEAD)


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def shortfall(needs: Sequence[Need], free_bytes: Callable[[Path], int],
              file_system: Callable[[Path], int]) -> str | None:
    """The one line that says which file system is short and what to do, or None when
    every need fits (with ``KEEP_FREE`` to spare on each file system)."""
    by_file_system: dict[int, list[Need]] = {}
    for need in needs:
        by_file_system.setdefault(file_system(need.path), []).append(need)
    for sharing in by_file_system.values():
        total = sum(need.bytes for need in sharing) + KEEP_FREE
        free = free_bytes(sharing[0].path)
        if total <= free:
            continue
        places = ", ".join(f"{need.place} {need.path}" for need in sharing)
        where = f"{places} (one file system) has" if len(sharing) > 1 else f"{places} has"
        parts = "; ".join(f"{_gb(need.bytes)} for {need.why}" for need in sharing)
        return (f"not enough disk space for this run: {where} {_gb(free)} free and the run needs {_gb(total)} "
                f"there ({parts}; {_gb(KEEP_FREE)} kept free); {_what_to_do(sharing)}")
    return None


def _what_to_do(sharing: Sequence[Need]) -> str:
    advice = "run fewer samples or cells (--repeat, --server, --mode, --variant, --tls) or fewer --messages"
    places = {need.place for need in sharing}
    if "the run's working folder" in places:
        advice += ", set TMPDIR to a larger file system"
    if "the output folder" in places and len(places) == 1:
        advice = "choose another --out"
    return advice + ", or free space there"


def _gb(size: int) -> str:
    return f"{size / 1e9:,.2f} GB"


def _existing(path: Path) -> Path:
    """``path``, or its nearest parent that exists (the output folder may be made later)."""
    path = path.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def free_bytes(path: Path) -> int:
    """The free bytes of ``path``'s file system, or ``MAILBENCH_FREE_BYTES`` when set."""
    faked = os.environ.get(FREE_ENV)
    if faked is not None:
        return int(faked)
    return shutil.disk_usage(_existing(path)).free


def file_system(path: Path) -> int:
    return os.stat(_existing(path)).st_dev


def docker_data_root(client) -> Path | None:
    """Docker's data root, where this machine can see it (not with a remote daemon)."""
    root = client.info().get("DockerRootDir")
    return Path(root) if root and Path(root).is_dir() else None


def templates(cells: Sequence[Cell], server: str, copies: bool) -> int:
    """The template mailboxes ``server`` may keep: none without copies, else one per
    scenario and variant it runs, at most ``TEMPLATE_ACCOUNTS`` (an upper bound: templates
    are per size of initial mailbox, which variants often share)."""
    if not copies or get_server(server).store_copy is None:
        return 0
    return min(TEMPLATE_ACCOUNTS, len({(cell.scenario, cell.variant) for cell in cells if cell.server == server}))


@dataclass(frozen=True)
class DiskPlan:
    """What the check decided: where the devices write, and whether each sample's mailbox
    is freed after the sample (only where keeping them all would not fit)."""

    devices: DeviceFolder
    free_mailboxes: bool = False
    why: str | None = None  # the line a run prints at its start when it frees mailboxes


def check(client, cells: Sequence[Cell], samples_of: Callable[[Cell], int], corpus: CorpusSource, messages: int,
          out: Path, deliver_each_sample: bool = False) -> DiskPlan:
    """Raise ``UsageError`` with one line when the run's mailboxes would not fit even with
    each sample's freed after it; else where the run's working folder goes
    (``bench.device_folder``), which the check counted, and whether mailboxes are freed."""
    mailbox_bytes = corpus_bytes(corpus, messages)
    folder = device_folder.choose(device_bytes(cells, mailbox_bytes), free_bytes)
    docker_root = docker_data_root(client)

    def needs(freed: bool) -> list[Need]:
        return run_needs(cells, samples_of, lambda server: templates(cells, server, not deliver_each_sample),
                         mailbox_bytes, messages, docker_root, folder.path, out, freed)

    kept = needs(freed=False)
    if shortfall(kept, free_bytes, file_system) is None:
        return DiskPlan(folder)
    problem = shortfall(needs(freed=True), free_bytes, file_system)
    if problem is not None:
        raise UsageError(problem)
    return DiskPlan(folder, True, f"each sample's mailbox is freed after it: keeping them all would need "
                                  f"{_gb(kept[0].bytes)} ({kept[0].why}) in {kept[0].path}, "
                                  f"{_gb(free_bytes(kept[0].path))} free")
