"""Where interrupted-sync's faults strike: seeded points and the line a cut waits for."""

import pytest

from bench.corpus import generate_messages
from bench.errors import MailbenchError
from scenarios.interrupted_sync.faults import BETWEEN, FAULTS, cut_pattern, draw_point, make_fault


def test_points_are_the_same_for_a_seed_and_differ_between_repetitions():
    assert draw_point(7, "server-killed", 0, 100) == draw_point(7, "server-killed", 0, 100)
    points = {draw_point(7, "server-killed", sample, 100) for sample in range(10)}
    assert len(points) > 1


@pytest.mark.parametrize("messages", [1, 2, 3, 10, 300])
def test_a_point_is_always_inside_the_mailbox(messages):
    for sample in range(20):
        point = draw_point(1, "cut-mid-message", sample, messages)
        assert 0 <= point.whole_before < messages
        assert point.whole_before >= messages // 4 or messages < 4


def test_the_points_between_commands_come_in_turn():
    assert [draw_point(1, "cut-between-commands", s, 10).between for s in range(3)] == list(BETWEEN)


def test_the_cut_line_is_unique_in_the_mailbox_and_from_the_middle():
    common = b"Subject: same everywhere in the mailbox\r\n"
    messages = [b"Message-ID: <%d@x>\r\n" % i + common + b"\r\n"
                + b"".join(b"line %04d of message %d, long enough\r\n" % (j, i) for j in range(21))
                for i in range(3)]
    pattern = cut_pattern(messages[1], lambda: messages)
    assert sum(m.count(pattern) for m in messages) == 1
    assert pattern.startswith(b"\r\n") and pattern.endswith(b"\r\n") and pattern.count(b"\r\n") == 2
    middle = len(messages[1]) // 2
    assert abs(messages[1].index(pattern) - middle) < 40  # the line nearest the middle


def test_a_message_with_no_unique_line_cannot_be_cut_inside():
    same = b"Subject: twins are everywhere\r\n\r\nthe same body line, twice over\r\n"
    with pytest.raises(MailbenchError, match="unique"):
        cut_pattern(same, lambda: [same, same])


def test_dot_lines_are_never_chosen():
    message = b"X: y\r\n\r\n" + b".starts with a dot and is long\r\n" * 3 + b"plain and unique line here\r\n"
    message += b"the last line is never the one\r\n"
    assert cut_pattern(message, lambda: [message]) == b"\r\nplain and unique line here\r\n"


def test_a_line_quoted_in_a_reply_or_inside_a_longer_line_elsewhere_is_not_unique():
    """Only a whole line of no other message will do; a line that is part of a longer line
    elsewhere still is one (the CRLFs around the pattern tell them apart)."""
    original = b"Message-ID: <1@x>\r\n\r\nshared line quoted in the reply\r\nonly in the original, plainly\r\nend\r\n"
    reply = (b"Message-ID: <2@x>\r\n\r\nshared line quoted in the reply\r\n"
             b"> only in the original, plainly, and more\r\nend\r\n")
    assert cut_pattern(original, lambda: [original, reply]) == b"\r\nonly in the original, plainly\r\n"


def test_a_thread_s_reply_from_the_generated_corpus_can_be_cut_inside():
    """Message 36 of 100 (seed 1) quotes its thread: the 20 lines nearest its middle all
    occur in other messages."""
    messages = list(generate_messages(100, seed=1))
    pattern = cut_pattern(messages[36], lambda: iter(messages))
    assert sum(m.count(pattern) for m in messages) == 1


def test_faults_need_the_cells_link():
    class NoLink:
        link = None

    for name in FAULTS:
        with pytest.raises(MailbenchError, match="relay"):
            make_fault(name, NoLink(), draw_point(1, name, 0, 5), 0.1)
    with pytest.raises(MailbenchError, match="unknown fault"):
        make_fault("meteor", NoLink(), draw_point(1, "x", 0, 5), 0.1)
