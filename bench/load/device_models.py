"""How each mode's device keeps up with new mail in many-devices, as the harness must know it.

The Locust users (``bench.load.locustfile``) do the work; the harness cannot import them
(gevent would patch it), yet it must name the user class to start, tell from the records
when a device had logged in (the injector sends mail only to accounts whose device did),
and say in the results how the devices waited. Those facts are declared here, once per
mode, so that no part of the harness asks which protocol it runs:

- ``user_class``: the Locust user of the mode (``USER_CLASSES`` in the locustfile);
- ``logged_in``: the first command a device's records hold without an error only once the
  server accepted its login: IMAP ``LOGIN``, POP3 ``PASS``; for JMAP ``Mailbox/get``, its
  first API request, not ``session``: Cyrus answers the well-known session URL's redirect
  with ``301`` whatever the password, so a ``session`` record without an error does not
  prove a login;
- ``pushed_with``: how the device waits where the server pushes news (IMAP IDLE, JMAP's
  EventSource); None
  where this client has no push for the mode, and ``no_push`` says why;
- ``polls_with``: what the device does every polling interval where nothing is pushed.

Pure: no Locust, no Docker.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceModel:
    """One mode's device, as the harness sees it; see the module's docstring."""

    user_class: str
    logged_in: str
    polls_with: str
    pushed_with: str | None = None
    no_push: str = ""

    def waits_with(self, pushed: bool) -> str:
        """How the devices of a level waited for new mail, in words for the results."""
        return self.pushed_with if pushed and self.pushed_with else self.polls_with


DEVICE_MODELS: dict[str, DeviceModel] = {
    "imap": DeviceModel("ImapUser", "LOGIN", polls_with="NOOP polling", pushed_with="IDLE"),
    "pop3-keep": DeviceModel("Pop3KeepUser", "PASS", polls_with="POP3 polling",
                             no_push="POP3 has no push: the device polls"),
    "pop3-delete": DeviceModel("Pop3DeleteUser", "PASS", polls_with="POP3 polling",
                               no_push="POP3 has no push: the device polls"),
    # The poll is the query: Email/changes since the device's state string, with the gets of
    # what changed in the same request; no keep-alive command in between. Pushed: the
    # session's event stream, on a second connection.
    "jmap": DeviceModel("JmapUser", "Mailbox/get", polls_with="Email/changes polling", pushed_with="EventSource"),
}


def device_model(mode: str) -> DeviceModel:
    try:
        return DEVICE_MODELS[mode]
    except KeyError:
        raise KeyError(f"no many-devices user for mode {mode!r}; known: {', '.join(DEVICE_MODELS)}") from None
