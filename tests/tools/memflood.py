#!/usr/bin/env python3
"""memflood.py OUT.pcap [tls]: connections that try to make mailsift hold
memory, all open at once (tests/memory.sh):

  - UNDETECTED connections to port 25 whose two sides trade 1-byte
    segments that never make a line, so the protocol stays unknown and
    every byte waits for detection (alternating, so runs cannot merge);
  - SMTP sessions left inside DATA after BODY bytes of a message;
  - IMAP sessions left inside a FETCH literal that announces 1 GB, after
    BODY bytes of it.

With "tls" instead: TLS sessions on 465 whose ClientHello announces
60,000 bytes and sends all but the last of them, in records of 16 KB,
so that each would hold a handshake buffer of 64 KB.

Nothing ends: the capture stops with everything open."""
import struct
import sys

UNDETECTED, ROUNDS, SESSIONS, BODY = 3000, 60, 300, 65536
TLS_SESSIONS = 1200
out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 101))
clock = [1700000000 * 1000000]


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def packet(src, dst, sport, dport, seq, ack, flags, data=b''):
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40 + len(data), 0, 0, 64, 6,
                     0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff,
                      ack & 0xffffffff, 0x50, flags, 65535, 0, 0)
    clock[0] += 10
    rec = ip + tcp + data
    out.write(struct.pack('<IIII', clock[0] // 1000000, clock[0] % 1000000,
                          len(rec), len(rec)) + rec)


class Conn:
    def __init__(self, n, dport):
        self.c = [10, 1 + n // 250, n % 250 + 1, 1]
        self.s = [10, 200, 0, 1]
        self.cp, self.sp = 20000 + n % 40000, dport
        self.seq = [1000, 5000]
        packet(self.c, self.s, self.cp, self.sp, self.seq[0], 0, 0x02)
        packet(self.s, self.c, self.sp, self.cp, self.seq[1], self.seq[0] + 1, 0x12)
        self.seq = [self.seq[0] + 1, self.seq[1] + 1]
        packet(self.c, self.s, self.cp, self.sp, self.seq[0], self.seq[1], 0x10)

    def send(self, side, data):
        for o in range(0, len(data), 1400):
            chunk = data[o:o + 1400]
            if side == 0:
                packet(self.c, self.s, self.cp, self.sp, self.seq[0], self.seq[1], 0x18, chunk)
            else:
                packet(self.s, self.c, self.sp, self.cp, self.seq[1], self.seq[0], 0x18, chunk)
            self.seq[side] += len(chunk)


def tls_flood():
    """Handshakes that never end, each a buffer of 64 KB were it kept."""
    announced = 60000
    for i in range(TLS_SESSIONS):
        c = Conn(i, 465)
        msg = bytes([1]) + struct.pack('!I', announced)[1:] + \
            bytes(announced - 1000)
        for o in range(0, len(msg), 16384):
            frag = msg[o:o + 16384]
            c.send(0, b'\x16\x03\x01' + struct.pack('!H', len(frag)) + frag)


def main():
    if len(sys.argv) > 2 and sys.argv[2] == 'tls':
        tls_flood()
        return
    undetected = [Conn(i, 25) for i in range(UNDETECTED)]
    for r in range(ROUNDS):
        for c in undetected:
            c.send(1, b'x')
            c.send(0, b'y')
    body = (b'Subject: never ends\r\n\r\n' + b'A' * 76 + b'\r\n') * (BODY // 78)
    for i in range(SESSIONS):
        c = Conn(UNDETECTED + i, 25)
        c.send(1, b'220 mx.test ESMTP\r\n')
        c.send(0, b'EHLO x.test\r\n')
        c.send(1, b'250 mx.test\r\n')
        c.send(0, b'MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n')
        c.send(1, b'250 Ok\r\n250 Ok\r\n354 go\r\n')
        c.send(0, body)
    for i in range(SESSIONS):
        c = Conn(UNDETECTED + SESSIONS + i, 143)
        c.send(1, b'* OK IMAP4rev1 ready\r\n')
        c.send(0, b'a1 LOGIN u p\r\n')
        c.send(1, b'a1 OK done\r\n')
        c.send(0, b'a2 SELECT INBOX\r\n')
        c.send(1, b'* 1 EXISTS\r\na2 OK done\r\n')
        c.send(0, b'a3 FETCH 1 BODY[]\r\n')
        c.send(1, b'* 1 FETCH (BODY[] {1000000000}\r\n' + body)


main()
