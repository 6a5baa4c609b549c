"""The Capacity section and many-devices charts, from results alone; compare on its cells."""

from bench.compare import compare_runs
from bench.report import render
from bench.report.sections import build_appendix, build_document
from bench.results import CellResult, Results, load, save


def _level(users, status, p95, cpu_share, memory, connections, reasons=()):
    return {
        "users": users,
        "figures": {"users": users, "latency_p50_ms": 1.0, "latency_p95_ms": p95, "latency_p99_ms": p95 * 2,
                    "server_cpu_share": cpu_share, "server_cpu_s_per_user_hour": 0.5, "server_memory_bytes": memory,
                    "connections_open": connections, "bytes_per_user_hour": 2e5, "state_bytes_per_user": 4e4,
                    "client_cpu_share": 0.9 if status == "client-bound" else 0.2, "mail_delay_p95_s": 0.4},
        "verdict": {"status": status, "reasons": list(reasons)},
        "locust": {"Aggregated": {"count": 100, "p95_ms": p95}},
        "agreement": {"agree": True, "differences": []},
        "mail": {"due": 10, "on_time": 10},
        "events": [],
    }


def results_with_capacity() -> Results:
    results = Results(run_id="r1", started_at="2026-12-01T10:00:00+00:00", command="mailbench run --scenario many-devices")
    results.plan = {"servers": ["dovecot"], "modes": ["imap", "pop3-keep"], "variants": ["steady"], "tls": ["off"]}
    for mode, waits, levels in (
        ("imap", "IDLE", [_level(10, "pass", 3.0, 0.05, 50e6, 11), _level(30, "client-bound", 9.0, 0.2, 70e6, 31)]),
        ("pop3-keep", "POP3 polling", [_level(10, "pass", 2.0, 0.03, 48e6, 1),
                                       _level(30, "fail", 1500.0, 0.9, 49e6, 2, ["slow"])]),
    ):
        cell = CellResult("many-devices", "dovecot", mode, "steady")
        cell.add_sample({"levels_run": 2, "capacity_users": 10, "capacity_users_per_core": 10,
                         "server_cpu_s_per_user_hour": 0.5, "memory_bytes_per_connection": 1e6},
                        {f"users-{level['users']}": level["figures"] for level in levels})
        cell.info = {"levels": levels, "capacity": {"users": 10, "per_core": 10.0, "stopped_at": 30}, "waits_with": waits,
                     "load": {"workers": 2, "poll_interval_s": 5, "poll_interval_user_s": 300, "window_s": 30,
                              "mail_per_user_hour": 6},
                     "qos": {"command_s": 1, "command_share": 0.95, "delay_share": 0.95, "push_delay_s": 2,
                             "poll_slack_s": 2, "error_share": 0.001, "client_cpu_share": 0.85},
                     "cpus": {"server_cpus": [0], "load_cpus": [1], "pinned": True}, "time_compression": 60,
                     "new_mail_path": "IMAP APPEND"}
        results.cells.append(cell)
    return results


def _titles(document):
    return [section.title for _, section in document.walk()]


def test_the_capacity_section_is_there_only_with_many_devices_cells():
    results = results_with_capacity()
    document = build_document(results)
    capacity = next(s for s in document.sections if s.title == "Capacity")
    table = next(b for b in capacity.blocks if hasattr(b, "rows"))
    assert len(table.rows) == 2
    assert "Capacity" not in _titles(build_document(Results(run_id="r0", started_at="x", command="mailbench run")))
    assert "many-devices in detail" in _titles(build_appendix(results))


def test_the_charts_are_drawn_and_the_report_renders(tmp_path):
    results = results_with_capacity()
    save(results, tmp_path / "results.json")
    files = render(load(tmp_path / "results.json"), tmp_path)
    charts = sorted(p.name for p in (tmp_path / "charts").glob("*many-devices*.png"))
    assert any("p95-vs-users" in name for name in charts) and any("cpu-vs-users" in name for name in charts)
    markdown = files.markdown.read_text()
    assert "## Capacity" in markdown and "client-bound" in markdown


def test_compare_reads_many_devices_cells_like_any_other():
    old, new = results_with_capacity(), results_with_capacity()
    new.cells[0].samples[0]["capacity_users"] = 20
    lines = "\n".join(compare_runs(old, new).lines())
    assert "capacity_users" in lines


def test_claims_c4_and_c7_take_the_server_cost_per_user_from_many_devices():
    from bench.claims import c4, c7

    results = results_with_capacity()
    imap = [f for f in c4(results).figures if f.label.startswith("many-devices")]
    pop3 = [f for f in c7(results).figures if "pop3-keep" in f.label]
    assert len(imap) == 1 and "s per user-hour" in imap[0].value and "per connection" in imap[0].value
    assert len(pop3) == 1 and "per-user state" in pop3[0].value


def test_each_level_is_one_line_for_the_terminal():
    from bench.report.scenarios.many_devices import level_lines

    lines = level_lines(results_with_capacity())
    assert lines[0].startswith("dovecot imap 10 users: pass; latency p50/p95/p99 1.00/3.00/6.00 ms")
    assert "30 users: client-bound" in lines[1] and "load CPU 90.0%" in lines[1]
    assert lines[2] == "dovecot imap: capacity 10 users (10.0 per server core)"
    assert "30 users: fail (slow)" in lines[4]


def test_a_capacity_where_every_level_passed_is_a_lower_bound():
    from bench.report.scenarios.many_devices import level_lines

    results = results_with_capacity()
    results.cells[0].info["capacity"] = {"users": 30, "per_core": 30.0, "stopped_at": None}
    assert "dovecot imap: capacity at least 30 users (at least 30.0 per server core); every level passed" in \
        level_lines(results)


def test_a_jmap_cell_the_server_does_not_offer_is_not_called_failed():
    from bench.report.scenarios.many_devices import level_lines, section
    from bench.report.cells import Grid

    results = results_with_capacity()
    lacking = CellResult("many-devices", "dovecot", "jmap", "steady")
    lacking.not_offered("JMAP is not offered by this server (dovecot)")
    results.cells.append(lacking)
    assert "dovecot jmap: not offered: JMAP is not offered by this server (dovecot)" in level_lines(results)
    detail = section(results, Grid.of(results, "many-devices"))
    assert not any("JMAP is not offered" in str(block) for block in detail.blocks)


def test_a_jmap_cell_is_in_the_capacity_table_but_never_in_the_claims():
    from bench.claims import c4, c7
    from bench.report.scenarios.many_devices import capacity_rows

    results = results_with_capacity()
    results.cells[0].mode = "jmap"
    results.cells[0].info["waits_with"] = "Email/changes polling"
    assert ["".join(cell) for cell in capacity_rows(results)[0][:3]] == ["dovecot", "jmap", "Email/changes polling"]
    assert not [f for f in c4(results).figures + c7(results).figures if "jmap" in f.label]


def test_memory_a_step_added_is_not_shown_where_the_memory_fell():
    from bench.report.document import plain
    from bench.report.scenarios.many_devices import capacity_rows

    results = results_with_capacity()
    results.cells[1].samples[-1]["memory_bytes_per_user"] = -2460.0  # as an older results file may hold
    results.cells[0].samples[-1]["memory_bytes_per_user"] = 1.07e6
    rows = {plain(row[1]): [plain(value) for value in row] for row in capacity_rows(results)}
    assert rows["pop3-keep"][7] == "n/a"
    assert rows["imap"][7] == "1.07 MB" and rows["imap"][6] != "n/a"
