"""A store copied from the host: files, owner, modes, times to the nanosecond, folder sizes."""

from __future__ import annotations

import os
import stat

import pytest

from bench.servers.store_copy import PAD_PREFIX, copy_store, grow_folder
from bench.servers.store_files import linked_on_the_way


def _tree(root):
    """Each path below ``root`` with what a copy must keep of it."""
    found = {}
    for folder, folders, files in os.walk(root):
        for name in [""] + folders + files:
            path = os.path.join(folder, name) if name else folder
            info = os.lstat(path)
            content = open(path, "rb").read() if stat.S_ISREG(info.st_mode) else None
            found[os.path.relpath(path, root)] = (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid,
                                                 info.st_mtime_ns, info.st_size if stat.S_ISDIR(info.st_mode) else None,
                                                 content)
    return found


@pytest.fixture()
def store(tmp_path):
    """A Maildir as a delivery leaves it: messages in new/, a UID list, a tmp/ that every
    message passed through (so larger than an empty folder)."""
    source = tmp_path / "mail" / "user2"
    for sub in ("Maildir/cur", "Maildir/new", "Maildir/tmp"):
        (source / sub).mkdir(parents=True)
    passing = [source / "Maildir" / "tmp" / f"1796072270.M{i}P26.host,S=100,W=102" for i in range(300)]
    for path in passing:  # a batch is written to tmp/, then moved to new/ at once
        path.write_bytes(b"x" * 100)
    for path in passing:
        path.rename(source / "Maildir" / "new" / path.name)
    (source / "Maildir" / "dovecot-uidlist").write_bytes(b"3 V1 N301\n")
    os.chmod(source / "Maildir" / "dovecot-uidlist", 0o600)
    os.chmod(source / "Maildir" / "tmp", 0o2700)
    os.utime(source / "Maildir" / "new", ns=(1_000_000_123, 1_796_072_270_462_876_628))
    return source


def test_a_copy_has_the_same_files_modes_times_and_folder_sizes(store, tmp_path):
    assert os.lstat(store / "Maildir" / "tmp").st_size > os.lstat(store / "Maildir" / "cur").st_size
    target = tmp_path / "mail" / "user3"
    copy_store(store, target)
    assert _tree(target) == _tree(store)
    assert not any(name.startswith(PAD_PREFIX) for name in os.listdir(target / "Maildir" / "tmp"))


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_copy_keeps_the_owner(store, tmp_path):
    for folder, folders, files in os.walk(store):
        for name in [folder] + [os.path.join(folder, f) for f in folders + files]:
            os.lchown(name, 5000, 5000)
    os.chmod(store / "Maildir" / "tmp", 0o2700)  # chown cleared the set-group-ID bit
    target = tmp_path / "mail" / "user3"
    copy_store(store, target)
    assert _tree(target) == _tree(store)
    assert os.lstat(target / "Maildir" / "new").st_uid == 5000


def test_what_the_target_held_is_replaced(store, tmp_path):
    target = tmp_path / "mail" / "user3"
    (target / "Maildir" / "cur").mkdir(parents=True)
    (target / "Maildir" / "cur" / "left-over").write_bytes(b"old")
    copy_store(store, target)
    assert _tree(target) == _tree(store)


def test_a_folder_grows_to_a_size_and_keeps_no_entry(tmp_path):
    folder = tmp_path / "tmp"
    folder.mkdir()
    empty = os.lstat(folder).st_size
    made = grow_folder(folder, empty * 3)
    assert made > 0 and os.lstat(folder).st_size >= empty * 3
    assert os.listdir(folder) == []
    assert grow_folder(folder, empty) == 0  # already large enough


def test_a_symbolic_link_on_the_way_is_found(tmp_path):
    root = tmp_path / "root"
    (root / "var" / "mail" / "user2").mkdir(parents=True)
    assert linked_on_the_way(root, root / "var" / "mail" / "user2") is None
    (root / "var" / "spool").symlink_to("/etc")
    assert linked_on_the_way(root, root / "var" / "spool" / "user2") == root / "var" / "spool"
