#!/usr/bin/env python3
"""Damaged and unusual variants of a pcap file, for the tests.

usage: breakpcap.py IN.pcap OUTDIR
writes OUTDIR/
  snaplen.pcap     the first packet over 1000 bytes cut to 100 (as a
                   short snap length does; its original length kept)
  zerolen.pcap     an empty record inserted after packet 10
  oversized.pcap   a record claiming 2 GB after packet 40 (damage)
  backwards.pcap   the second half's timestamps an hour in the past
  unknown.pcapng   the same packets as pcapng, with a block of an
                   unknown type between them
"""
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    hdr, off, pkts = data[:24], 24, []
    while off + 16 <= len(data):
        sec, usec, cap, orig = struct.unpack("<IIII", data[off:off + 16])
        pkts.append([sec, usec, data[off + 16:off + 16 + cap], orig])
        off += 16 + cap
    return hdr, pkts


def write(path, hdr, pkts, raw_after=None):
    with open(path, "wb") as f:
        f.write(hdr)
        for i, (sec, usec, body, orig) in enumerate(pkts):
            f.write(struct.pack("<IIII", sec, usec, len(body), orig))
            f.write(body)
            if raw_after and i in raw_after:
                f.write(raw_after[i])


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng(path, hdr, pkts):
    linktype = struct.unpack("<I", hdr[20:24])[0]
    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", linktype, 0, 262144)))
        for i, (sec, usec, body, orig) in enumerate(pkts):
            ts = sec * 1000000 + usec
            f.write(block(6, struct.pack("<IIIII", 0, ts >> 32,
                                         ts & 0xffffffff, len(body), orig)
                          + body))
            if i == 5:  # a block type nobody knows: readers skip it
                f.write(block(0x0BAD0001, b"not for you"))


def main():
    src, out = sys.argv[1], sys.argv[2]
    hdr, pkts = read(src)
    cut = [list(p) for p in pkts]
    big = next(p for p in cut if len(p[2]) > 1000)
    big[2] = big[2][:100]
    write(out + "/snaplen.pcap", hdr, cut)
    write(out + "/zerolen.pcap", hdr, pkts,
          {10: struct.pack("<IIII", pkts[10][0], pkts[10][1], 0, 0)})
    write(out + "/oversized.pcap", hdr, pkts,
          {40: struct.pack("<IIII", pkts[40][0], pkts[40][1], 0x7fffffff,
                           0x7fffffff)})
    back = [list(p) for p in pkts]
    for p in back[len(back) // 2:]:
        p[0] -= 3600
    write(out + "/backwards.pcap", hdr, back)
    pcapng(out + "/unknown.pcapng", hdr, pkts)


main()
