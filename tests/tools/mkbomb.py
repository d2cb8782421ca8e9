#!/usr/bin/env python3
"""Writes an archive bomb as a message (issue 34): bomb.tar.bz2, a tar
whose one entry declares GIB GiB of zeros (default 10), compressed to a
few KB.  The bzip2 is made of concatenated streams (as pbzip2 writes
them, and as libarchive and bzip2(1) read them): the tar header and the
first zeros in one, then the same 64 MiB of zeros compressed once and
repeated, so the file is made in a second rather than a minute a GiB.

    mkbomb.py [GIB] > bomb.eml"""
import base64
import bz2
import sys
import tarfile

CHUNK = 64 << 20


def bomb(gib):
    size = gib << 30
    info = tarfile.TarInfo("zeros.bin")
    info.size = size
    info.mtime = 1709294400
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    out = [bz2.compress(header + bytes(CHUNK - len(header)))]
    zeros = bz2.compress(bytes(CHUNK))
    out += [zeros] * (size // CHUNK - 1)
    # the tar's end: two blocks of zeros, a record's worth in all
    out.append(bz2.compress(bytes(10240 - (len(header) % 10240))))
    return b"".join(out)


def main():
    gib = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    data = base64.encodebytes(bomb(gib)).replace(b"\n", b"\r\n")
    sys.stdout.buffer.write(
        b"From: sender@example.org\r\nTo: analyst@example.net\r\n"
        b"Subject: logs\r\nMessage-ID: <bomb@example.org>\r\n"
        b"Date: Fri, 01 Mar 2024 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe logs.\r\n"
        b"--b\r\nContent-Type: application/x-bzip2\r\n"
        b"Content-Disposition: attachment; filename=logs.tar.bz2\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + data +
        b"--b--\r\n")


main()
