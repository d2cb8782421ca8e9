#!/usr/bin/env python3
"""livetls.py CERT KEY KEYLOG PORT [late]: one SMTP session over TLS from
the first byte (as on 465), between a small server and a client of
Python's ssl on loopback; the client logs its keys to KEYLOG as it goes,
as an endpoint does while mailsift live follows the file.  The client
logs in with AUTH PLAIN (alice, wonderland) and quits.  With "late", the
keys reach KEYLOG only 1.5 s after the login, before the QUIT: mailsift
has to hold the session's records until they come."""
import base64
import socket
import ssl
import sys
import threading
import time

CERT, KEY, KEYLOG, PORT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
LATE = len(sys.argv) > 5 and sys.argv[5] == "late"

srv_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
srv_ctx.load_cert_chain(CERT, KEY)
listener = socket.create_server(("127.0.0.1", PORT))


def serve():
    conn, _ = listener.accept()
    with srv_ctx.wrap_socket(conn, server_side=True) as s:
        f = s.makefile("rwb")
        f.write(b"220 mx.example.test ESMTP\r\n")
        f.flush()
        for line in f:
            verb = line.split()[0].upper() if line.split() else b""
            if verb == b"EHLO":
                f.write(b"250-mx.example.test\r\n250 AUTH PLAIN\r\n")
            elif verb == b"AUTH":
                f.write(b"235 2.7.0 Authentication successful\r\n")
            elif verb == b"QUIT":
                f.write(b"221 2.0.0 Bye\r\n")
                f.flush()
                break
            else:
                f.write(b"250 2.0.0 Ok\r\n")
            f.flush()


t = threading.Thread(target=serve)
t.start()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.keylog_filename = KEYLOG + ".late" if LATE else KEYLOG
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", PORT)),
                     server_hostname="mx.example.test") as c:
    f = c.makefile("rwb")
    f.readline()
    plain = base64.b64encode(b"\0alice\0wonderland")
    for cmd in (b"EHLO client.example.test", b"AUTH PLAIN " + plain,
                b"NOOP", b"QUIT"):
        if LATE and cmd == b"QUIT":
            time.sleep(1.5)
            with open(KEYLOG + ".late", "rb") as src, open(KEYLOG, "ab") as dst:
                dst.write(src.read())
            time.sleep(1.2)
        f.write(cmd + b"\r\n")
        f.flush()
        while True:
            reply = f.readline()
            if len(reply) < 4 or reply[3:4] != b"-":
                break
t.join()
