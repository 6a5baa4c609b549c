"""The Docker-free parts of bench.servers.images: finding a Debian mirror, the image key."""

from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.servers import SERVERS, contexts, images

DEB822 = """\
# Modernized from /etc/apt/sources.list
Types: deb-src
URIs: http://src.example.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://ftp.de.debian.org/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
"""

SOURCES_LIST = """\
# deb cdrom:[Debian GNU/Linux 12]/ bookworm main
deb http://security.debian.org/debian-security bookworm-security main
deb-src http://src.example.org/debian bookworm main
deb [ arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg ] http://mirror.example.net/debian/ bookworm main contrib
deb http://deb.debian.org/debian bookworm-updates main
"""


def test_deb822_takes_the_first_enabled_release_mirror():
    assert images.mirror_from_deb822(DEB822) == "http://ftp.de.debian.org/debian"


def test_deb822_skips_disabled_stanzas_and_joins_continuation_lines():
    text = (
        "Types: deb\nURIs: http://off.example.org/debian\nSuites: bookworm\nEnabled: no\n\n"
        "Types: deb\nURIs:\n http://on.example.org/debian\nSuites: bookworm\n"
    )
    assert images.mirror_from_deb822(text) == "http://on.example.org/debian"


def test_deb822_without_a_debian_release_gives_none():
    ubuntu = "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu/\nSuites: jammy jammy-updates\n"
    assert images.mirror_from_deb822(ubuntu) is None
    assert images.mirror_from_deb822("") is None


def test_sources_list_skips_security_src_and_options():
    assert images.mirror_from_sources_list(SOURCES_LIST) == "http://mirror.example.net/debian"


def test_sources_list_with_compact_options():
    line = "deb [arch=amd64] https://mirror.example.net/debian bookworm main\n"
    assert images.mirror_from_sources_list(line) == "https://mirror.example.net/debian"


def test_debian_mirror_reads_sources_in_order(tmp_path: Path):
    deb822 = tmp_path / "debian.sources"
    listing = tmp_path / "sources.list"
    listing.write_text(SOURCES_LIST)
    missing = tmp_path / "absent.sources"
    assert images.debian_mirror({}, [missing, deb822, listing]) == "http://mirror.example.net/debian"
    deb822.write_text(DEB822)
    assert images.debian_mirror({}, [missing, deb822, listing]) == "http://ftp.de.debian.org/debian"


def test_debian_mirror_env_overrides_and_default_falls_back(tmp_path: Path):
    env = {images.MIRROR_ENV: "http://cache.local:3142/debian/"}
    assert images.debian_mirror(env, []) == "http://cache.local:3142/debian"
    assert images.debian_mirror({}, [tmp_path / "none.list"]) == images.DEFAULT_MIRROR


@pytest.fixture
def server_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "dovecot"
    (folder / "conf").mkdir(parents=True)
    (folder / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\n")
    (folder / "conf" / "dovecot.conf").write_text("protocols = imap pop3\n")
    return folder


def test_image_key_is_stable(server_dir: Path):
    key = images.image_key(server_dir, "sha256:base1")
    assert key == images.image_key(server_dir, "sha256:base1")
    assert len(key) == 12


def test_image_key_changes_with_a_file(server_dir: Path):
    before = images.image_key(server_dir, "sha256:base1")
    (server_dir / "conf" / "dovecot.conf").write_text("protocols = imap\n")
    assert images.image_key(server_dir, "sha256:base1") != before


def test_image_key_changes_with_a_new_or_renamed_file(server_dir: Path):
    before = images.image_key(server_dir, "sha256:base1")
    (server_dir / "conf" / "dovecot.conf").rename(server_dir / "dovecot.conf")
    renamed = images.image_key(server_dir, "sha256:base1")
    (server_dir / "entrypoint.sh").write_text("")
    added = images.image_key(server_dir, "sha256:base1")
    assert len({before, renamed, added}) == 3


def test_image_key_changes_with_the_base(server_dir: Path):
    assert images.image_key(server_dir, "sha256:base1") != images.image_key(server_dir, "sha256:base2")


def test_docker_dir_finds_dovecot_and_refuses_unknown_servers():
    assert (contexts.docker_dir("dovecot") / "Dockerfile").is_file()
    with pytest.raises(UsageError, match="no-such-server"):
        contexts.docker_dir("no-such-server")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_package_reads_the_checkouts_docker_folder():
    """In a checkout, bench/servers/docker is the top-level docker/ folder people edit."""
    checkout = Path(__file__).resolve().parents[2]
    assert Path(str(contexts.DOCKER_FOLDERS)).resolve() == checkout / "docker"


@pytest.fixture
def docker_root(server_dir: Path) -> Path:
    """A docker/ folder: the server's folder beside the shared common/."""
    common = server_dir.parent / contexts.COMMON
    common.mkdir()
    (common / "start.sh").write_text("check() { :; }\n")
    return server_dir.parent


def test_a_context_holds_the_servers_folder_and_the_common_part(tmp_path: Path, docker_root: Path):
    context = contexts.assemble("dovecot", tmp_path / "context", root=docker_root)
    expected = _files(docker_root / "dovecot") | {f"common/{name}": data for name, data in _files(docker_root / "common").items()}
    assert _files(context) == expected


def test_the_image_key_covers_the_common_part(tmp_path: Path, docker_root: Path):
    before = images.image_key(contexts.assemble("dovecot", tmp_path / "before", root=docker_root), "sha256:base1")
    (docker_root / "common" / "start.sh").write_text("check() { exit 2; }\n")
    after = images.image_key(contexts.assemble("dovecot", tmp_path / "after", root=docker_root), "sha256:base1")
    assert before != after


def test_a_servers_own_common_entry_is_refused(tmp_path: Path, docker_root: Path):
    (docker_root / "dovecot" / "common").write_text("")
    with pytest.raises(UsageError, match="dovecot/common"):
        contexts.assemble("dovecot", tmp_path / "context", root=docker_root)


def test_a_server_without_a_dockerfile_has_no_context(tmp_path: Path, docker_root: Path):
    (docker_root / "half").mkdir()
    with pytest.raises(UsageError, match="half"):
        contexts.assemble("half", tmp_path / "context", root=docker_root)


@pytest.mark.parametrize("server", list(SERVERS))
def test_every_image_installs_and_sources_the_common_start_up_code(tmp_path: Path, server: str):
    context = contexts.assemble(server, tmp_path / server)
    assert (context / "common" / "mailbench-common.sh").is_file()
    assert "COPY common/mailbench-common.sh /usr/local/lib/mailbench/mailbench-common.sh\n" in (context / "Dockerfile").read_text()
    assert "\n. /usr/local/lib/mailbench/mailbench-common.sh\n" in (context / "entrypoint.sh").read_text()


class _NoImages:
    """Just enough of a DockerClient for the paths that end before Docker does anything."""

    class images:
        @staticmethod
        def get(ref):
            from docker.errors import ImageNotFound

            raise ImageNotFound(ref)


def test_missing_debootstrap_is_a_usage_error(monkeypatch):
    monkeypatch.setattr(images.shutil, "which", lambda *args, **kwargs: None)
    said = []
    with pytest.raises(UsageError, match="apt-get install debootstrap"):
        images.ensure_base_image(_NoImages(), said.append, prefer_pull=False)
    assert len(said) == 1 and "debootstrap" in said[0]
