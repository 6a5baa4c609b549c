"""The corpus made in worker processes: the same bytes, in the same order, as made in one."""

from __future__ import annotations

import subprocess

import pytest

from bench.corpus import workers
from bench.errors import CorpusError
from bench.corpus.generate import generate_messages
from bench.corpus.source import GeneratedCorpus
from bench.corpus.workers import CHUNK, _chunks_of, generate_in_workers

SEED = 11


@pytest.mark.parametrize("start, count, worker_count", [
    (0, CHUNK * 3 + 5, 2),  # a last chunk shorter than the others
    (17, CHUNK * 2, 3),  # more workers than some turns need
    (3, 10, 2),  # fewer messages than a chunk: one worker is enough
    (0, 0, 2),
])
def test_workers_make_the_same_messages_in_order(start, count, worker_count):
    assert list(generate_in_workers(count, SEED, start, workers=worker_count)) == \
        list(generate_messages(count, SEED, start=start))


def test_each_message_is_in_exactly_one_workers_chunks():
    start, count, worker_count = 5, CHUNK * 7 + 3, 3
    made = [i for worker in range(worker_count) for first, size in _chunks_of(worker, worker_count, start, count)
            for i in range(first, first + size)]
    assert sorted(made) == list(range(start, start + count))


@pytest.fixture
def started(monkeypatch) -> list[subprocess.Popen]:
    """The worker processes started, in order (every Popen goes through)."""
    processes: list[subprocess.Popen] = []
    popen = subprocess.Popen

    def recorded(*args, **kwargs):
        processes.append(popen(*args, **kwargs))
        return processes[-1]

    monkeypatch.setattr(subprocess, "Popen", recorded)
    return processes


def test_closing_early_ends_every_worker(started):
    messages = generate_in_workers(CHUNK * 50, SEED, workers=2)
    next(messages)
    messages.close()
    assert len(started) == 2 and all(process.poll() is not None for process in started)


def test_a_worker_that_dies_is_an_error_not_a_short_corpus(started):
    messages = generate_in_workers(CHUNK * 400, SEED, workers=2)
    next(messages)
    started[1].kill()
    with pytest.raises(RuntimeError, match="corpus worker 1 ended early"):
        for _ in messages:
            pass


def test_a_large_request_of_the_generated_corpus_goes_to_workers(monkeypatch):
    calls = []

    def in_workers(count, seed, start=0, workers=None):
        calls.append((count, seed, start))
        return iter(())

    monkeypatch.setattr("bench.corpus.source.generate_in_workers", in_workers)
    monkeypatch.setattr("bench.corpus.source.WORKERS_FROM", 100)
    corpus = GeneratedCorpus(SEED)
    corpus._keeping = False  # nothing kept: every request is made again
    list(corpus.messages(7, 99))
    list(corpus.messages(7, 100))
    assert calls == [(100, SEED, 7)]


def test_no_workers_when_the_environment_says_none(monkeypatch):
    monkeypatch.setattr("bench.corpus.source.WORKERS_FROM", 10)
    monkeypatch.setattr("bench.corpus.source.generate_in_workers", lambda *a, **k: pytest.fail("workers started"))
    monkeypatch.setenv(workers.WORKERS_ENV, "0")
    corpus = GeneratedCorpus(SEED)
    corpus._keeping = False
    assert list(corpus.messages(0, 12)) == list(generate_messages(12, SEED))
    monkeypatch.setenv(workers.WORKERS_ENV, "two")
    with pytest.raises(CorpusError, match="whole number"):
        GeneratedCorpus(SEED)  # at the corpus's making, before a run writes or starts anything
