"""The device model: client devices, the timelines they play, and the truths they are judged by.

- ``device``: a device's local store and its mode's sync policy (``Device`` for one
  download, ``SyncDevice`` for a mailbox kept over time, offline queue included);
- ``timeline``: seeded timelines of deliveries, user actions and sessions, and the action
  vocabulary they share;
- ``playback``: plays a timeline against a real server with real devices, checking every
  device after every round;
- ``sync_truth``: the oracle, the intended mailbox and what each protocol lets a device
  know, computed from the timeline and the protocols' declared facts alone, never from the
  device code it judges.
"""
