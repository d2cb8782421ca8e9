#!/usr/bin/env python3
"""Turns each TCP conversation of a capture into a seed for the protocol
fuzz targets: a flags byte, then chunks of (direction bit | length, bytes),
in the order tshark's "follow" gives them.

usage: pcap2chunks.py CAPTURE OUTDIR   (writes OUTDIR/fuzz_PROTO/NAME-N)
"""
import os
import subprocess
import sys

PORTS = {25: "smtp", 465: "smtp", 587: "smtp", 2525: "smtp", 2626: "smtp",
         110: "pop3", 995: "pop3", 143: "imap", 993: "imap"}


def streams(path):
    out = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields",
                          "-e", "tcp.stream", "-e", "tcp.dstport",
                          "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0"],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        s, port = line.split("\t")[:2]
        if port and int(port) in PORTS:
            yield int(s), PORTS[int(port)]


def chunks(path, s):
    out = subprocess.run(["tshark", "-n", "-r", path, "-q", "-z",
                          "follow,tcp,raw,%d" % s],
                         capture_output=True, text=True).stdout
    seed = bytearray([0])
    for line in out.splitlines():
        if not line.strip() or line.startswith(("=", "Follow", "Filter",
                                                "Node")):
            continue
        s2c = line.startswith("\t")
        try:
            data = bytes.fromhex(line.strip())
        except ValueError:
            continue
        for i in range(0, len(data), 127):
            part = data[i:i + 127]
            seed.append((0x80 if s2c else 0) | len(part))
            seed += part
        if len(seed) > 1 << 16:
            break
    return bytes(seed)


def main():
    path, outdir = sys.argv[1], sys.argv[2]
    name = os.path.basename(path).rsplit(".", 1)[0]
    for s, proto in streams(path):
        with open(os.path.join(outdir, "fuzz_" + proto,
                               "%s-%d" % (name, s)), "wb") as f:
            f.write(chunks(path, s))


main()
