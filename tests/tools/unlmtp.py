#!/usr/bin/env python3
"""usage: unlmtp.py STORED-MESSAGE

Writes the message as the LMTP client sent it: the stored copy less the
fields dovecot's LMTP server put on top of it (Return-Path, Delivered-To
and its own Received field, folded lines included), which come first."""
import sys

data = open(sys.argv[1], "rb").read()
added = {b"return-path": 1, b"delivered-to": 1, b"received": 1}
pos = 0
while True:
    end = data.index(b"\n", pos) + 1
    while data[end:end + 1] in (b" ", b"\t"):  # folded continuation
        end = data.index(b"\n", end) + 1
    name = data[pos:data.index(b":", pos)].strip().lower()
    if added.get(name, 0) == 0:
        break
    added[name] -= 1
    pos = end
sys.stdout.buffer.write(data[pos:])
