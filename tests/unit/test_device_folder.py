"""Where a run's devices keep their copies: in memory where they fit, else the temporary
folder (pure logic: mounts and free space are given)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.device_folder import KEEP_FREE, available_memory, choose, is_tmpfs

GB = 1_000_000_000
MOUNTS = ("/dev/vda / ext4 rw,relatime 0 0\n"
          "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n"
          "tmpfs /run tmpfs rw 0 0\n")


def test_only_a_tmpfs_mount_point_counts_as_memory():
    assert is_tmpfs(Path("/dev/shm"), MOUNTS)
    assert not is_tmpfs(Path("/"), MOUNTS)
    assert not is_tmpfs(Path("/dev/shm/sub"), MOUNTS)
    assert not is_tmpfs(Path("/dev/shm"), "/dev/vda /dev/shm ext4 rw 0 0\n")


def test_the_devices_go_to_memory_when_it_has_room_and_to_the_temporary_folder_when_not(tmp_path):
    memory = tmp_path / "shm"
    memory.mkdir()
    mounts = MOUNTS.replace("/dev/shm", str(memory))
    plenty = lambda: "MemTotal: 25000000 kB\nMemAvailable: 20000000 kB\n"  # noqa: E731
    roomy = choose(2 * GB, lambda path: 4 * GB, environ={}, memory=memory, mounts=lambda: mounts, meminfo=plenty)
    assert roomy.path == memory and roomy.memory
    tight = choose(2 * GB, lambda path: 2 * GB + KEEP_FREE - 1, environ={}, memory=memory, mounts=lambda: mounts,
                   meminfo=plenty)
    assert tight.path == Path(tempfile.gettempdir()) and not tight.memory and "no room" in tight.why
    # A tmpfs may be larger than the memory left: what is available decides too.
    busy = lambda: "MemAvailable: 2500000 kB\n"  # noqa: E731
    short = choose(2 * GB, lambda path: 12 * GB, environ={}, memory=memory, mounts=lambda: mounts, meminfo=busy)
    assert not short.memory and "available memory" in short.why
    on_disk = choose(1, lambda path: 4 * GB, environ={}, memory=memory, mounts=lambda: "/dev/vda / ext4 rw 0 0\n")
    assert not on_disk.memory and "not a tmpfs" in on_disk.why
    absent = choose(1, lambda path: 4 * GB, environ={}, memory=tmp_path / "none", mounts=lambda: mounts)
    assert not absent.memory


def test_a_tmpdir_the_user_set_wins(tmp_path):
    memory = tmp_path / "shm"
    memory.mkdir()
    mounts = MOUNTS.replace("/dev/shm", str(memory))
    told = choose(1, lambda path: 4 * GB, environ={"TMPDIR": str(tmp_path)}, memory=memory, mounts=lambda: mounts)
    assert not told.memory and told.why == "TMPDIR is set"


def test_available_memory_is_read_from_meminfo():
    assert available_memory("MemTotal: 24684100 kB\nMemFree: 100 kB\nMemAvailable: 2048 kB\n") == 2048 * 1024
    assert available_memory("MemTotal: 24684100 kB\n") is None
