"""Counting what a fault cost, from digests."""

from scenarios.interrupted_sync.loss import count_losses, digest


def test_nothing_lost_when_everything_is_somewhere():
    count = count_losses(["a", "b", "c"], server=["a", "b"], device=["c"])
    assert (count.lost, count.duplicated, count.partial) == (0, 0, 0)
    assert (count.on_server, count.on_device, count.delivered) == (2, 1, 3)


def test_a_message_on_neither_side_is_lost():
    count = count_losses(["a", "b", "c"], server=[], device=["a", "b"])
    assert count.lost == 1


def test_extra_copies_on_the_device_are_duplicates():
    count = count_losses(["a", "b"], server=[], device=["a", "a", "a", "b"])
    assert (count.duplicated, count.lost) == (2, 0)


def test_a_message_delivered_twice_is_two_messages():
    assert count_losses(["a", "a"], server=[], device=["a", "a"]).duplicated == 0
    assert count_losses(["a", "a"], server=[], device=["a"]).lost == 1
    assert count_losses(["a", "a"], server=["a", "a"], device=["a"]).lost == 0


def test_unfinished_and_unknown_files_are_partial():
    count = count_losses(["a", "b"], server=["b"], device=["a", "truncated"], unfinished=2)
    assert (count.partial, count.lost, count.on_device) == (3, 0, 1)


def test_a_truncated_copy_does_not_save_its_message():
    whole = b"Message-ID: <1@x>\r\n\r\nhello world\r\n"
    count = count_losses([digest(whole)], server=[], device=[digest(whole[:-8])])
    assert (count.lost, count.partial) == (1, 1)


def test_digest_ignores_line_ending_form():
    assert digest(b"A: b\r\n\r\nbody\r\n") == digest(b"A: b\n\nbody\n")
