#!/usr/bin/env python3
"""slowfeed.py PCAP SPLIT PAUSE DB: writes a classic pcap file to standard
output in three pieces, its timestamps squeezed into one second, so only
wall time can make mailsift commit.  The first SPLIT records go out;
after PAUSE seconds, all but the last five (events to commit on); after
another PAUSE the log DB is queried while mailsift still waits for input,
and how many complete messages a reader sees then is printed on standard
error.  The last five records follow."""
import sqlite3
import struct
import sys
import time


def records(data):
    off = 24
    while off + 16 <= len(data):
        ts, us, incl, orig = struct.unpack_from('<IIII', data, off)
        yield data[off + 16:off + 16 + incl], orig
        off += 16 + incl


def main():
    path, split, pause, db = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    data = open(path, 'rb').read()
    out = sys.stdout.buffer
    out.write(data[:24])
    recs = list(records(data))
    for i, (pkt, orig) in enumerate(recs):
        if i == split or i == len(recs) - 5:
            out.flush()
            time.sleep(pause)
        if i == len(recs) - 5:
            con = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
            n = con.execute('SELECT count(*) FROM messages WHERE complete').fetchone()[0]
            con.close()
            print(n, file=sys.stderr)
        out.write(struct.pack('<IIII', 1700000000, i, len(pkt), orig) + pkt)
    out.flush()


main()
