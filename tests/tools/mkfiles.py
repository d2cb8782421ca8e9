#!/usr/bin/env python3
"""Writes tests/data/files.eml: one message carrying files the ways mail
still carries them outside plain MIME attachments:

  - a uuencoded block ("begin 644 ...", "end") inside the text body;
  - a part sent with Content-Transfer-Encoding: x-uuencode;
  - a TNEF part (winmail.dat, application/ms-tnef) holding two files, one
    with a Unicode long name (MAPI PidTagAttachLongFilename), crafted
    here from [MS-OXTNEF] as Outlook lays it out.

Deterministic: the same bytes every run.  The test's truth does not come
from here but from what the server stored, decoded by other programs
(the Debian tnef tool, Python's uu module): see record-dovecot.sh."""
import base64
import binascii
import hashlib
import struct
import sys


def attr(level, aid, data):
    return (struct.pack("<BII", level, aid, len(data)) + data +
            struct.pack("<H", sum(data) & 0xffff))


def mapi_string(tag, s, unicode):
    d = (s + "\0").encode("utf-16-le" if unicode else "ascii")
    return (struct.pack("<HHII", 0x001f if unicode else 0x001e, tag, 1,
                        len(d)) + d + b"\0" * (-len(d) % 4))


def tnef(files):
    out = struct.pack("<IH", 0x223e9f78, 0x0a0b)
    out += attr(1, 0x00089006, struct.pack("<I", 0x00010000))  # version
    out += attr(1, 0x00069007, struct.pack("<II", 1252, 0))    # codepage
    for title, long_name, mime, data in files:
        out += attr(2, 0x00069002, b"\x01\x00" + b"\xff" * 4 + b"\0" * 8)
        out += attr(2, 0x00018010, title.encode() + b"\0")
        out += attr(2, 0x0006800f, data)
        props = [struct.pack("<HHI", 0x0003, 0x0e21, 0)]  # attach number
        if long_name:
            props.append(mapi_string(0x3707, long_name, True))
        if mime:
            props.append(mapi_string(0x370e, mime, False))
        out += attr(2, 0x00069005,
                    struct.pack("<I", len(props)) + b"".join(props))
    return out


def uuencode(name, data):
    out = b"begin 644 " + name.encode() + b"\r\n"
    for i in range(0, len(data), 45):
        out += binascii.b2a_uu(data[i:i + 45]).rstrip(b"\n") + b"\r\n"
    return out + b"`\r\nend\r\n"


def blob(seed, n):
    out = b""
    while len(out) < n:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return out[:n]


def main():
    tools = blob(b"tools", 700)
    tn = tnef([("BUDGET~1.XLS", "budget 2026 \u00e9t\u00e9.xlsx",
                "application/vnd.ms-excel", blob(b"budget", 1500)),
               ("NOTES.TXT", None, None, b"meeting notes\r\n")])
    b64 = base64.encodebytes(tn).replace(b"\n", b"\r\n")
    msg = (b"From: Outlook User <sender@example.net>\r\n"
           b"To: bob@example.org\r\n"
           b"Subject: files the old ways\r\n"
           b"Message-ID: <files-1@example.net>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"files\"\r\n"
           b"\r\n"
           b"--files\r\n"
           b"Content-Type: text/plain; charset=us-ascii\r\n"
           b"\r\n"
           b"The tools, as my old script sends them:\r\n"
           b"\r\n" + uuencode("tools.bin", tools) +
           b"\r\nRegards\r\n"
           b"--files\r\n"
           b"Content-Type: application/octet-stream; name=\"script.sh\"\r\n"
           b"Content-Transfer-Encoding: x-uuencode\r\n"
           b"\r\n" + uuencode("script.sh", b"#!/bin/sh\necho hello\n") +
           b"--files\r\n"
           b"Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n"
           b"Content-Disposition: attachment; filename=\"winmail.dat\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n"
           b"\r\n" + b64 +
           b"--files--\r\n")
    sys.stdout.buffer.write(msg)


main()
