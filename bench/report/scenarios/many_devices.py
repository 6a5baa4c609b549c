"""many-devices: what each mode costs a server per user, and how many users it holds.

The report's Capacity section (``capacity_section``, only when the results hold
many-devices cells): per server and mode, the users held per server core (the largest
passing level, never a client-bound one), how its devices wait for new mail (IDLE, or
polling: NOOP, JMAP's ``Email/changes``, POP3 sessions), server CPU per user-hour, memory
per connected user (a difference between levels) and each level's verdict. The appendix has every level
in full, and two charts per server: p95 command latency against users and server CPU
against users, one line per mode, client-bound levels drawn hollow.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes

from bench.report import units
from bench.report.cells import Grid, unrun_word
from bench.report.charts import ChartSpec
from bench.report.document import Block, Paragraph, Section, Table, Text, text
from bench.report.scenarios.base import ScenarioReport, detail_title
from bench.results import CellResult, Results

NAME = "many-devices"


def _cells(results: Results) -> list[CellResult]:
    return [c for c in results.cells if c.scenario == NAME and c.ok and c.info.get("levels")]


def _levels(cell: CellResult) -> list[dict[str, Any]]:
    return cell.info.get("levels", [])


def _status(level: dict[str, Any]) -> str:
    return level.get("verdict", {}).get("status", "?")


def _n(value: Any, fmt=units.number) -> str:
    return fmt(value) if isinstance(value, (int, float)) else "n/a"


def _added(value: Any) -> str:
    """Memory a step added per connection (user): n/a where the memory fell, as results
    written before ``memory_per_connection`` left such a step out may hold."""
    return _n(value, units.byte_size) if not isinstance(value, (int, float)) or value >= 0 else "n/a"


def capacity_rows(results: Results) -> list[tuple[Text, ...]]:
    rows = []
    for cell in _cells(results):
        found = cell.info.get("capacity", {})
        metrics = cell.samples[-1] if cell.samples else {}
        levels = ", ".join(f"{level['users']} {_status(level)}" for level in _levels(cell))
        top = "≥ " if found.get("users") is not None and found.get("stopped_at") is None else ""
        rows.append(tuple(text(v) for v in (
            cell.server, cell.mode, cell.info.get("waits_with", "?"),
            top + _n(found.get("users")), top + _n(found.get("per_core")),
            _n(metrics.get("server_cpu_s_per_user_hour")),
            _added(metrics.get("memory_bytes_per_connection")),
            _added(metrics.get("memory_bytes_per_user")),
            levels)))
    return rows


CAPACITY_HEADERS = ("server", "mode", "device waits with", "users held", "users per core",
                    "server CPU s per user-hour", "memory per connection", "memory per user", "levels (verdict)")


def capacity_table(results: Results) -> Table:
    return Table(CAPACITY_HEADERS, tuple(capacity_rows(results)),
                 (False, False, False, True, True, True, True, True, False),
                 caption="Users held per server core: the largest level that passed before the first that did not; "
                         "a client-bound level never counts; ≥ where every level passed (the search's top). Memory "
                         "per connection and per user: what the last step between levels added, divided by the "
                         "connections (users) it added, where it added at least 10 and the server's memory did not "
                         "fall.")


def _about(results: Results) -> list[Block]:
    cells = _cells(results)
    if not cells:
        return []
    info = cells[0].info
    load, qos, cpus = info.get("load", {}), info.get("qos", {}), info.get("cpus", {})
    pinned = (f"the server on CPU {', '.join(map(str, cpus.get('server_cpus', [])))} and the load generator on "
              f"CPU {', '.join(map(str, cpus.get('load_cpus', [])))}" if cpus.get("pinned")
              else "server and load generator sharing the CPUs (not pinned)")
    return [Paragraph(text(
        f"Each user is an account with its own mailbox and one device, driven by Locust ({load.get('workers', '?')} "
        f"local worker(s)); time is compressed {_n(info.get('time_compression'))}x (polling every "
        f"{_n(load.get('poll_interval_user_s'))} user-seconds = {_n(load.get('poll_interval_s'))} s; "
        f"{_n(load.get('mail_per_user_hour'))} new messages per user-hour, by {info.get('new_mail_path', '?')}). "
        f"Each level is measured for {_n(load.get('window_s'))} s after its users settle, {pinned}. A level passes "
        f"when at least {units.share(qos.get('command_share', 0))} of commands finish within "
        f"{_n(qos.get('command_s'))} s, at least {units.share(qos.get('delay_share', 0))} of new mail reaches a "
        f"device within {_n(qos.get('push_delay_s'))} s (push) or the polling interval plus "
        f"{_n(qos.get('poll_slack_s'))} s, and errors stay below {units.share(qos.get('error_share', 0))}; it is "
        f"client-bound when the load generator used more than {units.share(qos.get('client_cpu_share', 0))} "
        "of its CPUs (docs/load.md)."))]


def capacity_section(results: Results) -> list[Section]:
    """The report's Capacity section; none when the run had no many-devices cell."""
    if not _cells(results):
        return []
    return [Section("Capacity", [*_about(results), capacity_table(results)])]


LEVEL_HEADERS = ("mode", "users", "verdict", "p50 / p95 / p99 ms", "Locust p95 ms", "paths agree",
                 "new mail p95 s (on time / due)", "server CPU", "CPU s per user-hour", "memory",
                 "connections", "bytes per user-hour", "state per user", "load CPU")


def _level_row(cell: CellResult, level: dict[str, Any]) -> tuple[Text, ...]:
    f = level.get("figures", {})
    mail = level.get("mail", {})
    locust_p95 = level.get("locust", {}).get("Aggregated", {}).get("p95_ms")
    verdict = _status(level) + (f" ({'; '.join(level['verdict']['reasons'])})" if level.get("verdict", {}).get("reasons") else "")
    values = (
        cell.mode, str(level["users"]), verdict,
        " / ".join(_n(f.get(k)) for k in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")),
        _n(locust_p95), "yes" if level.get("agreement", {}).get("agree") else "no",
        f"{_n(f.get('mail_delay_p95_s'))} ({mail.get('on_time', 0)} / {mail.get('due', 0)})",
        _n(f.get("server_cpu_share"), units.share), _n(f.get("server_cpu_s_per_user_hour")),
        _n(f.get("server_memory_bytes"), units.byte_size), _n(f.get("connections_open")),
        _n(f.get("bytes_per_user_hour"), units.byte_size), _n(f.get("state_bytes_per_user"), units.byte_size),
        _n(f.get("client_cpu_share"), units.share),
    )
    return tuple(text(v) for v in values)


def section(results: Results, grid: Grid) -> Section:
    result = Section(detail_title(NAME), _about(results))
    for server in grid.servers:
        cells = [c for c in _cells(results) if c.server == server]
        rows = [_level_row(cell, level) for cell in cells for level in _levels(cell)]
        blocks: list[Block] = []
        if rows:
            blocks.append(Table(LEVEL_HEADERS, tuple(rows), (False, True, False, *([True] * 11)),
                                caption="Every level: latency from the users' own records and from Locust, new-mail "
                                        "delay, what the server spent, and the load generator's CPU. Connections: "
                                        "those held open to the port the mode's devices use (JMAP: its HTTP port). "
                                        "State per user: the account's folder in the mail store; what a server keeps "
                                        "per user elsewhere (Cyrus, in /var/lib/cyrus: JMAP's conversations database "
                                        "among it) is not counted."))
        for cell in cells:
            for event in cell.info.get("ended_early", []):
                blocks.append(Paragraph(text(f"{cell.mode}: {event}.")))
        from bench.report.scenarios.base import chart_blocks

        blocks += chart_blocks(results, NAME, server=server, own=CHARTS)
        result.children.append(Section(f"{NAME} on {server}", blocks))
    # a cell the server does not offer (JMAP on Dovecot) is in the report's "Not offered" section
    failed = [c for c in results.cells if c.scenario == NAME and not c.ok and c.offered]
    for cell in failed:
        result.blocks.append(Paragraph(text(f"{cell.server} {cell.mode}: {cell.error or cell.status}.")))
    return result


def findings(results: Results, grid: Grid) -> list[Text]:
    lines = []
    for cell in _cells(results):
        found = cell.info.get("capacity", {})
        bound = [str(level["users"]) for level in _levels(cell) if _status(level) == "client-bound"]
        held = (f"holds {found['users']} users ({_n(found.get('per_core'))} per core)" if found.get("users")
                else "passed no level")
        extra = f"; client-bound at {', '.join(bound)}" if bound else ""
        lines.append(text(f"{cell.server} {cell.mode} {held}{extra}."))
    return lines


def level_lines(results: Results) -> list[str]:
    """One line per level of every many-devices cell, for the terminal at the end of a run."""
    lines = []
    for cell in [c for c in results.cells if c.scenario == NAME]:
        if not cell.ok:
            lines.append(f"{cell.server} {cell.mode}: {unrun_word(cell)}: {cell.error}")
            continue
        for level in _levels(cell):
            f, mail = level.get("figures", {}), level.get("mail", {})
            reasons = level.get("verdict", {}).get("reasons") or []
            status = _status(level) + (f" ({'; '.join(reasons)})" if reasons else "")
            lines.append(
                f"{cell.server} {cell.mode} {level['users']} users: {status}; latency p50/p95/p99 "
                f"{_n(f.get('latency_p50_ms'))}/{_n(f.get('latency_p95_ms'))}/{_n(f.get('latency_p99_ms'))} ms "
                f"(Locust p95 {_n(level.get('locust', {}).get('Aggregated', {}).get('p95_ms'))}); new mail p95 "
                f"{_n(f.get('mail_delay_p95_s'))} s ({mail.get('on_time', 0)}/{mail.get('due', 0)} on time); "
                f"server CPU {_n(f.get('server_cpu_s_per_user_hour'))} s per user-hour; memory per connection "
                f"{_n(f.get('memory_bytes_per_connection'), units.byte_size)}; load CPU "
                f"{_n(f.get('client_cpu_share'), units.share)}")
        found = cell.info.get("capacity", {})
        # Every level passed: the capacity is at least the top level, not known to be it.
        top = "at least " if found.get("users") is not None and found.get("stopped_at") is None else ""
        lines.append(f"{cell.server} {cell.mode}: capacity {top}{_n(found.get('users'))} users "
                     f"({top}{_n(found.get('per_core'))} per server core)"
                     + ("; every level passed" if top else ""))
    return lines


def _plot_per_mode(results: Results, ax: Axes, figure: str, ylabel: str, server: str | None, scale: float = 1.0) -> None:
    for cell in _cells(results):
        if server is not None and cell.server != server:
            continue
        points = [(level["users"], level["figures"].get(figure), _status(level)) for level in _levels(cell)]
        points = [(u, v * scale, s) for u, v, s in points if isinstance(v, (int, float))]
        if not points:
            continue
        line, = ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=cell.mode)
        hollow = [p for p in points if p[2] == "client-bound"]
        if hollow:
            ax.plot([p[0] for p in hollow], [p[1] for p in hollow], linestyle="none", marker="o", markersize=10,
                    markerfacecolor="none", markeredgecolor=line.get_color())
    ax.set_xlabel("users at once")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title="mode (hollow: client-bound)")


def plot_p95_vs_users(results: Results, ax: Axes, *, scenario: str | None = None, server: str | None = None,
                      variant: str | None = None, link: str | None = None) -> None:
    """p95 command latency (users' own records) against users, one line per mode."""
    _plot_per_mode(results, ax, "latency_p95_ms", "p95 command latency (ms)", server)


def plot_cpu_vs_users(results: Results, ax: Axes, *, scenario: str | None = None, server: str | None = None,
                      variant: str | None = None, link: str | None = None) -> None:
    """Server CPU (share of its cores) against users, one line per mode."""
    _plot_per_mode(results, ax, "server_cpu_share", "server CPU (% of its cores)", server, scale=100.0)


def _has_levels(grid: Grid) -> bool:
    return any(cell.ok and cell.info.get("levels") for cell in grid.cells.values())


CHARTS = (
    ChartSpec("p95-vs-users", plot_p95_vs_users, (),
              "p95 command latency against users at once, one line per mode; hollow rings mark client-bound levels.",
              wants=_has_levels),
    ChartSpec("cpu-vs-users", plot_cpu_vs_users, (),
              "Server CPU against users at once, one line per mode; hollow rings mark client-bound levels.",
              wants=_has_levels),
)

REPORT = ScenarioReport(
    NAME, section, findings, headline=("p95-vs-users",),
    about="Many users at once, each with a device, stepped up through levels: what each mode costs the server per "
          "user, and how many users it holds within the QoS limits (load from Locust).",
    charts=CHARTS,
)
