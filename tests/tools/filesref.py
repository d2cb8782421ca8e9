#!/usr/bin/env python3
"""usage: filesref.py MESSAGE WORKDIR

Prints "NAME SHA256" for every file carried inside the message outside
plain MIME attachments, decoded by programs other than mailsift:
uuencoded blocks in text parts and x-uuencode parts by Python's uu
module, TNEF parts (winmail.dat) by the Debian tnef tool.  The truth for
tests/dovecot.sh: MESSAGE is the copy the server stored."""
import email
import hashlib
import io
import os
import subprocess
import sys
import urllib.parse
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import uu


def uu_blocks(data):
    """Each begin ... end block of data, decoded by uu.decode."""
    lines = data.split(b"\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith(b"begin "):
            j = i
            while j < len(lines) and lines[j].rstrip(b"\r") != b"end":
                j += 1
            block = b"\n".join(l.rstrip(b"\r") for l in lines[i:j + 1])
            name = lines[i].rstrip(b"\r").split(b" ", 2)[2].decode()
            out = io.BytesIO()
            uu.decode(io.BytesIO(block + b"\n"), out, quiet=True)
            yield name, out.getvalue()
            i = j
        i += 1


def tnef_files(data, work):
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "winmail.dat")
    with open(src, "wb") as f:
        f.write(data)
    out = os.path.join(work, "out")
    os.makedirs(out, exist_ok=True)
    subprocess.run(["tnef", "-f", src, "-C", out, "--save-body=no"],
                   check=True)
    for n in sorted(os.listdir(out)):
        with open(os.path.join(out, n), "rb") as f:
            yield urllib.parse.unquote(n), f.read()


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f)
    for part in msg.walk():
        if part.is_multipart():
            continue
        cte = (part.get("Content-Transfer-Encoding") or "").lower()
        if part.get_content_type() == "application/ms-tnef":
            files = tnef_files(part.get_payload(decode=True), sys.argv[2])
        elif cte in ("x-uuencode", "uuencode", "x-uue"):
            files = uu_blocks(part.get_payload().encode())
        elif part.get_content_type() == "text/plain":
            files = uu_blocks(part.get_payload(decode=True))
        else:
            continue
        for name, data in files:
            print(name, hashlib.sha256(data).hexdigest())


main()
