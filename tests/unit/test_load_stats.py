"""Reading Locust's CSV statistics and the users' own records back (bench.load.stats)."""

import json

from bench.load.stats import (
    AGGREGATED, agreement, delay_summary, delays, own_figures, parse_failures_csv, parse_stats_csv, read_records,
)

# As Locust 2.x writes <prefix>_stats.csv (columns abridged to those read, in its order).
STATS_CSV = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
imap,FETCH,4,0,3,3.5,2,6,1200.0,0.1,0.0,3,4,4,6,6,6,6,6,6,6,6
imap,LOGIN,2,1,10,10.0,9,11,40.0,0.05,0.02,10,11,11,11,11,11,11,11,11,11,11
,Aggregated,6,1,4,5.67,2,11,813.3,0.15,0.02,4,6,9,10,11,11,11,11,11,11,11
"""
FAILURES_CSV = """Method,Name,Error,Occurrences
imap,LOGIN,ConnectionResetError: reset,1
"""


def records():
    cmd = lambda command, ms, error=None, at=100.0, user="user1": {  # noqa: E731
        "kind": "cmd", "at": at, "user": user, "protocol": "imap", "command": command, "ms": ms,
        "up": 10, "down": 100, "error": error}
    return [cmd("FETCH", 2.0), cmd("FETCH", 3.0), cmd("FETCH", 3.0, user="user2"), cmd("FETCH", 6.0, at=200.0),
            cmd("LOGIN", 9.0), cmd("LOGIN", 11.0, error="ConnectionResetError: reset"),
            {"kind": "mail", "at": 150.0, "user": "user1", "id": "m0"},
            {"kind": "mail", "at": 149.0, "user": "user2", "id": "m0"}]


def test_stats_csv_by_type_and_name_with_the_total():
    table = parse_stats_csv(STATS_CSV)
    assert set(table) == {"imap FETCH", "imap LOGIN", AGGREGATED}
    assert table["imap FETCH"]["count"] == 4 and table["imap FETCH"]["p95_ms"] == 6
    assert table["imap LOGIN"]["failures"] == 1
    assert table[AGGREGATED]["p50_ms"] == 4


def test_failures_csv_by_command_and_error():
    assert parse_failures_csv(FAILURES_CSV) == [
        {"command": "imap LOGIN", "error": "ConnectionResetError: reset", "count": 1}]


def test_own_figures_count_commands_errors_bytes_and_first_arrival_of_each_message():
    own = own_figures(records())
    assert own.commands["imap FETCH"]["count"] == 4
    assert own.commands["imap LOGIN"]["failures"] == 1
    assert own.errors_by_kind == {"imap LOGIN: ConnectionResetError": 1}
    assert own.received == {"m0": 149.0}
    assert own.bytes_up == 60 and own.bytes_down == 600
    assert own.users_seen == 2
    assert own_figures(records(), since=150.0).commands["imap FETCH"]["count"] == 1


def test_both_paths_agree_on_the_same_commands():
    result = agreement(parse_stats_csv(STATS_CSV), own_figures(records()).commands)
    assert result == {"agree": True, "differences": []}


def test_a_missing_command_or_another_count_is_a_disagreement():
    own = own_figures(records()[:3]).commands  # three FETCHes only
    result = agreement(parse_stats_csv(STATS_CSV), own)
    assert not result["agree"]
    assert any("4 commands in Locust, 3 in the records" in d for d in result["differences"])
    assert any("imap LOGIN: only in Locust" in d for d in result["differences"])


def test_records_skip_a_line_cut_short(tmp_path):
    path = tmp_path / "worker-0-1.jsonl"
    path.write_text(json.dumps(records()[0]) + "\n" + '{"kind": "cmd", "at": 1')
    assert len(read_records([path, tmp_path / "absent.jsonl"])) == 1


def test_delays_pair_sent_and_received_and_list_what_never_came():
    arrived, missing = delays({"m0": 148.0, "m1": 150.0}, {"m0": 149.5})
    assert arrived == [1.5] and missing == ["m1"]
    assert delay_summary([1.0, 2.0, 3.0])["p50_s"] == 2.0
    assert delay_summary([]) == {}


def test_the_records_percentiles_are_compared_as_locust_computes_them():
    from bench.load.stats import agreement, locust_percentile, own_figures

    # 19 quick IDLE DONEs and one slow: an interpolated p95 lies near the quick ones, Locust's
    # (from the slowest down, on its rounded histogram) is the slow one; both paths agree.
    records = [{"kind": "cmd", "protocol": "imap", "command": "DONE", "ms": 16.2, "at": 1.0, "user": 1}] * 19
    records.append({"kind": "cmd", "protocol": "imap", "command": "DONE", "ms": 20.4, "at": 1.0, "user": 2})
    own = own_figures(records).commands
    assert own["imap DONE"]["p95_ms"] < 17 and own["imap DONE"]["p95_ms_as_locust"] == 20.0
    locust = {"imap DONE": {"count": 20, "p50_ms": 16.0, "p95_ms": 20.0},
              "Aggregated": {"count": 20, "p50_ms": 16.0, "p95_ms": 20.0}}
    assert agreement(locust, own)["agree"]
    assert not agreement({**locust, "imap DONE": {"count": 20, "p50_ms": 16.0, "p95_ms": 40.0}}, own)["agree"]
    assert locust_percentile([150.4, 1234.0], 0.5) == 1200.0
