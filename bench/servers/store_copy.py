"""One account's store copied into another's, from the host, as the server left it.

A Maildir store (Dovecot's, Courier's) holds all of its user's state below the user's
folder: messages, UID list, indexes, caches, keywords (docs/servers.md). A copy of that
folder, file for file with the owner, modes and timestamps (to the nanosecond) kept, is a
mailbox the server cannot tell from the one it wrote: Dovecot compares the modification
times of ``new/``, ``cur/`` and ``dovecot-uidlist`` with the ones its index recorded and
would rescan (and rewrite its index) on a difference; message files keep their names, so
the UID list and ``courierimapuiddb`` still name them.

What a copy cannot carry over by itself is a folder's size: an ext4 folder never shrinks,
so a Maildir's ``tmp/``, through which every delivered message passed, is larger than a
new, empty one. ``du`` counts folder sizes (``server_disk_bytes``), so each copied folder
is grown back to its source's size by creating empty entries in it and removing them.

The copy is made through ``/proc/<pid>/root`` (``bench.servers.store_files``): with 100
messages (7.1 MB) it took 0.021 s (Dovecot) and 0.047 s (Courier) from the host against
0.081 s and 0.089 s for one ``docker exec ... cp -a`` (``benchmarks/store_copy_speed.py``,
docs/servers.md), and ``cp -a`` gave a folder below a set-group-ID folder the set-group-ID
bit its source lacks.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

PAD_PREFIX = ".mailbench-pad-"
PAD_LIMIT = 1_000_000  # entries a folder may be grown by; a folder that does not grow stops the loop


def copy_store(source: Path, target: Path) -> None:
    """Make ``target`` a copy of the folder ``source`` (both host paths): whatever ``target``
    held is removed first; owner, group, modes and timestamps of every file and folder are
    the source's, and every folder is as large as its source (see ``_copy_folder``)."""
    if target.exists() or target.is_symlink():
        shutil.rmtree(target)
    _copy_folder(source, target)


def _copy_folder(source: Path, target: Path) -> None:
    """Copy one folder and, recursively, what it holds. Its entries are created in the
    order the server delivered them (``delivery_order``): the order of a small ext4 folder's
    entries as read is the order they arrived in, and Courier numbers POP3 messages in that
    order; a larger (hashed) folder's size depends on it (filled in another order, it splits
    its blocks otherwise and ends larger). Then the folder is grown back to its source's
    size (``grow_folder``) and gets its owner, mode and times; it is stamped last, since
    creating entries in it changes its times."""
    found = os.lstat(source)
    os.mkdir(target)
    entries = sorted(os.scandir(source), key=delivery_order)
    for entry in entries:
        inner = target / entry.name
        if entry.is_dir(follow_symlinks=False):
            _copy_folder(Path(entry.path), inner)
        elif entry.is_symlink():
            os.symlink(os.readlink(entry.path), inner)
            linked = entry.stat(follow_symlinks=False)
            os.lchown(inner, linked.st_uid, linked.st_gid)
        else:
            shutil.copyfile(entry.path, inner, follow_symlinks=False)
            _stamp(inner, entry.stat(follow_symlinks=False))
    grow_folder(target, found.st_size)
    _stamp(target, found)


MAILDIR_NAME = re.compile(r"^([0-9]+)\.M([0-9]+)P([0-9]+)")  # <seconds>.M<microseconds>P<pid>...


def delivery_order(entry: os.DirEntry) -> tuple:
    """A key that puts Maildir message files in the order they were delivered (their names
    begin with the second and microsecond of their delivery, Maildir's own naming), ahead of
    every other entry, those in the order of their inode numbers."""
    named = MAILDIR_NAME.match(entry.name)
    if named:
        return (0, int(named[1]), int(named[2]), int(named[3]), entry.name)
    return (1, entry.inode(), 0, 0, entry.name)


def _stamp(path: Path, found: os.stat_result) -> None:
    """Give ``path`` the owner, mode and times in ``found``; the owner first, since a change
    of owner may clear set-ID bits."""
    os.chown(path, found.st_uid, found.st_gid)
    os.chmod(path, stat.S_IMODE(found.st_mode))
    os.utime(path, ns=(found.st_atime_ns, found.st_mtime_ns))


def grow_folder(folder: Path, size: int) -> int:
    """Grow ``folder`` to at least ``size`` bytes (a folder's size is its entry blocks) by
    creating empty entries in it, then removing them: the folder keeps its size. Returns
    the entries it took."""
    made = []
    try:
        while os.lstat(folder).st_size < size and len(made) < PAD_LIMIT:
            path = folder / f"{PAD_PREFIX}{len(made):08d}{'x' * 40}"
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            made.append(path)
    finally:
        for path in made:
            os.unlink(path)
    return len(made)
