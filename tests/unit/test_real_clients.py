"""benchmarks/real_clients.py without a server: the clients' configuration files, reading
back what they stored (their documented edits undone, nothing more), the mailbox check,
the round order, the table, and the one-line refusal when the clients are missing."""

from __future__ import annotations

import json
import re

import pytest

from benchmarks import real_clients as rc
from bench.corpus import canonical, generate_messages
from bench.errors import UsageError
from bench.servers.base import Account

MESSAGES = list(generate_messages(12, seed=3))


# --- configuration files -----------------------------------------------------------------


def _settings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_the_mbsyncrc_pulls_inbox_from_loopback_in_plaintext_into_the_maildir(tmp_path):
    inbox = tmp_path / "Maildir" / "INBOX"
    lines = _settings(rc.mbsyncrc(14300, "user7", "mailbench", inbox))
    assert lines[0] == "FSync no"
    for wanted in ("Host 127.0.0.1", "Port 14300", 'User "user7"', 'Pass "mailbench"', "SSLType None",
                   "AuthMechs LOGIN", f'Inbox "{inbox}"', "Far :server:INBOX", "Near :device:INBOX",
                   "Sync Pull", "Create Near", "Expunge None", "SyncState *"):
        assert wanted in lines
    assert not [line for line in lines if line.startswith("DisableExtension")]
    assert not [line for line in lines if "Push" in line]


def test_the_mbsyncrc_can_turn_compression_off_and_quotes_what_it_must():
    text = rc.mbsyncrc(143, 'a"b', "p\\w", rc.Path("/x y/INBOX"), compress=False)
    assert "DisableExtension COMPRESS=DEFLATE" in text.splitlines()
    assert 'User "a\\"b"' in text and 'Pass "p\\\\w"' in text and 'Inbox "/x y/INBOX"' in text


def test_the_fetchmailrc_reads_pop3_on_loopback_into_a_bsmtp_file_without_tls(tmp_path):
    text = rc.fetchmailrc(11000, "user3", "mailbench", "root", tmp_path / "m.bsmtp", tmp_path / "ids",
                          tmp_path / "pid")
    lines = _settings(text)
    assert "set no syslog" in lines and "set no bouncemail" in lines
    assert f'set idfile "{tmp_path / "ids"}"' in lines
    assert any(line.startswith("poll 127.0.0.1 with proto POP3 port 11000 auth password") for line in lines)
    assert '    user "user3" there with password "mailbench" is "root" here' in lines
    assert f"    sslproto '' bsmtp \"{tmp_path / 'm.bsmtp'}\"" in lines
    # keep and fetch all are on the command line, where the results record them
    assert {"--keep", "--all", "--norewrite", "--invisible"} == set(rc.FETCHMAIL_OPTIONS)
    assert not re.search(r"\b(keep|fetchall|mda)\b", text.split("poll", 1)[1])


def test_the_versions_are_read_from_what_the_programs_say():
    assert rc.program_version("mbsync", "isync 1.4.4\n") == "1.4.4"
    said = ("fetchmail: WARNING: Running as root is discouraged.\n"
            "This is fetchmail release 6.4.37+GSS+NTLM+SDPS+SSL-SSLv2-SSLv3+NLS+KRB5.\n")
    assert rc.program_version("fetchmail", said) == "6.4.37"
    assert rc.program_version("mbsync", "") == "unknown"


# --- what the clients stored, read back ----------------------------------------------------


def _as_mbsync_stores(raw: bytes, tuid: bytes = b"Y0z8i/cCUUo6") -> bytes:
    """A message as mbsync 1.4 writes it to a Maildir: LF line ends, an X-TUID line at the
    end of its header."""
    text = raw.replace(b"\r\n", b"\n")
    head, blank, body = text.partition(b"\n\n")
    return head + b"\nX-TUID: " + tuid + blank + body


def test_the_one_x_tuid_line_mbsync_inserts_is_removed_and_nothing_else():
    raw = MESSAGES[0]
    stored = _as_mbsync_stores(raw)
    assert canonical(rc.without_tuid(stored)) == raw
    # one in the body is the message's own
    body_line = raw + b"X-TUID: in the body\r\n"
    assert rc.without_tuid(body_line) == body_line
    assert rc.without_tuid(raw) == raw


def test_mbsync_s_maildir_passes_the_check_and_a_changed_byte_fails_it(tmp_path):
    mailbox = rc.Mailbox(Account(2, "user2"))
    for raw in MESSAGES:
        mailbox.stored(raw)
    inbox = tmp_path / "INBOX"
    for sub in ("cur", "new", "tmp"):
        (inbox / sub).mkdir(parents=True)
    for index, raw in enumerate(MESSAGES):
        (inbox / "new" / f"1.{index}.vm,U={index + 1}:2,").write_bytes(_as_mbsync_stores(raw))
    stored, unfinished = rc.maildir_messages(inbox)
    assert unfinished == 0
    assert mailbox.truth.check(rc.without_tuid(raw) for raw in stored).passed

    victim = sorted((inbox / "new").iterdir())[3]
    data = bytearray(victim.read_bytes())
    data[-5] ^= 0x01
    victim.write_bytes(bytes(data))
    (inbox / "tmp" / "half").write_bytes(b"Subject: x\n")
    stored, unfinished = rc.maildir_messages(inbox)
    report = mailbox.truth.check(rc.without_tuid(raw) for raw in stored)
    assert not report.passed and len(report.changed) == 1 and unfinished == 1


def _as_fetchmail_writes(messages: list[bytes], local: str = "root") -> bytes:
    """A BSMTP file as fetchmail 6.4 writes one (--bsmtp, --invisible): the leading
    Return-Path moved to MAIL FROM (else the From address), the message dot-stuffed."""
    out = []
    for raw in messages:
        field = rc.return_path_field(raw)
        if field is not None:
            sender = re.search(rb"<([^>]*)>", field).group(1)
            raw = raw[len(field):]
        else:
            sender = re.search(rb"^From:.*<([^>]*)>", raw, re.M).group(1)
        stuffed = re.sub(rb"(?m)^\.", b"..", raw)
        out.append(b"MAIL FROM:<" + sender + b">\r\nRCPT TO:<" + local.encode() + b"@localhost>\r\nDATA\r\n"
                   + stuffed + b".\r\n")
    return b"".join(out)


def test_a_bsmtp_file_is_read_back_dot_stuffing_undone():
    data = (b"MAIL FROM:<a@example.org> BODY=8BITMIME\r\nRCPT TO:<root@localhost>\r\nDATA\r\n"
            b"Subject: one\r\n\r\n..\r\n..leading dot\r\nlast\r\n.\r\n"
            b"MAIL FROM:<>\r\nRCPT TO:<root@localhost>\r\nDATA\r\nSubject: two\r\n\r\nbody\r\n.\r\n")
    assert rc.bsmtp_messages(data) == [
        ("a@example.org", b"Subject: one\r\n\r\n.\r\n.leading dot\r\nlast\r\n"),
        ("", b"Subject: two\r\n\r\nbody\r\n"),
    ]
    with pytest.raises(ValueError, match="no MAIL FROM"):
        rc.bsmtp_messages(b"HELO x\r\n")
    with pytest.raises(ValueError, match="no end"):
        rc.bsmtp_messages(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n")


def test_fetchmail_s_bsmtp_passes_the_check_with_return_path_put_back_where_the_envelope_agrees():
    mailbox = rc.Mailbox(Account(2, "user2"))
    for raw in MESSAGES:
        mailbox.stored(raw)
    assert mailbox.return_paths, "the corpus has messages with a Return-Path"
    assert len(mailbox.return_paths) < len(MESSAGES), "and messages without one"
    records = rc.bsmtp_messages(_as_fetchmail_writes(MESSAGES))
    restored = [rc.with_return_path(sender, raw, mailbox.return_paths) for sender, raw in records]
    assert mailbox.truth.check(restored).passed

    # an envelope that does not carry the message's Return-Path leaves it off: the check fails
    sender, raw = next((s, r) for s, r in records if rc.message_id(r) in mailbox.return_paths)
    assert rc.with_return_path("someone.else@example.org", raw, mailbox.return_paths) == raw
    wrong = [rc.with_return_path("x@example.org" if r is raw else s, r, mailbox.return_paths) for s, r in records]
    report = mailbox.truth.check(wrong)
    assert not report.passed and len(report.changed) == 1


# --- the mailbox, the order ----------------------------------------------------------------


def test_a_download_that_kept_the_mailbox_passes_and_flags_the_server_set_are_counted():
    before = {1: (100, frozenset()), 2: (200, frozenset({"\\Flagged"})), 3: (300, frozenset())}
    after = {1: (100, frozenset({"\\Seen"})), 2: (200, frozenset({"\\Seen"})), 3: (300, frozenset({"\\Seen"}))}
    assert rc.compare_mailboxes(before, after) == {
        "kept": True, "messages": 3, "lost": 0, "added": 0,
        "flags_gained": {"\\Seen": 3}, "flags_lost": {"\\Flagged": 1}}


def test_a_lost_added_or_resized_message_means_the_mailbox_was_not_kept():
    before = {1: (100, frozenset()), 2: (200, frozenset())}
    assert rc.compare_mailboxes(before, {1: (100, frozenset())})["lost"] == 1
    assert rc.compare_mailboxes(before, {1: (100, frozenset()), 2: (201, frozenset())})["lost"] == 1
    changed = rc.compare_mailboxes(before, {**before, 3: (5, frozenset())})
    assert not changed["kept"] and changed["added"] == 1


def test_each_client_takes_each_place_in_the_order_once_every_four_rounds():
    orders = [rc.round_order(index) for index in range(len(rc.CLIENTS))]
    assert orders[0] == list(rc.CLIENTS)
    for place in range(len(rc.CLIENTS)):
        assert sorted(order[place] for order in orders) == sorted(rc.CLIENTS)
    assert rc.round_order(len(rc.CLIENTS)) == orders[0]


def test_a_client_that_asked_for_compress_is_told_from_its_first_bytes():
    assert rc.compressed(["1 LOGIN u p\r\n2 COMPRESS DEFLATE\r\n3 NAMESPACE\r\n"])
    assert not rc.compressed(["a1 LOGIN u p\r\na2 SELECT INBOX\r\n"])


# --- the table ----------------------------------------------------------------------------


def _run(client: str, seconds: float, passed: bool = True, **extra) -> dict:
    run = {"client": client, "protocol": rc.PROTOCOL[client], "seconds": seconds, "bytes_up": 200,
           "bytes_down": 17_400_000, "round_trips": 7, "connections": 1, "server_cpu_s": 0.1, "passed": passed}
    if not passed:
        run["error"] = "integrity FAILED: 300 checked, 0 missing, 1 changed, 0 unexpected"
    run.update(extra)
    return run


def _results() -> dict:
    rounds = []
    for index, (imap_s, pop_s) in enumerate(((0.50, 0.60), (0.40, 0.70), (0.45, 0.65))):
        rounds.append({"round": index + 1, "runs": [
            _run("mailbench-imap", imap_s),
            _run("mbsync", imap_s * 2, bytes_down=12_000_000, round_trips=80 + index % 2, compress_deflate=True),
            _run("mailbench-pop3", pop_s, round_trips=17),
            # fetchmail's fastest run lost a byte: it must not count
            _run("fetchmail", 0.01 if index == 0 else pop_s * 3, passed=index != 0, round_trips=603),
        ]})
    return {"kind": rc.RESULTS_KIND, "version": rc.RESULTS_VERSION, "command": "benchmarks/real_clients.py",
            "server": {"name": "dovecot", "version": "2.3.19"}, "messages": 300, "message_bytes": 17_300_000,
            "rounds_asked": 3, "load_average": {"start": 1.5, "end": 2.25},
            "environment": {"machine": {"cpus": 2}}, "finished_at": "2026-11-30T20:00:00+00:00", "clients": {"mbsync": {"version": "1.4.4"}, "fetchmail": {"version": "6.4.37"}},
            "rounds": rounds}


def test_the_summary_takes_medians_of_passed_runs_and_the_ratio_to_mailbench():
    rows = {row["client"]: row for row in rc.summary(_results())}
    assert rows["mailbench-imap"]["seconds"] == 0.45 and rows["mailbench-imap"]["ratio"] == 1.0
    assert rows["mbsync"]["seconds"] == pytest.approx(0.90) and rows["mbsync"]["ratio"] == pytest.approx(2.0)
    assert rows["mbsync"]["compress_deflate"] is True and rows["mbsync"]["round_trips"] == 80
    assert (rows["mbsync"]["round_trips_min"], rows["mbsync"]["round_trips_max"]) == (80, 81)
    fetchmail = rows["fetchmail"]
    assert (fetchmail["runs"], fetchmail["passed"]) == (3, 2)
    assert fetchmail["seconds"] == pytest.approx((0.70 * 3 + 0.65 * 3) / 2)
    assert fetchmail["seconds_min"] == pytest.approx(1.95)  # the failed 0.01 s is not there


def test_the_markdown_table_has_a_row_per_protocol_and_client():
    table = rc.markdown(_results())
    rows = [line for line in table.splitlines() if line.startswith("| IMAP") or line.startswith("| POP3")]
    assert rows[0] == "| IMAP | mailbench | 0.450 (0.400–0.500) | 1.00 | 17.40 | 0.2 | 7 | 1 | 0.10 | passed 3/3 |"
    assert rows[1] == ("| IMAP | mbsync 1.4.4 (COMPRESS) | 0.900 (0.800–1.000) | 2.00 | 12.00 | 0.2 | 80 (80–81) | 1 "
                       "| 0.10 | passed 3/3 |")
    assert rows[2].startswith("| POP3 | mailbench | 0.650 ")
    assert rows[3].startswith("| POP3 | fetchmail 6.4.37 | 2.025 (1.950–2.100) | 3.12 |")
    assert rows[3].endswith("| 603 | 1 | 0.10 | FAILED 1/3: integrity FAILED: 300 checked, 0 missing, 1 changed, "
                            "0 unexpected |")
    assert "dovecot 2.3.19, 300 messages (17.3 MB), 3 rounds" in table
    assert "(load average 1.50 at the start, 2.25 at the end, 2 CPUs)" in table


def test_an_interrupted_run_says_so_and_counts_the_rounds_it_holds():
    results = _results()
    del results["finished_at"]
    results["rounds"][-1]["runs"] = results["rounds"][-1]["runs"][:1]
    table = rc.markdown(results)
    assert "300 messages (17.3 MB), 3 rounds (the run was interrupted);" in table
    assert "| IMAP | mailbench | 0.450 (0.400–0.500) |" in table
    assert "| IMAP | mbsync 1.4.4 (COMPRESS) | 0.900 (0.800–1.000) |" in table
    results["rounds"] = results["rounds"][:1]
    results["rounds"][0]["runs"] = results["rounds"][0]["runs"][:1]
    table = rc.markdown(results)
    assert "3 rounds" not in table and ", 1 round (the run was interrupted);" in table
    assert "| POP3 | fetchmail 6.4.37 | not run | n/a | n/a | n/a | n/a | n/a | n/a | not run |" in table


def test_a_client_with_no_passed_run_shows_failed_not_a_time():
    results = _results()
    for round_ in results["rounds"]:
        for run in round_["runs"]:
            if run["client"] == "mbsync":
                run.update(passed=False, error="mbsync exited with 1: IMAP error")
    row = next(line for line in rc.markdown(results).splitlines() if "mbsync" in line)
    assert row.startswith("| IMAP | mbsync 1.4.4 | failed | n/a | n/a |")


def test_from_prints_the_table_of_a_results_file(tmp_path, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_results()))
    assert rc.main(["--from", str(path)]) == 0
    assert rc.markdown(_results()) in capsys.readouterr().out


def test_from_refuses_a_file_that_is_not_its_results_in_one_line(tmp_path, capsys):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"run_id": "x"}))
    assert rc.main(["--from", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is not a results file of benchmarks/real_clients.py" in error


# --- installing the clients ---------------------------------------------------------------


def test_nothing_is_installed_when_both_programs_are_there(monkeypatch):
    monkeypatch.setattr(rc.shutil, "which", lambda program: f"/usr/bin/{program}")
    said = []
    rc.ensure_clients(said.append)
    assert said == []


def test_without_root_a_missing_client_is_one_line_that_says_what_to_install(monkeypatch):
    monkeypatch.setattr(rc.shutil, "which", lambda program: None if program == "mbsync" else f"/usr/bin/{program}")
    monkeypatch.setattr(rc.os, "geteuid", lambda: 1000)
    with pytest.raises(UsageError) as raised:
        rc.ensure_clients(lambda line: None)
    message = str(raised.value)
    assert "\n" not in message
    assert message == "mbsync not found: install Debian's isync (apt-get install isync) and run again"


def test_the_forwarder_is_checked_against_mailbench_s_meter_run_by_run():
    results = _results()
    for round_ in results["rounds"]:
        for run in round_["runs"]:
            if run["client"].startswith("mailbench"):
                extra = 49 if run["protocol"] == "imap" else 0
                run["meter"] = {"bytes_up": run["bytes_up"], "round_trips": run["round_trips"],
                                "bytes_down": run["bytes_down"] - extra}
    results["rounds"][0]["runs"][0]["meter"]["round_trips"] -= 1
    assert rc.instrument_check(results) == (
        "The forwarder against mailbench's own meter, in 6 mailbench runs (forwarder minus meter): "
        "bytes up IMAP 0, POP3 0; round trips IMAP 0 to 1, POP3 0; bytes down IMAP 49, POP3 0.")
    assert rc.instrument_check({"rounds": []}) == "No mailbench run to check the forwarder against."


def test_the_mailbox_note_counts_runs_that_kept_it_and_the_flags_the_server_set():
    results = _results()
    for round_ in results["rounds"]:
        for run in round_["runs"]:
            gained = {"\\Seen": 300} if run["protocol"] == "pop3" else {}
            run["mailbox"] = {"kept": True, "flags_gained": gained}
    results["rounds"][1]["runs"][1]["mailbox"]["kept"] = False
    assert rc.mailbox_note(results) == (
        "The mailbox was kept (no message lost or added) in 11 of 12 runs; flags the server set during a "
        "download: mailbench-pop3 \\Seen on 300 messages a run; fetchmail \\Seen on 300 messages a run.")
