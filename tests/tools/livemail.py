#!/usr/bin/env python3
"""SMTP traffic on loopback for tests/live.sh: a small SMTP server and
clients that talk to it, so that mailsift live captures real TCP.

  livemail.py serve PORT                   serve until killed
  livemail.py send PORT N OUTDIR [TAG]     N messages, OUTDIR/sent.sha256
                                           (TAG in their subjects: burst)
  livemail.py slow PORT PAUSE OUTDIR TAG   EHLO, wait PAUSE s, then a message
  livemail.py idle PORT PAUSE              EHLO, then silence for PAUSE s
  livemail.py midway PORT PAUSE OUTDIR TAG a message whose body stops
                                           halfway for PAUSE s
  livemail.py stream PORT SECONDS OUTDIR   distinct messages, about five
                                           a second, for SECONDS; each
                                           "START END SHA256" appended to
                                           OUTDIR/stream.sha256
"""
import hashlib
import os
import socket
import socketserver
import sys
import time


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 mx.test ESMTP livemail")
        queued = 0
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply("250 2.0.0 Ok")
            elif verb == b"DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                queued += 1
                self.reply("250 2.0.0 Ok: queued as LIVE%d" % queued)
            elif verb == b"QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def message(tag, i):
    return ("From: sender%d@example.net\r\nTo: rcpt@example.org\r\n"
            "Subject: live %s %d\r\nMessage-ID: <%s.%d@example.net>\r\n\r\n"
            "Body of message %d, sent while mailsift was listening.\r\n"
            ".A line with a leading dot.\r\n" % (i, tag, i, tag, i, i)
            ).encode() * (1 + i * 40)


def chat(sock, line):
    sock.sendall(line)
    data = b""
    while True:
        data += sock.recv(65536)
        lines = data.split(b"\r\n")
        if len(lines) > 1 and lines[-2][3:4] == b" ":
            return data


def send_one(port, tag, i, pause=0.0, mid=0.0):
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(1024)
    chat(s, b"EHLO client.test\r\n")
    time.sleep(pause)
    body = message(tag, i)
    chat(s, b"MAIL FROM:<sender%d@example.net>\r\n" % i)
    chat(s, b"RCPT TO:<rcpt@example.org>\r\n")
    chat(s, b"DATA\r\n")
    wire = b"".join((b"." + ln if ln.startswith(b".") else ln)
                    for ln in body.splitlines(keepends=True))
    if mid > 0:  # half the body, a pause, the rest
        s.sendall(wire[:len(wire) // 2])
        time.sleep(mid)
        wire = wire[len(wire) // 2:]
    chat(s, wire + b".\r\n")
    chat(s, b"QUIT\r\n")
    s.close()
    return hashlib.sha256(body).hexdigest()


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "serve":
        Server(("127.0.0.1", port), SMTPHandler).serve_forever()
    elif cmd == "send":
        n, out = int(sys.argv[3]), sys.argv[4]
        tag = sys.argv[5] if len(sys.argv) > 5 else "burst"
        with open(os.path.join(out, "sent.sha256"), "a") as f:
            for i in range(n):
                f.write(send_one(port, tag, i) + "\n")
    elif cmd == "slow":
        pause, out, tag = float(sys.argv[3]), sys.argv[4], sys.argv[5]
        with open(os.path.join(out, tag + ".sha256"), "w") as f:
            f.write(send_one(port, tag, 1, pause) + "\n")
    elif cmd == "midway":
        pause, out, tag = float(sys.argv[3]), sys.argv[4], sys.argv[5]
        with open(os.path.join(out, tag + ".sha256"), "w") as f:
            f.write(send_one(port, tag, 3, 0, pause) + "\n")
    elif cmd == "stream":
        until, out = time.time() + float(sys.argv[3]), sys.argv[4]
        k = 0
        with open(os.path.join(out, "stream.sha256"), "a") as f:
            while time.time() < until:
                t0 = time.time()
                try:
                    sha = send_one(port, "s%d" % k, k % 5)
                except OSError:
                    time.sleep(0.2)
                    continue
                f.write("%.3f %.3f %s\n" % (t0, time.time(), sha))
                f.flush()
                k += 1
                time.sleep(0.2)
    elif cmd == "idle":
        s = socket.create_connection(("127.0.0.1", port))
        s.recv(1024)
        chat(s, b"EHLO idler.test\r\n")
        time.sleep(float(sys.argv[3]))
        s.close()


if __name__ == "__main__":
    main()
