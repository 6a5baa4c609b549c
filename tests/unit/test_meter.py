from bench.access.meter import WireMeter


def test_round_trips_count_each_switch_from_writing_to_reading():
    meter = WireMeter()
    tap = meter.tap()
    tap.received(20)  # greeting: the connection's first wait
    tap.sent(10)
    tap.received(5)
    tap.received(5)  # same answer, still one wait
    tap.sent(8)
    tap.sent(8)  # two pipelined commands ...
    tap.received(30)  # ... one wait
    assert meter.round_trips == 3
    assert meter.bytes_up == 26
    assert meter.bytes_down == 60


def test_each_connection_counts_its_own_waits():
    meter = WireMeter()
    first, second = meter.tap(), meter.tap()
    first.received(1)
    second.received(1)
    first.sent(1)
    second.received(1)  # second connection did not send: no new wait
    assert meter.round_trips == 2
    assert meter.connections == 2


def test_empty_reads_and_writes_count_nothing():
    meter = WireMeter()
    tap = meter.tap()
    tap.received(0)
    tap.sent(0)
    assert meter.totals() == {"bytes_up": 0, "bytes_down": 0, "round_trips": 0, "connections": 1}


def test_measure_records_latency_per_command_even_on_error():
    meter = WireMeter()
    with meter.measure("FETCH"):
        pass
    try:
        with meter.measure("FETCH"):
            raise RuntimeError
    except RuntimeError:
        pass
    commands = meter.commands()
    assert commands["FETCH"]["count"] == 2
    assert all(v >= 0 for v in commands["FETCH"]["latency_ms"])
