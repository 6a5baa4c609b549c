"""The generated corpus keeps the messages a run asks for again, within a memory bound."""

from __future__ import annotations

from bench.corpus import source
from bench.corpus.generate import generate_messages
from bench.corpus.source import GeneratedCorpus


def counting(monkeypatch) -> list[int]:
    made: list[int] = []

    def generate(count, seed, start=0):
        made.append(count)
        return generate_messages(count, seed, start=start)

    monkeypatch.setattr(source, "generate_messages", generate)
    return made


def test_kept_messages_are_the_generator_s_and_are_made_once(monkeypatch):
    made = counting(monkeypatch)
    corpus = GeneratedCorpus(seed=3)
    corpus.keep_first(20)
    assert made == [20]
    assert list(corpus.messages(0, 20)) == list(generate_messages(20, 3))
    assert list(corpus.messages(5, 10)) == list(generate_messages(10, 3, start=5))
    assert made == [20]  # the corpus made none again
    list(corpus.messages(0, 25))  # from the start: five more made and kept
    assert made == [20, 5]
    list(corpus.messages(25, 2))  # later in the corpus (new mail): made each time, not kept
    list(corpus.messages(25, 2))
    assert made == [20, 5, 2, 2]


def test_a_corpus_larger_than_the_bound_is_not_kept(monkeypatch):
    monkeypatch.setattr(source, "KEEP_BYTES", 100_000)
    made = counting(monkeypatch)
    corpus = GeneratedCorpus(seed=1)
    corpus.keep_first(300)  # 17 MB
    assert made == []
    assert sum(1 for _ in corpus.messages(0, 3)) == 3
    assert sum(1 for _ in corpus.messages(0, 3)) == 3
    assert made == [3, 3]  # no longer kept: made on every request
