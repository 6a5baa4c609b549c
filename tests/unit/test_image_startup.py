"""The start-up code every server image shares (docker/common/mailbench-common.sh), run by
the host's shells: its checks of the image contract's settings, their messages and exit
codes, as the entrypoints had them each before. /bin/sh is Dovecot's and Cyrus's shell,
bash Courier's."""

import subprocess
from pathlib import Path

import pytest

COMMON = Path(__file__).resolve().parents[2] / "docker" / "common" / "mailbench-common.sh"
SHELLS = ["sh", "bash"]


def _start(shell: str, tls: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """What an entrypoint does with the shared code: source it, read the users, find the TLS
    files (in ``tls`` here), say what it found, then print the settings it read."""
    script = (f'set -eu\n. "{COMMON}"\ntls="{tls}"\n'
              'mailbench_read_users\nmailbench_find_tls\nmailbench_say_tls\n'
              'echo "users=$users password=$password tls_on=$tls_on"\n')
    return subprocess.run([shell, "-c", script], env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("shell", SHELLS)
def test_defaults_and_no_certificate(shell, tmp_path):
    done = _start(shell, tmp_path, {})
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines() == [f"mailbench: no certificate in {tmp_path}, TLS off",
                                        "users=4 password=mailbench tls_on=0"]


@pytest.mark.parametrize("shell", SHELLS)
def test_settings_and_a_certificate_with_its_key(shell, tmp_path):
    (tmp_path / "server.crt").write_text("")
    (tmp_path / "server.key").write_text("")
    done = _start(shell, tmp_path, {"MAILBENCH_USERS": "300", "MAILBENCH_PASSWORD": "secret"})
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines() == [
        f"mailbench: TLS on 993 and 995, STARTTLS/STLS on 143 and 110, with {tmp_path}/server.crt",
        "users=300 password=secret tls_on=1"]


WRONG = [
    ({"MAILBENCH_USERS": "four"}, "mailbench: MAILBENCH_USERS must be a positive number, not 'four'"),
    ({"MAILBENCH_USERS": "-1"}, "mailbench: MAILBENCH_USERS must be a positive number, not '-1'"),
    ({"MAILBENCH_USERS": "0"}, "mailbench: MAILBENCH_USERS must be at least 1"),
    ({"MAILBENCH_PASSWORD": "a:b"}, "mailbench: MAILBENCH_PASSWORD must be non-empty and without ':'"),
]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("env, message", WRONG)
def test_a_wrong_setting_stops_with_one_line_and_exit_2(shell, tmp_path, env, message):
    done = _start(shell, tmp_path, env)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", message + "\n")


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("present", ["server.crt", "server.key"])
def test_a_certificate_without_its_key_or_the_reverse_stops_with_exit_2(shell, tmp_path, present):
    (tmp_path / present).write_text("")
    done = _start(shell, tmp_path, {})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"mailbench: {tmp_path} must hold both server.crt and server.key, or neither\n"
