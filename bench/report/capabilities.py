"""The capabilities section: what each server advertised, as one matrix per protocol.

The lists come from the probe at the start of the run (``environment.servers[name]``),
or, for results without one, from what the cells' own sessions saw. Both are read after
login, so what a server announces only before login (STARTTLS, STLS, often USER and SASL)
is missing from them: whether TLS was offered is read from the server's set-up instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.modes import get_mode
from bench.protocols import PROTOCOLS
from bench.report.cells import tls_label
from bench.report.document import Block, BulletList, Code, Paragraph, Section, Strong, Table, Text, joined, text
from bench.results import CellResult, Results

# Capabilities every capability table lists, advertised or not, in this order; any other
# capability a server advertised follows, alphabetically.
IMAP_CAPABILITIES = (
    "IDLE", "CONDSTORE", "QRESYNC", "LITERAL+", "COMPRESS=DEFLATE", "MOVE", "UIDPLUS",
    "MULTIAPPEND", "BINARY", "SPECIAL-USE", "NOTIFY",
)
POP3_CAPABILITIES = (
    "PIPELINING", "UIDL", "TOP", "USER", "SASL", "RESP-CODES", "EXPIRE", "LOGIN-DELAY", "STLS",
)
# JMAP's are the capabilities of its session resource (URIs, case kept), with their limits.
JMAP_CAPABILITIES = (
    "urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission",
    "urn:ietf:params:jmap:vacationresponse", "urn:ietf:params:jmap:websocket",
)
# Often announced before login only: their absence from a list probed after login says nothing.
BEFORE_LOGIN = frozenset({"STARTTLS", "STLS", "USER", "SASL"})


def _capability_entries(items: Sequence[str]) -> dict[str, str]:
    """Capability name → its parameters: ``EXPIRE NEVER`` is ``EXPIRE`` with ``NEVER``. IMAP's
    and POP3's names are upper-cased; a URI (JMAP's) is kept as it is."""
    entries: dict[str, str] = {}
    for item in items:
        name, _, parameters = str(item).strip().partition(" ")
        name = name if ":" in name else name.upper()
        entries[name] = " ".join(filter(None, [entries.get(name, ""), parameters.strip()]))
    return entries


def _offered(results: Results, server: str, protocol: str) -> bool:
    """Whether the server offers the protocol, as the run's probe recorded (results written
    before servers said so: every server offered IMAP and POP3)."""
    protocols = results.environment.get("servers", {}).get(server, {}).get("protocols")
    return protocol in protocols if protocols is not None else protocol in ("imap", "pop3")


def _switched_off(results: Results, server: str, protocol: str) -> bool:
    """Whether the server could have served the protocol but the run left it off."""
    return protocol in results.environment.get("servers", {}).get(server, {}).get("switched_off", [])


def _implicit_tls_ports() -> str:
    """Where each protocol listens with implicit TLS, as its record says."""
    return ", ".join(f"{p.tls_service.upper()} on {p.tls_port}" for p in PROTOCOLS.values())


def _advertised(results: Results) -> dict[str, dict[str, dict[str, str]]]:
    """Per server and protocol, what the server advertised after login: from the probe at the
    start of the run, or else from what the cells' sessions saw."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for name, server in results.environment.get("servers", {}).items():
        for protocol, items in server.get("capabilities", {}).items():
            found.setdefault(name, {})[protocol] = _capability_entries(items)
    for cell in results.cells:
        protocol = get_mode(cell.mode).protocol.name
        if "capabilities" in cell.info and protocol not in found.get(cell.server, {}):
            found.setdefault(cell.server, {})[protocol] = _capability_entries(cell.info["capabilities"])
    return found


def _capability_table(results: Results, protocol: str, listed: Sequence[str],
                      advertised: dict[str, dict[str, dict[str, str]]], servers: list[str]) -> Table:
    env = results.environment.get("servers", {})
    others = sorted({name for s in servers for name in advertised.get(s, {}).get(protocol, {})} - set(listed))
    headers = ["capability"] + [
        f"{s} {env[s]['version']}" if env.get(s, {}).get("version") else s for s in servers
    ]
    rows = []
    for name in [*listed, *others]:
        row: list[Text] = [text(Code(name))]
        for server in servers:
            entries = advertised.get(server, {}).get(protocol)
            if entries is None:
                row.append(text("not probed" if _offered(results, server, protocol)
                                else "off in this run" if _switched_off(results, server, protocol) else "not offered"))
            elif name in entries:
                row.append(text(Strong("yes"), f" ({entries[name]})" if entries[name] else ""))
            else:
                row.append(text("not after login" if name in BEFORE_LOGIN else "no"))
        rows.append(tuple(row))
    label = PROTOCOLS[protocol].label
    caption = f"{label}: the first {len(listed)} rows are always listed; below them, everything else any server advertised"
    if any(not _offered(results, s, protocol) and not _switched_off(results, s, protocol) for s in servers):
        caption += f"; not offered: the server does not serve {label}"
    if any(_switched_off(results, s, protocol) for s in servers):
        caption += f"; off in this run: the server serves {label} only when a run asks for it"
    return Table(tuple(headers), tuple(rows), caption=caption)


def _session_differences(results: Results, advertised: dict[str, dict[str, dict[str, str]]]) -> list[Text]:
    """Cells whose own session saw another list than the probe, grouped by what differed."""
    groups: dict[tuple[str, str, str, str], list[CellResult]] = {}
    for cell in results.cells:
        protocol = get_mode(cell.mode).protocol.name
        probed = advertised.get(cell.server, {}).get(protocol)
        if probed is None or "capabilities" not in cell.info:
            continue
        seen = set(_capability_entries(cell.info["capabilities"]))
        added, missing = sorted(seen - set(probed)), sorted(set(probed) - seen)
        if added or missing:
            groups.setdefault((cell.server, protocol, " ".join(added), " ".join(missing)), []).append(cell)
    lines = []
    for (server, protocol, added, missing), cells in groups.items():
        settings = ", ".join(dict.fromkeys(tls_label(c.tls) for c in cells))
        parts: list[Any] = [f"{server} {protocol.upper()} sessions ({len(cells)} cells; {settings})"]
        if added:
            parts += [" also saw ", Code(added)]
        if missing:
            parts += [" did not see ", Code(missing)]
        lines.append(text(*parts, "."))
    return lines


def capabilities(results: Results) -> Section:
    advertised = _advertised(results)
    env = results.environment.get("servers", {})
    plan_servers = results.plan.get("servers", ())
    servers = [s for s in dict.fromkeys([*plan_servers, *env, *(c.server for c in results.cells)])
               if s in advertised or s in env]
    if not servers:
        return Section("Capabilities", [Paragraph(text("The results record no server capabilities."))])
    blocks: list[Block] = [Paragraph(text(
        "What each server advertised to a logged-in client (IMAP ", Code("CAPABILITY"), ", POP3 ", Code("CAPA"),
        ", JMAP the capabilities of its session resource), read from the live server at the start of the run. What a server announces only before login "
        "(", Code("STARTTLS"), ", ", Code("STLS"), ", and on some servers ", Code("USER"), ", ", Code("SASL"),
        " or ", Code("AUTH="), ") is not in these lists, so whether TLS was offered comes from the server's "
        "set-up instead."
    ))]
    offered = [f"{s} {'yes' if env[s]['tls'] else 'no'}"
               for s in servers if isinstance(env.get(s, {}).get("tls"), bool)]
    blocks.append(Paragraph(text(
        Strong("TLS offered"), f" ({_implicit_tls_ports()}, STARTTLS and STLS on the plain ports): ",
        ", ".join(offered) + "." if offered else "not recorded in these results.",
    )))
    for protocol, listed in (("imap", IMAP_CAPABILITIES), ("pop3", POP3_CAPABILITIES), ("jmap", JMAP_CAPABILITIES)):
        if any(protocol in advertised.get(s, {}) for s in servers):
            blocks.append(_capability_table(results, protocol, listed, advertised, servers))
    differences = _session_differences(results, advertised)
    if differences:
        blocks += [Paragraph(text("Some cells' own sessions saw another list than the probe:")),
                   BulletList(tuple(differences))]
    elif any("capabilities" in cell.info for cell in results.cells):
        blocks.append(Paragraph(text("Every cell's own session, with TLS or without, saw the same list as the probe.")))
    used = _used_table(results)
    if used is not None:
        blocks.append(used)
    return Section("Capabilities", blocks)


def _used_table(results: Results) -> Table | None:
    """Which optional capabilities the sessions of each server and mode actually used."""
    used: dict[tuple[str, str], set[str]] = {}
    for cell in results.cells:
        if "capabilities_used" in cell.info:
            used.setdefault((cell.server, cell.mode), set()).update(cell.info["capabilities_used"])
    if not used:
        return None
    rows = tuple(
        (text(server), text(mode), text(*joined([Code(name) for name in sorted(names)])) if names else text("none"))
        for (server, mode), names in used.items()
    )
    return Table(("server", "mode", "capabilities used"), rows,
                 caption="What the measured sessions used of what the server offered, over all their cells")

