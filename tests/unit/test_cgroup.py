"""Reading a container's counters from cgroup files: finding them from /proc/<pid>/cgroup
on both cgroup versions, and reading them as ``docker stats`` does."""

from __future__ import annotations

from pathlib import Path

from bench.servers.cgroup import Counters, find, locate, parse_membership

V1 = """12:pids:/docker/abc
5:cpu,cpuacct:/docker/abc
4:memory:/docker/abc
1:name=systemd:/docker/abc
0::/system.slice/containerd.service
"""
V2 = "0::/system.slice/docker-abc.scope\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_v1_line_naming_two_controllers_gives_each_its_path():
    membership = parse_membership(V1)
    assert membership["cpu"] == membership["cpuacct"] == membership["memory"] == "/docker/abc"
    assert membership["name=systemd"] == "/docker/abc"


def test_v1_counters_are_read_from_the_cpuacct_and_memory_hierarchies(tmp_path):
    _write(tmp_path / "cpu,cpuacct/docker/abc/cpuacct.usage", "1500000000\n")
    _write(tmp_path / "memory/docker/abc/memory.usage_in_bytes", "4000\n")
    _write(tmp_path / "memory/docker/abc/memory.stat", "cache 10\ntotal_inactive_file 1000\ninactive_file 7\n")
    files = locate(parse_membership(V1), tmp_path)
    assert files is not None and not files.v2
    assert files.read() == Counters(cpu_ns=1_500_000_000, memory_bytes=4000, inactive_file_bytes=1000)


def test_v2_counters_are_read_from_the_unified_hierarchy(tmp_path):
    folder = tmp_path / "system.slice/docker-abc.scope"
    _write(folder / "cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n")
    _write(folder / "memory.current", "8000\n")
    _write(folder / "memory.stat", "anon 100\ninactive_file 3000\n")
    files = locate(parse_membership(V2), tmp_path)
    assert files is not None and files.v2
    assert files.read() == Counters(cpu_ns=2_500_000, memory_bytes=8000, inactive_file_bytes=3000)


def test_no_files_where_the_hierarchy_is_not_on_this_host(tmp_path):
    assert locate(parse_membership(V1), tmp_path) is None
    assert locate(parse_membership(V2), tmp_path) is None


def test_a_process_that_is_not_there_has_no_files(tmp_path):
    assert find(0) is None
    assert find(123, tmp_path, proc=tmp_path / "proc") is None


def test_find_reads_the_membership_of_the_process(tmp_path):
    _write(tmp_path / "proc/42/cgroup", V2)
    folder = tmp_path / "cg/system.slice/docker-abc.scope"
    _write(folder / "cpu.stat", "usage_usec 1\n")
    _write(folder / "memory.current", "1\n")
    _write(folder / "memory.stat", "inactive_file 0\n")
    files = find(42, tmp_path / "cg", proc=tmp_path / "proc")
    assert files is not None and files.cpu == folder


class _RemoteContainer:
    """A container whose main process this host cannot see (a daemon on another machine):
    its pid is not ours, so readings go through the daemon's stats."""

    def __init__(self) -> None:
        self.reloads = 0
        self.attrs = {"State": {"Pid": 0}}

    def reload(self) -> None:
        self.reloads += 1

    def stats(self, stream: bool, one_shot: bool) -> dict:
        return {"cpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000}},
                "memory_stats": {"usage": 5000, "stats": {"total_inactive_file": 1000}}}


def test_a_host_that_cannot_see_the_container_asks_the_daemon_without_a_lookup_per_reading():
    from bench.servers import get_server
    from bench.servers.base import Resources, RunningServer

    container = _RemoteContainer()
    server = RunningServer(get_server("dovecot"), container, {}, users=2)
    assert [server.resources() for _ in range(3)] == [Resources(2.0, 4000)] * 3
    assert server.counters_source == "docker stats" and server._host_root() is None
    assert container.reloads == 1  # looked up once for the process, not once per reading
