"""Reading a store's sizes and files as du and find print them, on a folder made here."""

from __future__ import annotations

import os
from pathlib import Path

from bench.servers.store_files import du_bytes, file_listing, root_of, sync_file_system


def _store(root: Path) -> Path:
    user = root / "var/mail/user2"
    (user / "cur").mkdir(parents=True)
    (user / "cur/1").write_bytes(b"a" * 100)
    (user / "cur/2").write_bytes(b"b" * 50)
    os.link(user / "cur/1", user / "cur/1-copy")  # one inode, two names: counted once
    (user / "index").write_bytes(b"i" * 7)
    os.symlink("/etc/passwd", user / "link")  # never followed
    return user


def test_du_counts_files_folders_and_links_once_each_and_follows_none(tmp_path):
    user = _store(tmp_path)
    folders = sum(os.lstat(p).st_size for p in (user, user / "cur"))
    link = os.lstat(user / "link").st_size
    assert du_bytes(tmp_path, "/var/mail/user2") == 100 + 50 + 7 + folders + link
    assert du_bytes(tmp_path, "/var/mail/user*") == du_bytes(tmp_path, "/var/mail/user2")
    assert du_bytes(tmp_path, "/var/mail/nobody") == 0


def test_the_listing_names_each_regular_file_below_its_folder(tmp_path):
    user = _store(tmp_path)
    lines = sorted(file_listing(tmp_path, "/var/mail/user2").splitlines())
    inode = os.stat(user / "cur/1").st_ino
    assert lines == sorted([f"{inode} 100 cur/1", f"{inode} 100 cur/1-copy",
                            f"{os.stat(user / 'cur/2').st_ino} 50 cur/2",
                            f"{os.stat(user / 'index').st_ino} 7 index"])
    assert file_listing(tmp_path, "/var/mail/nobody") is None


def test_a_process_that_is_not_there_has_no_root(tmp_path):
    assert root_of(0) is None
    assert root_of(12345, proc=tmp_path) is None
    assert root_of(os.getpid()) == Path(f"/proc/{os.getpid()}/root")


def test_sync_file_system_syncs_a_folder_and_refuses_a_link_out(tmp_path):
    root = tmp_path / "root"
    (root / "var" / "mail" / "user2").mkdir(parents=True)
    (root / "var" / "spool").symlink_to(tmp_path)
    assert sync_file_system(root, "/var/mail/user2")
    assert not sync_file_system(root, "/var/spool")  # a link on the way: run in the container instead
    assert not sync_file_system(root, "/var/mail/user3")  # not there
