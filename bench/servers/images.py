"""Docker images for the mail servers: one Debian base, then one image per server.

Docker Hub is often out of reach where mailbench runs, so the base image does not depend
on it: a local copy is used when there is one, a pull is tried briefly, and otherwise
the base is made from a Debian mirror with debootstrap. Server images are built from a
context that bench.servers.contexts assembles (the server's Docker folder and the start-up
code every image shares) and tagged with a hash of that context and of the base, so an
unchanged server is never rebuilt and a changed one always is.

The pure parts (finding a mirror in apt's sources, the image key) need no Docker, so unit
tests call them directly.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping
from urllib.parse import urlparse

import docker
from docker.errors import BuildError, ImageNotFound

from bench.errors import MailbenchError, UsageError
from bench.servers.contexts import assemble

BASE_IMAGE_TAG = "mailbench/base:bookworm"
UPSTREAM_BASE = "debian:bookworm-slim"
DEBIAN_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
MIRROR_ENV = "MAILBENCH_DEBIAN_MIRROR"
APT_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))
PULL_TIMEOUT_S = 20.0
# Images carry their own label: a container inherits its image's labels, and ``mailbench``
# on a container means "started by a run, remove me at the end" (build steps are not).
LABELS = {"mailbench.image": "1"}
BUILD_LOG_TAIL_LINES = 20
# What a build of a named stage costs the first time, for the line that announces it.
STAGE_BUILD_TIMES = {"jmap-push": "first time: about 2 minutes, Cyrus's httpd is compiled"}


@dataclass(frozen=True)
class BaseImage:
    """The base every server image is built on; ``source`` says how it got here."""

    ref: str
    source: str  # "pulled", "bootstrapped", or "cached, <how it was first made>"


# --- finding a Debian mirror (pure) -------------------------------------------------


def _is_debian_archive(uri: str) -> bool:
    """A Debian archive has a ``debian`` path segment (not ``debian-security``, not Ubuntu)."""
    parsed = urlparse(uri)
    return parsed.scheme in ("http", "https", "file") and "debian" in parsed.path.split("/")


def _has_release_suite(suites: Iterable[str]) -> bool:
    """True when a suite is a release itself ("bookworm"), not "-updates" or "-security"."""
    return any(suite and "-" not in suite and "/" not in suite for suite in suites)


def mirror_from_deb822(text: str) -> str | None:
    """The first enabled ``deb`` mirror of the Debian archive in a deb822 ``.sources`` text."""
    for stanza in _deb822_stanzas(text):
        if "deb" not in stanza.get("types", "").split():
            continue
        if stanza.get("enabled", "yes").strip().lower() == "no":
            continue
        if not _has_release_suite(stanza.get("suites", "").split()):
            continue
        for uri in stanza.get("uris", "").split():
            if _is_debian_archive(uri):
                return uri.rstrip("/")
    return None


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    """Stanzas as lower-cased field name -> value; continuation lines are joined."""
    stanzas: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    name = None
    for line in text.splitlines():
        if not line.strip():
            if fields:
                stanzas.append(fields)
            fields, name = {}, None
        elif line.lstrip().startswith("#"):
            continue
        elif line[0] in " \t" and name:
            fields[name] += " " + line.strip()
        elif ":" in line:
            name, value = line.split(":", 1)
            name = name.strip().lower()
            fields[name] = value.strip()
    if fields:
        stanzas.append(fields)
    return stanzas


def mirror_from_sources_list(text: str) -> str | None:
    """The first ``deb`` mirror of the Debian archive in a one-line-style ``sources.list``."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        rest = words[1:]
        if rest and rest[0].startswith("["):  # options: "[arch=amd64]" or "[ a=b c=d ]"
            while rest and not rest[0].endswith("]"):
                rest.pop(0)
            rest = rest[1:]
        if len(rest) >= 2 and _is_debian_archive(rest[0]) and _has_release_suite(rest[1:2]):
            return rest[0].rstrip("/")
    return None


def debian_mirror(env: Mapping[str, str] = os.environ, sources: Iterable[Path] = APT_SOURCES) -> str:
    """The mirror to bootstrap from: $MAILBENCH_DEBIAN_MIRROR, else the host's apt sources
    (the mirror it already reaches, perhaps through a local cache), else deb.debian.org."""
    if env.get(MIRROR_ENV):
        return env[MIRROR_ENV].rstrip("/")
    for path in sources:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        parse = mirror_from_deb822 if path.suffix == ".sources" else mirror_from_sources_list
        mirror = parse(text)
        if mirror:
            return mirror
    return DEFAULT_MIRROR


# --- the server image key (pure) ----------------------------------------------------


def image_key(folder: Path, base_id: str) -> str:
    """A short hash of every file in ``folder`` (names and contents) and of the base image's
    id: the tag of a server image, so that a change to either means a new build."""
    digest = hashlib.sha256(base_id.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        digest.update(f"\0{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:12]


# --- Docker -------------------------------------------------------------------------


def _local_image(client: docker.DockerClient, ref: str):
    try:
        return client.images.get(ref)
    except ImageNotFound:
        return None


def _pull_quickly(client: docker.DockerClient, ref: str, timeout_s: float) -> bool:
    """Pull ``ref``, giving up after ``timeout_s``: the SDK's pull has no timeout of its own,
    and a registry that does not answer must not hold up a run."""
    pulled = threading.Event()

    def pull() -> None:
        try:
            client.images.pull(ref)
            pulled.set()
        except Exception:  # any failure just means "bootstrap instead"
            pass

    worker = threading.Thread(target=pull, name="mailbench-pull", daemon=True)
    worker.start()
    worker.join(timeout_s)
    return pulled.is_set()


def _origin(image) -> str:
    """How a local base image came to be: a pulled image has a registry digest, an
    imported (bootstrapped) one has none."""
    return "pulled" if image.attrs.get("RepoDigests") else "bootstrapped"


def describe_base_path(client: docker.DockerClient) -> str:
    """One line for `mailbench doctor`: which way the next run gets its base image."""
    for ref in (BASE_IMAGE_TAG, UPSTREAM_BASE):
        image = _local_image(client, ref)
        if image is not None:
            return f"{ref} present locally ({_origin(image)}); runs use it as it is"
    tool = "available" if shutil.which("debootstrap", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") else "MISSING (apt-get install debootstrap)"
    return f"not built yet: the first run pulls {UPSTREAM_BASE}, or bootstraps it with debootstrap ({tool})"


def ensure_base_image(
    client: docker.DockerClient, say: Callable[[str], None] = print, *, prefer_pull: bool = True
) -> BaseImage:
    """Make sure ``mailbench/base:bookworm`` exists: reuse, else pull, else debootstrap."""
    for ref in (BASE_IMAGE_TAG, UPSTREAM_BASE):
        image = _local_image(client, ref)
        if image is not None:
            if ref != BASE_IMAGE_TAG:
                image.tag(BASE_IMAGE_TAG)
            origin = _origin(image)
            say(f"base image: using {ref} found locally ({origin})")
            return BaseImage(BASE_IMAGE_TAG, f"cached, {origin}")
    if prefer_pull and _pull_quickly(client, UPSTREAM_BASE, PULL_TIMEOUT_S):
        client.images.get(UPSTREAM_BASE).tag(BASE_IMAGE_TAG)
        say(f"base image: pulled {UPSTREAM_BASE}")
        return BaseImage(BASE_IMAGE_TAG, "pulled")
    mirror = debian_mirror()
    why = "no registry answered" if prefer_pull else "pull not wanted"
    say(f"base image: {why}; bootstrapping debian {DEBIAN_SUITE} from {mirror} with debootstrap (about 30 s)")
    _bootstrap(client, mirror)
    return BaseImage(BASE_IMAGE_TAG, "bootstrapped")


def _bootstrap(client: docker.DockerClient, mirror: str) -> None:
    """debootstrap a minimal Debian, strip apt's caches and import it as the base image."""
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if debootstrap is None:
        raise UsageError("debootstrap is missing and no registry answered: run `apt-get install debootstrap`")
    if os.geteuid() != 0:
        raise UsageError("making the base image with debootstrap needs root: run mailbench as root once")
    tmp = Path(tempfile.mkdtemp(prefix="mailbench-rootfs-"))
    rootfs = tmp / "rootfs"
    try:
        done = subprocess.run(
            [debootstrap, "--variant=minbase", DEBIAN_SUITE, str(rootfs), mirror],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-BUILD_LOG_TAIL_LINES:])
            raise MailbenchError(f"debootstrap from {mirror} failed (exit {done.returncode}):\n{tail}")
        _clean_apt(rootfs)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        try:
            repository, tag = BASE_IMAGE_TAG.split(":")
            client.api.import_image(
                src=tar.stdout, repository=repository, tag=tag,
                changes=["LABEL mailbench.image=1", 'CMD ["bash"]'], stream_src=True,
            )
        finally:
            tar.stdout.close()
            if tar.wait() != 0:
                raise MailbenchError(f"tar of the bootstrapped rootfs failed (exit {tar.returncode})")
    finally:
        _remove_rootfs(tmp)


def _clean_apt(rootfs: Path) -> None:
    """Drop downloaded packages and package lists: about 100 MB in every image otherwise."""
    for folder in (rootfs / "var/cache/apt/archives", rootfs / "var/lib/apt/lists"):
        for entry in folder.glob("*"):
            if entry.is_file() or entry.is_symlink():
                entry.unlink()
    for cache in (rootfs / "var/cache/apt").glob("*.bin"):
        cache.unlink()


def _remove_rootfs(tmp: Path) -> None:
    """Remove the temporary rootfs, but never through a mount debootstrap left behind
    (a bind-mounted /dev would take the host's device nodes with it)."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(f"{tmp}/")), reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True)
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    if any(m.startswith(f"{tmp}/") for m in mounts):
        raise MailbenchError(f"{tmp} still has mounts inside; unmount them, then remove it by hand")
    shutil.rmtree(tmp, ignore_errors=True)


def ensure_server_image(
    client: docker.DockerClient, server: str, base: BaseImage, say: Callable[[str], None] = print,
    stage: str | None = None,
) -> str:
    """Build the context of ``server`` (bench.servers.contexts) on ``base`` unless an image
    with the same key exists; return its tag ``mailbench/<server>:<key>``, or, for a named
    build ``stage`` of its Dockerfile (``MailServer.image_stage``), ``<key>-<stage>``; without
    one, the stage of the server with nothing switched on."""
    from bench.servers import get_server  # bench.servers does not import this module

    stage = stage or get_server(server).image_stage
    base_id = client.images.get(base.ref).id
    with tempfile.TemporaryDirectory(prefix=f"mailbench-{server}-context-") as tmp:
        context = assemble(server, Path(tmp))
        key = image_key(context, base_id)
        tag = f"mailbench/{server}:{key}" + (f"-{stage}" if stage else "")
        if _local_image(client, tag) is not None:
            return tag
        say(f"building image {tag} ({STAGE_BUILD_TIMES.get(stage or '', 'first time: about a minute')})")
        try:
            client.images.build(
                path=str(context), tag=tag, target=stage, labels=LABELS, network_mode="host", rm=True, forcerm=True,
                buildargs={"BASE": base.ref, "DEBIAN_MIRROR": debian_mirror()},
            )
        except BuildError as error:
            lines = "".join(chunk.get("stream", "") + chunk.get("error", "") for chunk in error.build_log)
            tail = "\n".join(lines.splitlines()[-BUILD_LOG_TAIL_LINES:])
            raise MailbenchError(f"building {tag} failed: {error.msg}\n{tail}") from error
    return tag
