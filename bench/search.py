"""The search a device runs: which messages' Subject contains a term.

IMAP asks the server (``UID SEARCH SUBJECT <term>``, ``MailAccess.search``); POP3 has no
search, so its client downloads every message and looks itself (``subject_contains``).
Both answer the question as RFC 3501 (section 6.4.4) puts it: the Subject header field,
decoded from RFC 2047 encoded words and unfolded, contains the term as a substring, case
not considered. The same function computes, from the corpus alone, the set a server's
answer must equal.

Servers go beyond RFC 3501 in places, each its own way: Dovecot and Cyrus find "cafe" in
"Café", Cyrus also "munchen" in "München", Cyrus and Courier take two spaces in a term for
one. A single word of ASCII letters is answered alike by Dovecot, Cyrus and Courier, in
any case and inside RFC 2047 encoded words (tests/integration/test_bulk_fetch.py checks
it on each server): bulk-fetch's ``search`` variant uses ``SEARCH_TERM``.
"""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import default as _DEFAULT_POLICY

from bench.corpus.canonical import header_block

# The generated corpus (bench/corpus/generate.py) puts a weekday, one of five, into three
# of its ten ASCII subjects and two of its seven UTF-8 ones, which are RFC 2047 encoded
# ("Café menu for Friday ☕"): about 6% of messages (0.85 × 3/10 × 1/5 + 0.15 × 2/7 × 1/5,
# 15% of messages being UTF-8). Lower-case, where the subjects have "Friday", so that a
# server comparing case would find nothing and fail the check.
SEARCH_TERM = "friday"

_PARSER = BytesHeaderParser(policy=_DEFAULT_POLICY)


def subjects(raw: bytes) -> list[str]:
    """The message's Subject fields, decoded (RFC 2047) and unfolded; none, ``[]``. Only
    the header section is parsed."""
    headers = _PARSER.parsebytes(header_block(raw))
    return [str(value) for value in headers.get_all("Subject", [])]


def subject_contains(raw: bytes, term: str) -> bool:
    """True when a Subject field of ``raw`` contains ``term``, case not considered (what
    IMAP ``SEARCH SUBJECT`` answers)."""
    wanted = term.casefold()
    if not wanted:
        raise ValueError("the search term is empty")
    return any(wanted in subject.casefold() for subject in subjects(raw))
