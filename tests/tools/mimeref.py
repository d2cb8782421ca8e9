#!/usr/bin/env python3
"""The MIME parts of a message as Python's email package sees them: an
independent reference for mailsift's parts table.

usage: mimeref.py MESSAGE.eml
prints one line per part, IMAP-numbered (RFC 3501 6.4.5):
    PATH|CONTENT-TYPE|FILENAME|SHA256 of the decoded bytes
"""
import email
import email.policy
import hashlib
import sys


def walk(part, path):
    if part.is_multipart():
        for i, sub in enumerate(part.get_payload(), 1):
            yield from walk(sub, "%s.%d" % (path, i) if path else str(i))
        return
    data = part.get_payload(decode=True) or b""
    yield (path or "1", part.get_content_type(), part.get_filename() or "",
           hashlib.sha256(data).hexdigest())


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.compat32)
    root = "" if msg.is_multipart() else None
    for row in walk(msg, root or ""):
        print("|".join(row))


main()
