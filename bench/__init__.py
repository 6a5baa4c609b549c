"""mailbench: IMAP against POP3, measured on real servers in containers."""

__version__ = "0.1.0"
