#!/usr/bin/env python3
"""Writes tests/data/content.eml: one message carrying what issue 19 asks
mailsift to see inside mail (run by hand; its output is checked in):

  - a text part that gives the archive password ("Tr0ub4dor&3");
  - invoice.pdf, declared application/pdf, that is a Windows executable
    (a PE header);
  - photos.zip: a text file, a JPEG, and nested.7z (a 7-Zip archive
    holding deep.txt) inside it;
  - secret.zip: payload.txt encrypted with that password (ZipCrypto);
  - logs.tar.gz: a gzip'd tar of two files, one in a folder.

Archives are made by Python's zipfile and the Debian zip and 7z programs
(p7zip-full).  The truth the tests use comes from those programs and
Python reading the stored message, not from this file's intentions."""
import base64
import io
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile

PASSWORD = "Tr0ub4dor&3"
T0 = (2024, 3, 1, 12, 0, 0)


def pe_bytes():
    dos = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
                    b"\x00\x00\xb8")
    dos += b"\x00" * (0x3c - len(dos)) + struct.pack("<I", 0x80)
    dos += b"\x00" * (0x80 - len(dos))
    pe = b"PE\x00\x00" + struct.pack("<HHIIIHH", 0x14c, 1, 0, 0, 0, 0xe0,
                                     0x102)
    return bytes(dos) + pe + struct.pack("<H", 0x10b) + b"\x00" * 734


def jpeg_bytes():
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01"
            b"\x00\x00" + b"\x00" * 200 + b"\xff\xd9")


def run(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def archives():
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "deep.txt"), "w") as f:
            f.write("deep inside two archives\n")
        run(["7z", "a", "-bd", "nested.7z", "deep.txt"], d)
        nested = open(os.path.join(d, "nested.7z"), "rb").read()
        with open(os.path.join(d, "payload.txt"), "w") as f:
            f.write("the secret payload\n")
        os.utime(os.path.join(d, "payload.txt"), (1709294400, 1709294400))
        run(["zip", "-q", "-X", "-P", PASSWORD, "secret.zip",
             "payload.txt"], d)
        secret = open(os.path.join(d, "secret.zip"), "rb").read()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("notes.txt", b"holiday photos\n"),
                           ("beach.jpg", jpeg_bytes()),
                           ("nested.7z", nested)):
            z.writestr(zipfile.ZipInfo(name, T0), data)
    return buf.getvalue(), secret


def tarball():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
        for name, data in (("logs/app.log", b"started\nstopped\n"),
                           ("README", b"server logs, March\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1709294400
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def part(ctype, name, data):
    b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return ("--c1\r\nContent-Type: %s; name=\"%s\"\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s" %
            (ctype, name, name, b64))


def main():
    photos, secret = archives()
    msg = ("From: Accounts <accounts@supplier.example>\r\n"
           "To: erin@example.org\r\n"
           "Subject: invoice and photos\r\n"
           "Date: Fri, 01 Mar 2024 12:00:00 +0000\r\n"
           "Message-ID: <content.1@supplier.example>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"c1\"\r\n\r\n"
           "--c1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           "Hello Erin,\r\n\r\nthe invoice and the photos are attached.\r\n"
           "The archive password is: %s\r\n\r\n" % PASSWORD +
           part("application/pdf", "invoice.pdf", pe_bytes()) +
           part("application/zip", "photos.zip", photos) +
           part("application/zip", "secret.zip", secret) +
           part("application/gzip", "logs.tar.gz", tarball()) +
           "--c1--\r\n")
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/content.eml"
    with open(out, "wb") as f:
        f.write(msg.encode())


if __name__ == "__main__":
    main()
