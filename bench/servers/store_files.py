"""A container's mail store read from this host, through its main process's root.

Every reading of an account's store (``du`` of its folder, the list of its files) was a
``docker exec``: a process started in the container, tens of milliseconds each, and
storage-exposure takes one per round of every sample. ``/proc/<pid>/root`` is the
container's file system as its main process sees it (the overlay, volumes included), so
the same figures are read from the host with no process started in the container:

- ``du_bytes``: what ``du -sbc <glob> | tail -n 1`` prints: the apparent size of every file,
  directory and symbolic link under the matched folders, each inode once (hard links), and
  0 where nothing matches;
- ``file_listing``: what ``find <glob> -type f -printf '%i %s %P\\n'`` prints: inode, size and
  path below the matched folder of every regular file;
- ``sync_file_system``: what ``sync -f <path>`` does, syncfs(2) of the file system the path
  is on, without the ``docker exec`` (a tenth of a second each here, once per delivery).

A symbolic link is never followed (neither ``du`` nor ``find`` does), so an absolute link
inside the container cannot lead out of it. ``root_of`` gives None where the host cannot
see the process (a daemon on another machine): the caller then runs the command in the
container.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import stat
from functools import cache
from pathlib import Path
from typing import Iterator


def root_of(pid: int, proc: Path = Path("/proc")) -> Path | None:
    """The file system of process ``pid`` as this host sees it, or None."""
    if pid <= 0:
        return None
    root = proc / str(pid) / "root"
    try:
        os.stat(root)
    except OSError:
        return None
    return root


def _matches(root: Path, pattern: str) -> list[str]:
    """The paths ``pattern`` (a shell glob, absolute in the container) matches, as host paths."""
    return sorted(glob.glob(str(root) + "/" + pattern.lstrip("/")))


def _walk(top: str) -> Iterator[tuple[str, os.stat_result]]:
    """``top`` and everything below it, symbolic links not followed: (path, lstat)."""
    try:
        top_stat = os.lstat(top)
    except FileNotFoundError:
        return
    yield top, top_stat
    if not stat.S_ISDIR(top_stat.st_mode):
        return
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:  # removed while being read: as du, count what was there
            continue
        for entry in entries:
            try:
                entry_stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            yield entry.path, entry_stat
            if stat.S_ISDIR(entry_stat.st_mode):
                folders.append(entry.path)


def du_bytes(root: Path, pattern: str) -> int:
    """``du -sbc`` of the folders ``pattern`` matches, each inode counted once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for top in _matches(root, pattern):
        for _, found in _walk(top):
            key = (found.st_dev, found.st_ino)
            if key not in seen:
                seen.add(key)
                total += found.st_size
    return total


def file_listing(root: Path, pattern: str) -> str | None:
    """``find -type f -printf '%i %s %P\\n'`` of the folders ``pattern`` matches; None when it
    matches nothing (``find`` fails there)."""
    tops = _matches(root, pattern)
    if not tops:
        return None
    lines = []
    for top in tops:
        for path, found in _walk(top):
            if stat.S_ISREG(found.st_mode):
                lines.append(f"{found.st_ino} {found.st_size} {os.path.relpath(path, top)}\n")
    return "".join(lines)


@cache
def _syncfs():
    """libc's ``syncfs``, or None where the C library has none."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


def sync_file_system(root: Path, path: str) -> bool:
    """Write the page cache of the file system that ``path`` (absolute in the container) is
    on to disk, as ``sync -f path`` run in the container does; False where it cannot be
    done from here (no syncfs, a symbolic link on the way, the path gone), and the caller
    then runs the command in the container."""
    syncfs = _syncfs()
    host_path = root / path.lstrip("/")
    if syncfs is None or linked_on_the_way(root, host_path) is not None:
        return False
    try:
        descriptor = os.open(host_path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        if syncfs(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs of {path}: {os.strerror(error)}")
    finally:
        os.close(descriptor)
    return True


def linked_on_the_way(root: Path, path: Path) -> Path | None:
    """The first symbolic link among the components of ``path`` below ``root`` (an absolute
    link inside the container would be followed from the host's root, out of the
    container), or None when there is none: the caller then does not go through it."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            return current
    return None
