#!/usr/bin/env python3
"""What is inside a message's attachments, worked out without mailsift:
Python's email package decodes the parts, file(1) types them, zipfile
(which decrypts ZipCrypto given the password) and the 7z program list
and read archives, hashlib hashes.  Prints one line per part and per
file inside an archive part, in mailsift's order, to compare with
mailsift's parts and archive_entries:

  part N TYPE-BY-CONTENT PASSWORD-OR-"-"
  entry N K PATH DEPTH SIZE ENCRYPTED SHA256-OR-"-"

usage: contentref.py MESSAGE.eml PASSWORD..."""
import email
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile


def mime_type(data):
    return subprocess.run(["file", "--mime-type", "-b", "-"], input=data,
                          capture_output=True, check=True).stdout.decode().strip()


def sevenzip(data):
    """(name, size, bytes) of each file of a 7z archive."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "a.7z")
        open(path, "wb").write(data)
        out = subprocess.run(["7z", "l", "-slt", path], capture_output=True,
                             check=True).stdout.decode().split("----------", 1)[-1]
        files = []
        for block in out.split("\n\n"):
            f = dict(l.split(" = ", 1) for l in block.splitlines() if " = " in l)
            if "Path" in f and "Size" in f and "Block" in f and \
                    not f.get("Attributes", "").startswith("D"):
                body = subprocess.run(["7z", "x", "-so", path, f["Path"]],
                                      capture_output=True, check=True).stdout
                files.append((f["Path"], int(f["Size"]), body))
        return files


def entries(data, passwords, prefix="", depth=1):
    """(path, depth, size, encrypted, sha256) of each file, nested ones
    after their archive; and the password that opened it."""
    out, used = [], "-"
    if data[:4] == b"PK\3\4":
        z = zipfile.ZipFile(io.BytesIO(data))
        for i in z.infolist():
            if i.is_dir():
                continue
            enc = i.flag_bits & 1
            body = None
            for pw in ([None] if not enc else passwords):
                try:
                    body = z.read(i, pwd=pw.encode() if pw else None)
                    if enc:
                        used = pw
                    break
                except (RuntimeError, zipfile.BadZipFile):
                    continue
            out += walk(prefix + i.filename, depth, i.file_size, enc, body,
                        passwords)
    elif data[:6] == b"7z\xbc\xaf\x27\x1c":
        for name, size, body in sevenzip(data):
            out += walk(prefix + name, depth, size, 0, body, passwords)
    return out, used


def walk(path, depth, size, enc, body, passwords):
    sha = hashlib.sha256(body).hexdigest() if body is not None else "-"
    rows = [(path, depth, size, enc, sha)]
    if body is not None and depth < 3:
        inner, _ = entries(body, passwords, path + "/", depth + 1)
        rows += inner
    return rows


def main():
    msg = email.message_from_bytes(open(sys.argv[1], "rb").read())
    passwords = sys.argv[2:]
    n = 0
    for p in msg.walk():
        if p.is_multipart():
            continue
        n += 1
        data = p.get_payload(decode=True) or b""
        rows, used = entries(data, passwords)
        print("part", n, mime_type(data), used)
        for k, r in enumerate(rows, 1):
            print("entry", n, k, *r)


if __name__ == "__main__":
    main()
