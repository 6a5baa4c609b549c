"""The corpus: canonical form, generator, import of user mail, and the truth checks."""

from __future__ import annotations

import base64
import email
import hashlib
import mailbox
import random
import os
import statistics
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

import numpy as np
import pytest

from bench.corpus import (
    MESSAGE_SIZES,
    Truth,
    canonical,
    generate_messages,
    header_block,
    load_messages,
    message_id,
    open_mailbox,
)
from bench.corpus.canonical import crlf_only
from bench.corpus.generate import _base64_lines, _random_bytes
from bench.corpus.truth import part_digest
from bench.errors import CorpusError

SEED = 42
MBOX_HEAD = b"From a@b Mon Jan  1 00:00:00 2024\n"
GOOD = b"Subject: fine\nMessage-ID: <ok@x>\n\nbody\n"


@pytest.fixture(scope="module")
def corpus() -> list[bytes]:
    return list(generate_messages(2000, SEED))


# canonical() and header_block()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"A: b\r\n\r\nbody\r\n", b"A: b\r\n\r\nbody\r\n"),
        (b"A: b\n\nbody\n", b"A: b\r\n\r\nbody\r\n"),
        (b"A: b\r\rbody\r", b"A: b\r\n\r\nbody\r\n"),
        (b"A: b\n\nbody", b"A: b\r\n\r\nbody\r\n"),
        (b"A: b\r\n\r\nmixed\nends\rhere", b"A: b\r\n\r\nmixed\r\nends\r\nhere\r\n"),
        (b"A: b\n\nx\r\r\n", b"A: b\r\n\r\nx\r\n\r\n"),  # CR CR LF: a bare CR, then CRLF
        (b"A: b\n\nblank lines stay\n\n\n", b"A: b\r\n\r\nblank lines stay\r\n\r\n\r\n"),
        (b"A: b\n\ntrailing space \n", b"A: b\r\n\r\ntrailing space \r\n"),
        (b"", b""),
        (b"\n", b"\r\n"),
    ],
)
def test_canonical(raw: bytes, expected: bytes) -> None:
    assert canonical(raw) == expected
    assert canonical(expected) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"A: b\r\nC: d\r\n\r\nbody\r\n\r\nmore\r\n", b"A: b\r\nC: d\r\n\r\n"),
        (b"A: b\nC: d\n\nbody\n", b"A: b\r\nC: d\r\n\r\n"),
        (b"A: b\r\n\r\n", b"A: b\r\n\r\n"),
        (b"A: b\r\nC: d\r\n", b"A: b\r\nC: d\r\n\r\n"),  # no body: whole message + CRLF
        (b"A: b", b"A: b\r\n\r\n"),
        (b"\r\nno headers\r\n", b"\r\n"),
        (b"", b"\r\n"),
    ],
)
def test_header_block(raw: bytes, expected: bytes) -> None:
    assert header_block(raw) == expected
    assert header_block(expected) == expected


@pytest.mark.parametrize("size", [0, 1, 2, 100, 4095, 4096, 4097, 20_000])
def test_crlf_only_agrees_with_counting_line_ends_in_both_of_its_ways(size: int) -> None:
    rng = random.Random(size)
    for _ in range(200):
        raw = bytes(rng.choice(b"a\r\n") for _ in range(size))
        assert crlf_only(raw) == (raw.count(b"\r") == raw.count(b"\n") == raw.count(b"\r\n"))
    clean = (b"x" * 70 + b"\r\n") * (size // 72 + 1)
    assert crlf_only(clean) and not crlf_only(clean[:-1]) and not crlf_only(b"\n" + clean[1:])
    assert canonical(clean.replace(b"\r\n", b"\n")) == clean


def test_message_id_unfolds_and_ignores_the_body() -> None:
    folded = b"Subject: x\r\nMessage-Id:\r\n  <a@b>\r\n\r\nMessage-ID: <c@d>\r\n"
    assert message_id(folded) == "<a@b>"
    assert message_id(b"Subject: x\r\n\r\nMessage-ID: <c@d>\r\n") is None


# The generator


def test_same_seed_same_bytes_and_other_seed_other_bytes() -> None:
    first = list(generate_messages(50, SEED))
    assert first == list(generate_messages(50, SEED))
    other = list(generate_messages(50, SEED + 1))
    assert all(a != b for a, b in zip(first, other, strict=True))


def test_the_generated_bytes_stay_what_they_were() -> None:
    """The corpus is a contract: results of earlier runs were checked against these bytes
    (the digest of the first 1,000 messages of seed 42, 38,463,185 bytes)."""
    messages = list(generate_messages(1000, SEED))
    assert sum(map(len, messages)) == 38_463_185
    digests = b"".join(hashlib.sha256(raw).digest() for raw in messages)
    assert hashlib.sha256(digests).hexdigest() == "62f8abd2d544b5d9794b4470a0c8a0dd0cb188e5a9f8abb1e3330a28e6891928"


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 4095, 262_143, 262_144, 262_145, 262_146, 262_147, 1_000_003])
def test_random_bytes_are_randbytes_and_leave_the_same_state(size: int) -> None:
    ours, theirs = random.Random(f"x{size}"), random.Random(f"x{size}")
    ours.random(), theirs.random()  # anywhere in the twister's block, not at its start
    assert _random_bytes(ours, size) == theirs.randbytes(size)
    assert ours.getstate() == theirs.getstate()


@pytest.mark.parametrize("size", [0, 1, 2, 3, 56, 57, 58, 114, 115, 1000, 65_536])
def test_base64_lines_are_encodebytes_with_crlf(size: int) -> None:
    data = random.Random(size).randbytes(size)
    assert _base64_lines(data) == base64.encodebytes(data).replace(b"\n", b"\r\n")


def test_start_continues_the_sequence() -> None:
    whole = list(generate_messages(30, SEED))
    assert list(generate_messages(10, SEED, start=20)) == whole[20:]
    assert list(generate_messages(20, SEED)) + list(generate_messages(10, SEED, start=20)) == whole


def test_messages_are_canonical_and_have_unique_ids(corpus: list[bytes]) -> None:
    assert all(canonical(raw) == raw for raw in corpus)
    ids = [message_id(raw) for raw in corpus]
    assert ids == [f"<mb-{SEED}-{i}@mailbench.test>" for i in range(len(corpus))]
    assert len(set(ids)) == len(corpus)


def test_messages_parse_without_defects(corpus: list[bytes]) -> None:
    for i, raw in enumerate(corpus[:400]):  # every kind is there; the email package is slow
        message = email.message_from_bytes(raw, policy=policy.default)
        assert not message.defects, (i, message.defects)
        for part in message.walk():
            assert not part.defects, (i, part.defects)
            if not part.is_multipart():
                part.get_content()  # decodes base64 and quoted-printable
        for name in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"):
            assert message[name], (i, name)


def test_no_line_is_longer_than_998_octets_and_every_line_ends_in_crlf(
    corpus: list[bytes],
) -> None:
    for raw in corpus:
        assert raw.endswith(b"\r\n")
        assert raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r")
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_the_mix_has_every_kind_and_utf8_subjects(corpus: list[bytes]) -> None:
    parser = BytesHeaderParser()
    types = {parser.parsebytes(header_block(raw)).get_content_type() for raw in corpus}
    assert types == {"text/plain", "multipart/alternative", "multipart/mixed"}
    assert any(b"Subject: =?utf-8?" in raw for raw in corpus)
    attachments = [raw for raw in corpus if b"Content-Transfer-Encoding: base64" in raw]
    assert attachments and max(len(raw) for raw in attachments) > 512 * 1024


def test_sizes_follow_the_measured_distribution(corpus: list[bytes]) -> None:
    sizes = np.array([len(raw) for raw in corpus])
    for size, fraction in MESSAGE_SIZES.points:
        assert np.mean(sizes < size) == pytest.approx(fraction, abs=0.035), size
    median = float(np.median(sizes))
    assert median == pytest.approx(MESSAGE_SIZES.quantile(0.5), rel=0.15)
    for p in (0.25, 0.75, 0.9):
        assert float(np.quantile(sizes, p)) == pytest.approx(MESSAGE_SIZES.quantile(p), rel=0.25)


def test_size_distribution_quantile_and_cdf_agree() -> None:
    for p in (0.01, 0.2353, 0.3, 0.5, 0.9, 0.99, 1.0):
        assert MESSAGE_SIZES.cdf(MESSAGE_SIZES.quantile(p)) == pytest.approx(p)
    assert MESSAGE_SIZES.quantile(0.0) == MESSAGE_SIZES.smallest_bytes


def test_max_bytes_caps_the_size() -> None:
    sizes = [len(raw) for raw in generate_messages(300, SEED, max_bytes=64 * 1024)]
    assert max(sizes) <= 64 * 1024
    assert statistics.median(sizes) == pytest.approx(MESSAGE_SIZES.quantile(0.5), rel=0.2)


# Import of a user's mail


def _write_mbox(path: Path, messages: list[bytes]) -> None:
    box = mailbox.mbox(path)
    for raw in messages:
        box.add(raw)
    box.close()


def test_mbox_round_trips(tmp_path: Path) -> None:
    messages = list(generate_messages(40, SEED))
    _write_mbox(tmp_path / "inbox", messages)
    source = open_mailbox(tmp_path / "inbox")
    assert (source.kind, len(source)) == ("mbox", 40)
    assert list(source) == messages
    assert load_messages(tmp_path / "inbox") == messages


def test_mbox_with_lf_line_ends_comes_back_canonical(tmp_path: Path) -> None:
    messages = list(generate_messages(5, SEED))
    _write_mbox(tmp_path / "inbox", [raw.replace(b"\r\n", b"\n") for raw in messages])
    assert load_messages(tmp_path / "inbox") == messages


def test_mbox_with_crlf_line_ends_comes_back_canonical(tmp_path: Path) -> None:
    messages = list(generate_messages(5, SEED))
    text = b"".join(MBOX_HEAD.replace(b"\n", b"\r\n") + raw + b"\r\n" for raw in messages)
    (tmp_path / "inbox").write_bytes(text)
    assert load_messages(tmp_path / "inbox") == messages


def test_maildir_round_trips(tmp_path: Path) -> None:
    messages = list(generate_messages(40, SEED))
    box = mailbox.Maildir(tmp_path / "Mail", create=True)
    for raw in messages[:30]:
        box.add(raw)
    for raw in messages[30:]:  # seen mail lives in cur/
        message = mailbox.MaildirMessage(raw)
        message.set_subdir("cur")
        box.add(message)
    box.close()
    source = open_mailbox(tmp_path / "Mail")
    assert (source.kind, len(source)) == ("maildir", 40)
    assert list(source) == messages


def test_single_eml_file(tmp_path: Path) -> None:
    raw = next(generate_messages(1, SEED))
    (tmp_path / "one.eml").write_bytes(raw.replace(b"\r\n", b"\n").rstrip(b"\n"))
    assert load_messages(tmp_path / "one.eml") == [raw]
    (tmp_path / "from.eml").write_bytes(b"From a@b Mon Jan  1 00:00:00 2024\n" + raw)
    assert load_messages(tmp_path / "from.eml") == [raw]


def test_a_header_only_message_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "inbox").write_bytes(MBOX_HEAD + b"Subject: hi\nMessage-ID: <x@y>\n\n")
    assert load_messages(tmp_path / "inbox") == [b"Subject: hi\r\nMessage-ID: <x@y>\r\n"]


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each bad input: a path and words its error message must contain."""

    def file(name: str, data: bytes) -> Path:
        (tmp_path / name).write_bytes(data)
        return tmp_path / name

    folder = tmp_path / "plain-folder"
    (folder / "cur").mkdir(parents=True)
    empty_maildir = tmp_path / "empty-maildir"
    for sub in ("cur", "new", "tmp"):
        (empty_maildir / sub).mkdir(parents=True)
    multipart = (
        b'Subject: x\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
        b"Content-Type: text/plain\n\nhello\n--b1\nContent-Type: application/pdf\n\nJVBER"
    )
    return {
        "missing path": (tmp_path / "nowhere", "does not exist"),
        "empty file": (file("empty", b""), "is empty"),
        "blank file": (file("blank", b"\n\n  \n"), "is empty"),
        "binary file": (file("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "binary"),
        "binary mbox": (file("nul", MBOX_HEAD + b"Subject: a\n\nx\x00y\n"), "NUL"),
        "not an mbox": (file("notes.txt", b"Dear diary,\ntoday...\n"), "not an mbox"),
        "eml without .eml": (file("message", GOOD), "name it .eml"),
        "empty message": (file("e1", MBOX_HEAD + b"\n" + MBOX_HEAD + GOOD), "is empty"),
        "no header": (file("e2", MBOX_HEAD + b"just text\n\nmore\n"), "header field"),
        "cut in headers": (file("cut.eml", b"Subject: hello\nFrom: Alice <al"), "cut inside"),
        "mbox cut mid-line": (
            file("cut1", MBOX_HEAD + GOOD + MBOX_HEAD + b"Subject: hel"),
            "truncated",
        ),
        "mbox cut in body": (
            file("cut2", MBOX_HEAD + GOOD + MBOX_HEAD + multipart + b"\n"),
            "boundary",
        ),
        "not a maildir": (folder, "not a Maildir"),
        "empty maildir": (empty_maildir, "no messages"),
    }


BAD_CASES = [
    "missing path",
    "empty file",
    "blank file",
    "binary file",
    "binary mbox",
    "not an mbox",
    "eml without .eml",
    "empty message",
    "no header",
    "cut in headers",
    "mbox cut mid-line",
    "mbox cut in body",
    "not a maildir",
    "empty maildir",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_refused_with_one_line(tmp_path: Path, case: str) -> None:
    path, words = _bad_inputs(tmp_path)[case]
    with pytest.raises(CorpusError) as caught:
        load_messages(path)
    text = str(caught.value)
    assert words in text
    assert "\n" not in text and "\r" not in text
    assert ":" in text  # what is wrong: what to do


def test_a_cut_multipart_eml_is_refused(tmp_path: Path) -> None:
    raw = next(raw for raw in generate_messages(50, SEED) if b"multipart/mixed" in raw)
    (tmp_path / "cut.eml").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CorpusError, match="closing boundary"):
        load_messages(tmp_path / "cut.eml")


def test_an_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "inbox"
    path.write_bytes(MBOX_HEAD + GOOD)
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads anything: make the open fail the way it would for a user

        def refuse(self: Path, *args: object, **kwargs: object) -> object:
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(CorpusError, match="cannot read .*Permission denied"):
        load_messages(path)


# The truth


@pytest.fixture
def delivered() -> list[bytes]:
    return list(generate_messages(20, SEED))


def test_exact_match_in_another_order_passes(delivered: list[bytes]) -> None:
    truth = Truth(delivered)
    report = truth.check(reversed(delivered))
    assert report.passed and report.checked == 20
    assert report.to_json() == {
        "checked": 20,
        "passed": True,
        "missing": [],
        "changed": [],
        "unexpected": [],
    }


def test_received_bytes_are_canonicalised_first(delivered: list[bytes]) -> None:
    report = Truth(delivered).check(raw.replace(b"\r\n", b"\n") for raw in delivered)
    assert report.passed


def test_one_changed_byte_is_caught(delivered: list[bytes]) -> None:
    received = list(delivered)
    body = received[7]
    position = len(body) - 5
    received[7] = body[:position] + bytes([body[position] ^ 1]) + body[position + 1 :]
    report = Truth(delivered).check(received)
    assert not report.passed
    assert report.changed == [f"<mb-{SEED}-7@mailbench.test>"]
    assert report.missing == [] and report.unexpected == []
    assert Truth(delivered).check(received, part="headers").passed  # the header block is intact


def test_a_changed_header_is_caught_by_a_headers_check(delivered: list[bytes]) -> None:
    received = [header_block(raw) for raw in delivered]
    received[3] = received[3].replace(b"Subject: ", b"Subject: X", 1)
    report = Truth(delivered).check(received, part="headers")
    assert report.changed == [f"<mb-{SEED}-3@mailbench.test>"]


def test_a_missing_message_is_caught(delivered: list[bytes]) -> None:
    report = Truth(delivered).check(delivered[:5] + delivered[6:])
    assert report.missing == [f"<mb-{SEED}-5@mailbench.test>"]
    assert report.changed == [] and report.unexpected == [] and report.checked == 19


def test_an_unexpected_message_is_caught(delivered: list[bytes]) -> None:
    stranger = next(generate_messages(1, SEED + 1))
    report = Truth(delivered).check(delivered + [stranger])
    assert report.unexpected == [f"<mb-{SEED + 1}-0@mailbench.test>"]
    assert report.missing == [] and report.changed == []


def test_duplicates_count_as_a_multiset() -> None:
    a = b"Message-ID: <same@x>\r\n\r\none\r\n"
    b = b"Message-ID: <same@x>\r\n\r\ntwo\r\n"
    truth = Truth([a, a, b])
    assert truth.check([b, a, a]).passed
    assert truth.check([a, b]).missing == ["<same@x>"]
    assert truth.check([a, a, b, b]).unexpected == ["<same@x>"]
    assert truth.check([a, b, b]).changed == ["<same@x>"]


def test_messages_without_message_id_are_keyed_by_position() -> None:
    truth = Truth([b"Subject: a\r\n\r\nx\r\n", b"Subject: b\r\n\r\ny\r\n"])
    assert truth.keys == ["#0", "#1"]
    report = truth.check([b"Subject: a\r\n\r\nx\r\n", b"Subject: b\r\n\r\nz\r\n"])
    assert report.changed == ["#1"] and report.missing == []


def test_the_streaming_checker_gives_the_same_report(delivered: list[bytes]) -> None:
    truth = Truth(delivered)
    checker = truth.checker("full")
    for raw in delivered[1:]:
        checker.add(raw)
    assert checker.report() == truth.check(delivered[1:])
    assert checker.report().missing == [f"<mb-{SEED}-0@mailbench.test>"]


def test_the_truth_keeps_digests_not_bodies() -> None:
    big = next(raw for raw in generate_messages(200, SEED) if len(raw) > 256 * 1024)
    truth = Truth([big])
    entry = truth.entries[0]
    assert entry.size_bytes == len(big) == truth.total_bytes
    assert len(entry.full_digest) == len(entry.headers_digest) == 32
    assert not any(isinstance(value, bytes) and len(value) > 32 for value in vars(entry).values())


def test_a_bad_part_is_refused(delivered: list[bytes]) -> None:
    with pytest.raises(ValueError, match="part"):
        Truth(delivered).checker("body")  # type: ignore[arg-type]


def _header_block_of_whole(raw: bytes) -> bytes:
    """header_block as its definition reads: canonical form of the whole message first."""
    message = canonical(raw)
    if message.startswith(b"\r\n"):
        return b"\r\n"
    end = message.find(b"\r\n\r\n")
    return message + b"\r\n" if end < 0 else message[: end + 4]


@pytest.mark.parametrize("head_lines", [0, 1, 2000, 2730, 2731, 2732, 2733, 5000])
@pytest.mark.parametrize("line_end", [b"\r\n", b"\n", b"\r"])
@pytest.mark.parametrize("separator", [b"\r\n\r\n", b"\n\n", b"\r\r", b"\r\n\n", b"\n\r\n", b"\r\r\n", b""])
def test_header_block_reads_only_the_head_but_gives_what_the_whole_message_gives(head_lines, line_end, separator):
    """Around the probe's end (``HEAD_PROBE``: 16,384 bytes, 2,730 lines of 6 bytes), with
    every line end and separator, and with no separator at all."""
    raw = b"H: v" + line_end
    raw = raw * head_lines + (b"X: y" + separator if separator else b"") + b"body\n" * 4000
    assert header_block(raw) == _header_block_of_whole(raw)


def test_a_truth_digest_of_one_part_is_the_truths_own():
    raw = b"Message-ID: <a@b>\nSubject: s\n\nbody\n" + b"x" * 20_000
    entry = Truth([raw]).entries[0]
    assert part_digest(raw, "full") == entry.full_digest
    assert part_digest(raw, "headers") == entry.headers_digest
    assert part_digest(raw + b"y", "full") != entry.full_digest
