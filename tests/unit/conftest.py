"""Fixtures of the unit tests."""

from __future__ import annotations

import pytest

from tests.unit.scripted_peer import ScriptedPeer


@pytest.fixture()
def peer_of():
    peers = []

    def make(*scripts):
        peers.append(ScriptedPeer(*scripts))
        return peers[-1]

    yield make
    for peer in peers:
        peer.close()
