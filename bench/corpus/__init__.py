"""The corpus: the messages a run delivers and the truth every check compares against.

- ``canonical`` / ``header_block``: the form messages are delivered and compared in.
- ``generate_messages``: seeded, realistic messages with measured sizes (``sizes``).
- ``open_mailbox`` / ``load_messages``: a user's own mbox, Maildir or .eml, checked.
- ``Truth``: digests of what was delivered; ``check`` and ``checker`` give an
  ``IntegrityReport``.
"""

from bench.corpus.canonical import canonical, header_block, message_id
from bench.corpus.generate import generate_message, generate_messages
from bench.corpus.importer import MailboxSource, load_messages, open_mailbox
from bench.corpus.sizes import DEFAULT_MAX_BYTES, MESSAGE_SIZES, SizeDistribution
from bench.corpus.truth import Entry, IntegrityReport, Part, Truth, TruthChecker

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MESSAGE_SIZES",
    "Entry",
    "IntegrityReport",
    "MailboxSource",
    "Part",
    "SizeDistribution",
    "Truth",
    "TruthChecker",
    "canonical",
    "generate_message",
    "generate_messages",
    "header_block",
    "load_messages",
    "message_id",
    "open_mailbox",
]
