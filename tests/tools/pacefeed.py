#!/usr/bin/env python3
"""pacefeed.py FILE BYTES_PER_SECOND: copies FILE to standard output at
about that rate, in 64 KiB writes.  A log commits every second of wall
time, not of capture time, so a test that needs commits in the middle of
a run (a disk that fills or fails after some of them) reads its capture
from this pipe: "pacefeed.py FILE RATE | mailsift read -o LOG -".  A reader
that stops (EPIPE) ends it quietly."""
import os
import sys
import time

CHUNK = 64 * 1024


def main():
    path, rate = sys.argv[1], float(sys.argv[2])
    out = sys.stdout.buffer
    start = time.monotonic()
    sent = 0
    with open(path, 'rb') as f:
        while True:
            data = f.read(CHUNK)
            if not data:
                break
            try:
                out.write(data)
                out.flush()
            except BrokenPipeError:
                # stdout is gone: point it at /dev/null so that the
                # interpreter's own flush at exit says nothing
                os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
                return
            sent += len(data)
            ahead = sent / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)


if __name__ == '__main__':
    main()
