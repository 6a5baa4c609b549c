"""The protocol/modes a cell can run in, and what each means for a device.

A mode is a protocol plus the client policy people actually choose between:

- ``imap``: mail stays on the server; the device mirrors it.
- ``pop3-keep``: POP3 with "leave a copy on the server"; the device remembers UIDLs.
- ``pop3-delete``: POP3 download-then-delete, the protocol's classic use.
- ``jmap``: JMAP (RFC 8620, RFC 8621) over HTTP: mail stays on the server, as with IMAP.

A plan that names no ``--mode`` runs the modes marked ``in_default_plan``: JMAP is offered
by one server of three (Cyrus, with its JMAP switched on in a container of its own:
``bench.runner``), so it runs where a run asks for it (``--mode jmap``).

Scenarios never branch on the protocol: they read these facts, and the protocol's own
(``bench.protocols``), instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.errors import UsageError
from bench.protocols import IMAP, JMAP, POP3, Protocol


@dataclass(frozen=True)
class Mode:
    name: str
    protocol: Protocol
    delete_after_fetch: bool
    description: str
    in_default_plan: bool = True


MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode("imap", IMAP, False, "IMAP: mail stays on the server, devices mirror it"),
        Mode("pop3-keep", POP3, False, "POP3, leave mail on the server (UIDL tracks what is new)"),
        Mode("pop3-delete", POP3, True, "POP3, download then delete from the server"),
        Mode("jmap", JMAP, False, "JMAP over HTTP: mail stays on the server, devices mirror it (Cyrus only)",
             in_default_plan=False),
    )
}
# The modes a plan runs when the run names none.
DEFAULT_MODES: tuple[str, ...] = tuple(name for name, mode in MODES.items() if mode.in_default_plan)


def get_mode(name: str) -> Mode:
    try:
        return MODES[name]
    except KeyError:
        raise UsageError(f"unknown mode {name!r}; choose from {', '.join(MODES)}") from None
