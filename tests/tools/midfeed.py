#!/usr/bin/env python3
"""midfeed.py PCAP TEXT K OTHER PAUSE DB SQL: writes PCAP to standard
output as a classic pcap file with a reader's look at the log in the
middle of it, every timestamp squeezed into one second, so that only
wall time can make mailsift commit.  The records up to K past the first
whose bytes hold TEXT go out (a message still arriving); after PAUSE
seconds, the first six records of OTHER (another connection's start:
events to commit on, where the bytes of a message being read are not
checked for a commit one by one); after another PAUSE, SQL is asked of
DB while mailsift waits for input, its rows printed on standard error
('|' between columns); then the rest of PCAP, then the rest of OTHER.
What a reader sees while a message arrives: its rows as a commit
leaves them."""
import sqlite3
import struct
import sys
import time


def records(path):
    data = open(path, 'rb').read()
    off, recs = 24, []
    while off + 16 <= len(data):
        ts, us, incl, orig = struct.unpack_from('<IIII', data, off)
        recs.append((data[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return data[:24], recs


def main():
    path, text, k, other, pause, db, sql = sys.argv[1:8]
    head, recs = records(path)
    _, more = records(other)
    first = next(i for i, (pkt, _) in enumerate(recs) if text.encode() in pkt)
    split = first + int(k)
    order = recs[:split] + [None] + more[:6] + [None] + recs[split:] + more[6:]
    out = sys.stdout.buffer
    out.write(head)
    n, looks = 0, 0
    for r in order:
        if r is None:
            out.flush()
            time.sleep(float(pause))
            looks += 1
            if looks == 2:
                con = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
                for row in con.execute(sql):
                    print('|'.join('' if v is None else str(v) for v in row),
                          file=sys.stderr)
                con.close()
            continue
        pkt, orig = r
        out.write(struct.pack('<IIII', 1700000000, n, len(pkt), orig) + pkt)
        n += 1
    out.flush()


main()
