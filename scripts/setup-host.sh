#!/usr/bin/env bash
# Make this machine ready for mailbench: Docker running, debootstrap for the base image,
# and a virtual environment in .venv with mailbench installed. Safe to run again: each
# step is skipped when already done. Output goes to stderr; nothing here talks to any
# address but the package registries and the local Docker daemon.
#   --with-browser  also Debian's chromium (a few hundred MB), which only the report's
#                   browser test uses: ./run-tests passes it, ./run-comparison does not.
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=no
for arg in "$@"; do
    case "$arg" in
        --with-browser) with_browser=yes ;;
        *) printf 'setup: unknown option %s (known: --with-browser)\n' "$arg" >&2; exit 2 ;;
    esac
done

say() { printf 'setup: %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }
apt_ready=no
apt_install() {
    if [ "$apt_ready" = no ]; then
        apt-get update -qq >&2
        apt_ready=yes
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
can_apt() { is_root && have apt-get; }

# Docker: the daemon from Debian's docker.io, started by hand where there is no systemd.
if ! have dockerd; then
    if can_apt; then
        say "Docker is missing: installing Debian's docker.io"
        apt_install docker.io
    else
        say "Docker is missing. Install it (Debian/Ubuntu, as root: apt-get install docker.io; elsewhere see https://docs.docker.com/engine/install/) and run this again."
        exit 1
    fi
fi
if ! docker info >/dev/null 2>&1; then
    if is_root; then
        say "Docker daemon not running: starting dockerd (log: /var/log/mailbench-dockerd.log)"
        # Detached, stdin closed and output to a file, so it never holds a terminal or a CI log open.
        setsid nohup dockerd >/var/log/mailbench-dockerd.log 2>&1 </dev/null &
        for _ in $(seq 1 60); do
            docker info >/dev/null 2>&1 && break
            sleep 0.5
        done
    fi
    if ! docker info >/dev/null 2>&1; then
        say "cannot reach the Docker daemon: start it (systemctl start docker, or dockerd as root) and run this again"
        exit 1
    fi
fi

# debootstrap builds the base image where no registry answers (Docker Hub is unreachable here).
if ! have debootstrap && can_apt; then
    say "installing debootstrap (builds the Debian base image when no registry answers)"
    apt_install debootstrap
fi

# chromium: the browser the report test opens report.html in (Playwright drives it; it never downloads one).
if [ "$with_browser" = yes ] && ! have chromium && can_apt; then
    say "installing Debian's chromium (the report test opens report.html in it, headless)"
    apt_install chromium
fi

# Python: a virtual environment with mailbench and its test tools.
if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv --help >/dev/null 2>&1 && can_apt; then
        apt_install python3-venv
    fi
    say "creating .venv"
    python3 -m venv .venv
fi
stamp=.venv/.mailbench-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing mailbench into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >&2
    .venv/bin/python -m pip install -q -e '.[test]' >&2
    touch "$stamp"
fi
