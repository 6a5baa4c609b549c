"""A large generated corpus made in worker processes while the client delivers it.

Making a message costs the client more than sending it (about 0.4 ms against 0.1 ms on
this project's machine): within one process, generation and the APPEND client share one
interpreter lock, and a 100,000-message delivery runs at the generator's pace. Message
``i`` of a seed is a pure function of ``(seed, i)``, so runs of messages can be made
anywhere and handed back in order. Here ``workers`` processes make them: the corpus is cut
into chunks of ``CHUNK`` messages, worker ``k`` makes chunks ``k``, ``k + workers``, ...
and writes each message, length first, to its own pipe, which a thread of the reader
drains into a queue of chunks; the reader takes the chunks in turn from the workers'
queues. A worker that is ahead blocks once its queue and pipe are full, so the bytes
waiting stay bounded (``AHEAD`` chunks a worker).

Workers run this module (``bench.helpers``: a fresh interpreter each, a session of its
own, so a Ctrl-C reaches the harness only, which ends them); a worker whose reader is gone
dies on its next write. There is one per core (the server and the client's sending share
them, and the operating system gives the workers what they leave). Starting one costs a
few tenths of a second (the interpreter and numpy), so only a large request goes to
workers (``WORKERS_FROM``).
"""

from __future__ import annotations

import os
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import BinaryIO

from bench.corpus.generate import generate_messages
from bench.corpus.sizes import DEFAULT_MAX_BYTES
from bench.errors import CorpusError
from bench.helpers import start_helper, usable_cores

WORKERS_FROM = 5000  # a request of fewer messages is made in this process
# How many workers a large request gets (default: one per core); 0 makes every message in
# this process, as before workers existed, to compare the two (benchmarks/delivery_rate.py).
WORKERS_ENV = "MAILBENCH_CORPUS_WORKERS"
CHUNK = 64  # consecutive messages a worker makes in turn: about 3.5 MB of the default sizes
AHEAD = 8  # chunks read from a worker and not yet taken: about 28 MB a worker
_LENGTH = struct.Struct("<Q")


def configured_workers() -> int:
    """Workers for a large request: ``MAILBENCH_CORPUS_WORKERS`` if set, else one per core."""
    value = os.environ.get(WORKERS_ENV, "").strip()
    if not value:
        return usable_cores()
    if not value.isdigit():
        raise CorpusError(f"{WORKERS_ENV} must be a whole number of workers (0: none), not {value!r}; "
                          f"unset it for one per core")
    return int(value)


def _chunks_of(worker: int, workers: int, start: int, count: int) -> Iterator[tuple[int, int]]:
    """(first message, messages) of the chunks worker ``worker`` of ``workers`` makes."""
    end = start + count
    for first in range(start + worker * CHUNK, end, workers * CHUNK):
        yield first, min(CHUNK, end - first)


def _read_exactly(pipe: BinaryIO, size: int, worker: int) -> bytes:
    data = pipe.read(size)
    if len(data) != size:
        raise RuntimeError(f"corpus worker {worker} ended early: its pipe closed after a partial message "
                           f"(its error, if any, is above)")
    return data


class _Reader(threading.Thread):
    """Reads one worker's chunks into a queue of at most ``AHEAD`` chunks, so the worker
    goes on making messages while the consumer waits on something else (a server's
    answer); the pipe alone would hold a few dozen messages."""

    def __init__(self, pipe: BinaryIO, sizes: list[int], worker: int) -> None:
        super().__init__(name=f"corpus-reader-{worker}", daemon=True)
        self.chunks: queue.Queue[list[bytes] | BaseException] = queue.Queue(maxsize=AHEAD)
        self.stopping = threading.Event()
        self._pipe, self._sizes, self._worker = pipe, sizes, worker

    def run(self) -> None:
        try:
            for size in self._sizes:
                chunk = []
                for _ in range(size):
                    (length,) = _LENGTH.unpack(_read_exactly(self._pipe, _LENGTH.size, self._worker))
                    chunk.append(_read_exactly(self._pipe, length, self._worker))
                if not self._put(chunk):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(exc)

    def _put(self, item: list[bytes] | BaseException) -> bool:
        while not self.stopping.is_set():
            try:
                self.chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def take(self) -> list[bytes]:
        item = self.chunks.get()
        if isinstance(item, BaseException):
            raise item
        return item


def generate_in_workers(count: int, seed: int, start: int = 0, *, workers: int | None = None,
                        max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[bytes]:
    """Messages ``start`` .. ``start + count - 1`` of ``seed``, the same bytes in the same
    order as ``generate_messages``, made by ``workers`` processes (one per core by default)."""
    if count < 0 or start < 0:
        raise ValueError(f"count and start must not be negative, got {count} and {start}")
    chunks = -(-count // CHUNK)
    if not chunks:
        return
    workers = max(1, min(workers or configured_workers(), chunks))
    processes = [start_helper("bench.corpus.workers", seed, start, count, worker, workers, max_bytes,
                              stdout=subprocess.PIPE)
                 for worker in range(workers)]
    readers = [_Reader(process.stdout, [size for _, size in _chunks_of(worker, workers, start, count)], worker)
               for worker, process in enumerate(processes)]
    try:
        for reader in readers:
            reader.start()
        for turn in range(chunks):
            yield from readers[turn % workers].take()
    finally:
        for reader in readers:
            reader.stopping.set()
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        for reader in readers:
            reader.join()
        for process in processes:
            process.stdout.close()


def _work(seed: int, start: int, count: int, worker: int, workers: int, max_bytes: int) -> None:
    """A worker: its chunks' messages, each as its length and its bytes, on stdout."""
    out = sys.stdout.buffer
    for first, size in _chunks_of(worker, workers, start, count):
        for raw in generate_messages(size, seed, start=first, max_bytes=max_bytes):
            out.write(_LENGTH.pack(len(raw)))
            out.write(raw)
    out.flush()


if __name__ == "__main__":
    try:
        _work(*(int(arg) for arg in sys.argv[1:7]))
    except BrokenPipeError:  # the reader stopped early: nothing is waiting for the rest
        os._exit(0)
