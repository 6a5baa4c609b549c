"""The pure parts of what keeps run order and reading out of the figures: plan exclusions,
the shuffled run order, per-sample timeline seeds, client memory growth, store usage."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from bench import process
from bench.errors import UsageError
from bench.plan import build_plan, exclusions, run_order
from bench.servers import SERVERS
from bench.servers.base import store_usage_of
from bench.sample import draw_timeline_seed

REPO = Path(__file__).resolve().parents[2]

# --- no mode deletes what it did not download


def test_pop3_delete_with_headers_is_left_out_of_every_plan():
    cells = build_plan(["bulk-fetch"], [], [])
    assert not [c for c in cells if c.mode == "pop3-delete" and c.variant == "headers"]
    assert {c.variant for c in cells if c.mode == "pop3-delete"} >= {"full", "new"}
    assert {c.mode for c in cells if c.variant == "headers"} == {"imap", "pop3-keep"}


def test_exclusions_name_what_the_filters_asked_for_and_why():
    [excluded, searching] = exclusions(["bulk-fetch"], [], [])
    assert (searching.mode, searching.variant) == ("pop3-delete", "search") and "lost" in searching.reason
    assert (excluded.scenario, excluded.mode, excluded.variant) == ("bulk-fetch", "pop3-delete", "headers")
    assert "TOP" in excluded.reason and "deletes" in excluded.reason
    assert excluded.as_dict() == {"scenario": "bulk-fetch", "mode": "pop3-delete", "variant": "headers",
                                  "reason": excluded.reason}
    assert exclusions(["bulk-fetch"], ["imap"], []) == []
    assert exclusions(["bulk-fetch"], [], ["full"]) == []
    assert [e.variant for e in exclusions(["bulk-fetch"], [], ["headers"])] == ["headers"]
    assert exclusions(["multi-device-sync"], [], []) == []


def test_asking_only_for_the_excluded_pair_is_one_line_saying_why_and_what_instead():
    with pytest.raises(UsageError) as error:
        build_plan(["bulk-fetch"], ["dovecot"], ["pop3-delete"], ["headers"])
    message = str(error.value)
    assert "\n" not in message
    assert "pop3-delete" in message and "headers" in message and "TOP" in message
    assert "--variant full" not in message and "another --variant (full, new" in message
    assert "another --mode (imap, pop3-keep, jmap)" in message


def test_the_excluded_pair_asked_for_beside_others_leaves_the_others():
    cells = build_plan(["bulk-fetch"], ["dovecot"], ["pop3-delete"], ["headers", "full"], ["off"])
    assert [c.id for c in cells] == ["bulk-fetch/dovecot/pop3-delete/full/tls-off"]


def test_mailbench_list_shows_the_exclusion():
    listed = subprocess.run([sys.executable, "-m", "bench.cli", "list"], capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert any("left out: pop3-delete with variant headers" in line for line in listed.stdout.splitlines())


# --- each server's cells in a seeded random order


def test_run_order_is_a_permutation_of_each_servers_cells_fixed_by_the_seed():
    cells = build_plan(["bulk-fetch", "multi-device-sync"], ["dovecot", "cyrus"], [])
    order = run_order(cells, seed=1)
    assert list(order) == ["dovecot", "cyrus"]
    for server, mine in order.items():
        planned = [c for c in cells if c.server == server]
        assert sorted(mine, key=lambda c: c.id) == sorted(planned, key=lambda c: c.id)
        assert len(set(mine)) == len(mine)
    assert run_order(cells, seed=1) == order
    assert run_order(list(cells), seed=1) == order  # a fresh list: nothing depends on identity
    other = run_order(cells, seed=2)
    assert any(other[server] != order[server] for server in order)
    assert any(order[server] != [c for c in cells if c.server == server] for server in order)  # shuffled


def test_run_order_is_the_same_in_another_process():
    code = ("from bench.plan import build_plan, run_order; "
            "print([c.id for c in run_order(build_plan(['bulk-fetch'], ['cyrus'], []), 7)['cyrus']])")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                           env={"PYTHONHASHSEED": str(salt)}, cwd=REPO)
            for salt in (1, 2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout


# --- a timeline per sample


def test_timeline_seeds_differ_per_sample_and_are_stable():
    seeds = [draw_timeline_seed(1, sample) for sample in range(5)]
    assert len(set(seeds)) == 5
    assert seeds == [draw_timeline_seed(1, sample) for sample in range(5)]
    assert draw_timeline_seed(2, 0) != draw_timeline_seed(1, 0)
    assert all(0 <= seed < 2**32 for seed in seeds)
    # A digest, not hash(): the same value in any process, whatever its hash salt.
    assert draw_timeline_seed(1, 0) == int.from_bytes(hashlib.sha256(b"timeline:1:0").digest()[:4], "big")


def test_the_timelines_drawn_from_two_samples_differ():
    from bench.devices.timeline import sync_timeline

    first, second = (sync_timeline(draw_timeline_seed(1, sample), 50).to_json() for sample in (0, 1))
    assert first["timeline"] != second["timeline"]


# --- client memory as growth above the sample's start


def test_status_bytes_reads_kilobyte_fields():
    status = "Name:\tpython\nVmHWM:\t  120400 kB\nVmRSS:\t  100200 kB\nThreads:\t1\n"
    assert process.status_bytes(status, "VmRSS") == 100200 * 1024
    assert process.status_bytes(status, "VmHWM") == 120400 * 1024
    assert process.status_bytes(status, "VmSwap") is None


def test_rss_growth_is_the_peak_above_the_start_never_negative():
    assert process.rss_growth_bytes(100 * 2**20, 130 * 2**20) == 30 * 2**20
    assert process.rss_growth_bytes(100 * 2**20, 100 * 2**20) == 0
    assert process.rss_growth_bytes(100 * 2**20, 90 * 2**20) == 0


def test_an_allocation_in_the_block_shows_as_growth_and_earlier_ones_do_not():
    kept = bytearray(64 * 2**20)  # allocated before: part of the starting RSS, not of the growth
    kept[:: 4096] = b"x" * len(kept[:: 4096])
    if not process.reset_peak_rss():
        pytest.skip("this platform cannot reset the peak RSS")
    start = process.rss_bytes()
    block = bytearray(32 * 2**20)
    block[:: 4096] = b"y" * len(block[:: 4096])
    growth = process.rss_growth_bytes(start, process.peak_rss_bytes())
    assert 30 * 2**20 <= growth < 60 * 2**20
    del block, kept


def _heap_chunks(count: int) -> list[bytes]:
    """``count`` filled chunks of 100 kB: below glibc's mmap threshold, so on the heap."""
    return [bytes([i % 251]) * 100_000 for i in range(count)]


def _growth_of_reusing_freed_memory(release: bool) -> int:
    freed = _heap_chunks(400)
    pin = _heap_chunks(5)  # allocated after: the heap's top stays in use, the freed chunks stay inside
    del freed
    if release:
        process.release_free_memory()
    process.reset_peak_rss()
    start = process.rss_bytes()
    again = _heap_chunks(400)
    growth = process.rss_growth_bytes(start, process.peak_rss_bytes())
    del again, pin
    return growth


def test_memory_freed_before_a_block_is_handed_back_so_that_the_block_s_use_of_it_counts():
    """40 MB freed before the block and allocated again in it: without the hand-back the
    block reads next to no growth (it reuses what stayed resident); with it, the 40 MB."""
    if not process.release_free_memory() or not process.reset_peak_rss():
        pytest.skip("this platform cannot hand memory back or reset the peak RSS")
    assert _growth_of_reusing_freed_memory(release=False) < 10e6
    assert 35e6 <= _growth_of_reusing_freed_memory(release=True) < 60e6


# --- the account's store by kind of file


def test_store_usage_splits_message_files_from_state_per_server():
    maildir = ("11 5778 Maildir/cur/1.M1,S=5778:2,S\n12 0 Maildir/maildirfolder\n"
               "13 1104 Maildir/dovecot.index.log\n14 55587 Maildir/.Archive/new/2.M2,S=55587\n"
               "14 55587 Maildir/cur/2.M2,S=55587:2,\n15 319 Maildir/dovecot-uidlist\n"
               "16 10 Maildir/tmp/3.M3\n")
    usage = store_usage_of(maildir, SERVERS["dovecot"].message_file)
    assert usage.message_bytes == 5778 + 55587 + 10  # the hard link counted once
    assert usage.state_bytes == 1104 + 319
    cyrus = ("1 2424 1.\n2 824461 10.\n3 20200 cyrus.cache\n4 2400 cyrus.index\n5 56733 Archive/1.\n"
             "6 272 Archive/cyrus.index\n")
    usage = store_usage_of(cyrus, SERVERS["cyrus"].message_file)
    assert usage.message_bytes == 2424 + 824461 + 56733
    assert usage.state_bytes == 20200 + 2400 + 272
    assert SERVERS["courier"].message_file.search("Maildir/cur/1796.M2P32V,S=5778:2,S")
    assert not SERVERS["courier"].message_file.search("Maildir/courierimapuiddb")


def test_only_cyrus_says_deleted_mail_stays():
    assert "recoverable" in SERVERS["cyrus"].deletion
    assert "at once" in SERVERS["dovecot"].deletion and "at once" in SERVERS["courier"].deletion


def test_run_with_only_the_excluded_pair_is_the_one_line_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "bench.cli", "run", "--scenario", "bulk-fetch", "--mode", "pop3-delete",
                          "--variant", "headers", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mailbench: error: the filters leave no cell to run: ")
    assert "pop3-delete" in lines[0] and "headers" in lines[0] and "--mode" in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing started
