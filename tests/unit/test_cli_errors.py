"""Bad input gives one clear line and a non-zero exit, before any container starts."""

from __future__ import annotations

import subprocess
import sys

import pytest


def mailbench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mailbench: error: ")
    return lines[0]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["run", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["run", "--server", "exchange"], "unknown server 'exchange'"),
        (["run", "--mode", "smtp"], "'smtp' is not one of"),
        (["run", "--messages", "0"], "--messages"),
        (["run", "--messages", "-5"], "--messages"),
        (["run", "--repeat", "abc"], "--repeat"),
        (["run", "--corpus", "/nonexistent/mail.mbox"], "does not exist"),
        (["run", "--cell-timeout", "0"], "--cell-timeout"),
        (["run", "--cell-timeout", "-5"], "--cell-timeout"),
        (["run", "--cell-timeout", "abc"], "--cell-timeout"),
        (["run", "--cell-timeout", "nan"], "--cell-timeout"),
        (["report", "/nonexistent/results.json"], "does not exist"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, expected):
    result = mailbench(*args)
    line = one_error_line(result)
    assert expected in line
    assert result.returncode == 2


def test_corpus_that_is_not_mail_is_refused(tmp_path):
    corpus = tmp_path / "photo.mbox"
    corpus.write_bytes(bytes(range(256)) * 10)
    line = one_error_line(mailbench("run", "--corpus", str(corpus)))
    assert str(corpus) in line


def test_empty_corpus_is_refused(tmp_path):
    corpus = tmp_path / "empty.mbox"
    corpus.write_bytes(b"")
    assert "empty" in one_error_line(mailbench("run", "--corpus", str(corpus)))


def test_truncated_mbox_is_refused(tmp_path):
    corpus = tmp_path / "cut.mbox"
    corpus.write_bytes(b"From a@example.org Thu Nov 26 10:00:00 2026\nFrom: a@example.org\nSubject: hi\n\nfirst li")
    line = one_error_line(mailbench("run", "--corpus", str(corpus)))
    assert "truncated" in line and str(corpus) in line


def test_multipart_message_cut_before_its_closing_boundary_is_refused(tmp_path):
    corpus = tmp_path / "cut.eml"
    corpus.write_bytes(b"From: a@example.org\nSubject: hi\nMIME-Version: 1.0\n"
                       b'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nhello\n')
    line = one_error_line(mailbench("run", "--corpus", str(corpus)))
    assert "closing boundary is missing" in line and "truncated" in line


@pytest.mark.parametrize("command", ["report", "charts", "compare"])
@pytest.mark.parametrize("content, expected", [
    ('{"schema_version": 1, "run_id": "x", "cel', "is not JSON"),
    ("\x89PNG not json at all", "is not JSON"),
    ('{"schema_version": 99, "run_id": "x", "started_at": "now", "cells": []}', "schema version 99"),
    ('{"run_id": "x"}', "not a mailbench results file"),
])
def test_results_file_that_cannot_be_read_is_one_line(tmp_path, command, content, expected):
    bad = tmp_path / "results.json"
    bad.write_text(content)
    args = {"report": [str(bad)], "charts": [str(bad), "--out", str(tmp_path / "c")],
            "compare": [str(bad), str(bad)]}[command]
    result = mailbench(command, *args)
    line = one_error_line(result)
    assert expected in line and str(bad) in line
    assert result.returncode == 2


def test_unwritable_out_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "--out" in one_error_line(mailbench("run", "--out", str(blocker / "sub")))


def test_docker_not_running_is_one_line(tmp_path):
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock", "PATH": "/usr/bin:/bin"}
    line = one_error_line(mailbench("run", "--messages", "5", "--out", str(tmp_path), env=env))
    assert "Docker is not reachable" in line and "start" in line


def test_list_names_everything():
    result = mailbench("list")
    assert result.returncode == 0
    for name in ("bulk-fetch", "dovecot", "imap", "pop3-keep", "pop3-delete"):
        assert name in result.stdout
