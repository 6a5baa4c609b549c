"""Link profiles, --link parsing, the limit, and the relay's pacing arithmetic (no sockets)."""

from __future__ import annotations

import math

import pytest

from bench.errors import UsageError
from bench.links import PROFILES, LinkProfile, limit_seconds, parse_link
from bench.links.limit import efficiency, serialisation_seconds
from bench.links.relay import (
    MAX_WINDOW_BYTES,
    MIN_WINDOW_BYTES,
    MTU_BYTES,
    TokenBucket,
    piece_bytes,
    window_bytes,
)

# --- profiles ---------------------------------------------------------------------------

def test_the_profiles_the_issue_names_exist():
    assert set(PROFILES) == {"lan", "broadband", "mobile-4g", "mobile-3g", "satellite"}


def test_lan_is_no_relay_at_all():
    lan = PROFILES["lan"]
    assert not lan.relayed
    assert (lan.rtt_ms, lan.down_mbit, lan.up_mbit) == (0.0, None, None)


@pytest.mark.parametrize("name", ["broadband", "mobile-4g", "mobile-3g", "satellite"])
def test_every_real_link_has_figures_and_a_source(name):
    profile = PROFILES[name]
    assert profile.relayed
    assert profile.rtt_ms > 0 and profile.down_mbit > 0 and profile.up_mbit > 0
    assert profile.down_mbit >= profile.up_mbit
    # The source names where the figures come from and repeats them.
    assert f"{profile.rtt_ms:g} ms" in profile.source
    assert f"{profile.down_mbit:g} Mbit/s" in profile.source


def test_profiles_order_by_latency_as_the_links_do():
    rtt = {name: profile.rtt_ms for name, profile in PROFILES.items()}
    assert rtt["lan"] < rtt["broadband"] < rtt["mobile-4g"] < rtt["mobile-3g"] < rtt["satellite"]
    assert rtt["satellite"] >= 500  # a geostationary hop is about 240 ms each way before any queue


def test_a_profile_records_its_figures():
    assert PROFILES["satellite"].as_dict()["rtt_ms"] == PROFILES["satellite"].rtt_ms
    assert PROFILES["mobile-4g"].one_way_delay_s == pytest.approx(PROFILES["mobile-4g"].rtt_ms / 2000)


# --- parse_link ---------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ["satellite", " Satellite ", "MOBILE-4G"])
def test_profile_names_parse_whatever_the_case(spec):
    assert parse_link(spec) is PROFILES[spec.strip().lower()]


def test_a_custom_link_takes_all_three_figures():
    link = parse_link("rtt=80ms,down=20mbit,up=5mbit")
    assert (link.rtt_ms, link.down_mbit, link.up_mbit) == (80.0, 20.0, 5.0)
    assert link.name == "custom(rtt=80ms,down=20mbit,up=5mbit)"
    assert link.relayed


@pytest.mark.parametrize("spec, figures", [
    ("rtt=0.6s", (600.0, None, None)),
    ("down=512kbit", (0.0, 0.512, None)),
    ("up=1gbit,rtt=5ms", (5.0, None, 1000.0)),
    ("rtt=0ms", (0.0, None, None)),
    ("rtt = 30ms , down = 2mbit", (30.0, 2.0, None)),
])
def test_a_custom_link_takes_any_subset_in_any_unit(spec, figures):
    link = parse_link(spec)
    assert (link.rtt_ms, link.down_mbit, link.up_mbit) == pytest.approx(figures)


def test_the_same_link_written_two_ways_has_one_name():
    assert parse_link("rtt=0.08s,down=20000kbit").name == parse_link("down=20mbit,rtt=80ms").name
    assert parse_link("down=20mbit,rtt=80ms").name == "custom(rtt=80ms,down=20mbit)"


@pytest.mark.parametrize("spec", [
    "moon", "", "rtt=80", "rtt=80mbit", "down=20ms", "down=0mbit", "rtt=-5ms", "rtt=5ms,rtt=6ms",
    "loss=1%", "rtt=80ms;down=1mbit", "down=fastmbit",
])
def test_a_bad_link_is_a_usage_error_naming_the_forms_and_profiles(spec):
    with pytest.raises(UsageError) as caught:
        parse_link(spec)
    message = str(caught.value)
    assert "\n" not in message
    assert "rtt=<n>ms" in message
    for name in PROFILES:
        assert name in message


# --- limit ----------------------------------------------------------------------------------

SLOW = LinkProfile("test", rtt_ms=100.0, down_mbit=8.0, up_mbit=1.0, source="test")


def test_the_limit_is_the_slower_direction_plus_the_round_trips():
    # 1 MB down at 8 Mbit/s: 1 s; 100 kB up at 1 Mbit/s: 0.8 s; the larger counts.
    assert limit_seconds(SLOW, 1_000_000, 100_000, 3) == pytest.approx(1.0 + 0.3)
    # Up is the slower direction here: 250 kB at 1 Mbit/s is 2 s.
    assert limit_seconds(SLOW, 1_000_000, 250_000, 0) == pytest.approx(2.0)


def test_each_connection_adds_a_round_trip_for_the_handshake():
    assert limit_seconds(SLOW, 0, 0, 2, connections=3) == pytest.approx(0.5)


def test_an_unlimited_link_costs_only_its_round_trips():
    link = parse_link("rtt=40ms")
    assert limit_seconds(link, 10**9, 10**9, 5) == pytest.approx(0.2)
    assert limit_seconds(PROFILES["lan"], 10**9, 10**9, 100) == 0.0


def test_the_limit_refuses_negative_counts():
    for args in ((-1, 0, 0), (0, -1, 0), (0, 0, -1)):
        with pytest.raises(ValueError):
            limit_seconds(SLOW, *args)


def test_serialisation_uses_decimal_megabits():
    assert serialisation_seconds(125_000, 1.0) == pytest.approx(1.0)
    assert serialisation_seconds(125_000, None) == 0.0


def test_efficiency_is_the_limit_over_the_time_taken():
    assert efficiency(SLOW, 2.6, 1_000_000, 0, 3) == pytest.approx(0.5)
    assert efficiency(SLOW, 0.0, 1, 1, 1) is None


# --- the relay's pacing ------------------------------------------------------------------------

def test_a_small_piece_on_an_idle_link_leaves_at_once():
    bucket = TokenBucket(125_000)  # 1 Mbit/s
    assert bucket.departure(100, 10.0) == 10.0
    # After a pause long enough to refill the bucket, again at once.
    assert bucket.departure(100, 11.0) == 11.0


def test_bulk_leaves_at_the_rate():
    rate = 1_000_000  # bytes per second
    bucket = TokenBucket(rate)
    piece = 10_000
    times = [bucket.departure(piece, 0.0) for _ in range(1000)]
    # 10 MB at 1 MB/s: 10 s, less the one burst that left for free.
    assert times[-1] == pytest.approx((1000 * piece - MTU_BYTES) / rate)
    assert all(b >= a for a, b in zip(times, times[1:]))
    # At a steady load each piece's gap is its serialisation time.
    assert times[500] - times[499] == pytest.approx(piece / rate)


def test_a_piece_waits_behind_the_ones_before_it_even_if_it_arrived_later():
    bucket = TokenBucket(1000)
    first = bucket.departure(5000, 0.0)
    second = bucket.departure(10, 1.0)
    assert second >= first


def test_an_unlimited_bucket_keeps_arrival_order():
    bucket = TokenBucket(None)
    assert [bucket.departure(10**6, t) for t in (1.0, 2.0, 3.0)] == [1.0, 2.0, 3.0]


def test_pieces_are_about_two_milliseconds_of_the_rate():
    assert piece_bytes(None) is None
    assert piece_bytes(1_000) == MTU_BYTES  # never below one MTU
    assert piece_bytes(1_250_000) == 2_500  # 10 Mbit/s
    assert piece_bytes(10**10) == 64 * 1024


def test_a_window_covers_the_bandwidth_delay_product_and_stays_bounded():
    assert window_bytes(None, 0.0) == MIN_WINDOW_BYTES
    satellite = window_bytes(18.13 * 125_000, 0.315)
    assert satellite >= 2 * 18.13 * 125_000 * 0.315
    assert window_bytes(10**10, 1.0) == MAX_WINDOW_BYTES
    assert window_bytes(None, 0.3) == MAX_WINDOW_BYTES
    assert not math.isinf(window_bytes(10**12, 10.0))
