#!/usr/bin/env python3
"""What is inside a message's attachments, worked out without mailsift:
Python's email package decodes the parts, file(1) types them, zipfile
(which decrypts ZipCrypto given the password) and the 7z program list
and read archives, hashlib hashes.  Prints one line per part and per
file inside an archive part, in mailsift's order, to compare with
mailsift's parts and archive_entries:

  part N TYPE-BY-CONTENT PASSWORD-OR-"-"
  entry N K PATH DEPTH SIZE ENCRYPTED SHA256-OR-"-"

and with --yara RULES, what the yara program matches in the message
(part 0), each part and each file inside an archive part:

  yara N K RULE

usage: contentref.py [--yara RULES] MESSAGE.eml PASSWORD..."""
import email
import hashlib
import io
import os
import subprocess
import sys
import tarfile
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
    elif data[:2] == b"\x1f\x8b":
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            for m in t.getmembers():
                if m.isfile():
                    out += walk(prefix + m.name, depth, m.size, 0,
                                t.extractfile(m).read(), passwords)
    return out, used


def walk(path, depth, size, enc, body, passwords):
    sha = hashlib.sha256(body).hexdigest() if body is not None else "-"
    rows = [(path, depth, size, enc, sha, body)]
    if body is not None and depth < 3:
        inner, _ = entries(body, passwords, path + "/", depth + 1)
        rows += inner
    return rows


def yara(rules, data):
    """The rules the yara program finds in data, sorted."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["yara", rules, f.name], capture_output=True,
                             check=True).stdout.decode()
    return sorted(l.split()[0] for l in out.splitlines() if l)


def main():
    args = sys.argv[1:]
    rules = None
    if args[0] == "--yara":
        rules, args = args[1], args[2:]
    raw = open(args[0], "rb").read()
    msg = email.message_from_bytes(raw)
    passwords = args[1:]
    n = 0
    found = []
    if rules:
        found += [(0, 0, r) for r in yara(rules, raw)]
    for p in msg.walk():
        if p.is_multipart():
            continue
        n += 1
        data = p.get_payload(decode=True) or b""
        rows, used = entries(data, passwords)
        if rules:
            found += [(n, 0, r) for r in yara(rules, data)]
        if not rules:
            print("part", n, mime_type(data), used)
        for k, r in enumerate(rows, 1):
            if rules and r[5] is not None:
                found += [(n, k, x) for x in yara(rules, r[5])]
            if not rules:
                print("entry", n, k, *r[:5])
    for f in found:
        print("yara", *f)


if __name__ == "__main__":
    main()
