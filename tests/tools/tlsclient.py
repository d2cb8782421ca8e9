#!/usr/bin/env python3
"""tlsclient.py HOST USER PASS KEYLOG [MESSAGE]: IMAP and POP3 over TLS,
as Python's ssl module speaks it, against a server on loopback; with
MESSAGE, SMTP instead: the message submitted over STARTTLS on 587 and
over TLS on 465, after AUTH PLAIN.

Each session logs its TLS keys to KEYLOG (NSS key log format) and prints
one line of truth, as the client's TLS library saw the session:

    PROTO MODE CLIENT_PORT SNI VERSION CIPHER RESUMED

(MODE implicit or starttls; VERSION and CIPHER as OpenSSL names them;
RESUMED 1 when the session was resumed).  The sessions cover TLS 1.3 and
1.2, AES-GCM and ChaCha20-Poly1305, STARTTLS, a name the certificate
does not carry, and a resumed TLS 1.2 session (record-tls.sh adds POP3
STLS with TLS 1.3's ChaCha20 through openssl s_client).
"""
import imaplib
import os
import poplib
import smtplib
import socket
import warnings
import zlib
import ssl
import sys

HOST, USER, PASS, KEYLOG = sys.argv[1:5]
MESSAGE = sys.argv[5] if len(sys.argv) > 5 else None
warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0, on purpose


class Named(ssl.SSLContext):
    """A context whose sockets ask for one server name (SNI), whatever
    host the library connected to (127.0.0.1 here); and resume a
    session when one is given."""
    sni = None
    session = None

    def wrap_socket(self, sock, *a, **kw):
        kw["server_hostname"] = self.sni
        if self.session is not None:
            kw["session"] = self.session
        return super().wrap_socket(sock, *a, **kw)


def named(sni, version, ciphers=None):
    c = Named(ssl.PROTOCOL_TLS_CLIENT)
    c.sni = sni
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE  # a self-signed test certificate
    c.minimum_version = c.maximum_version = version
    if ciphers:  # TLS 1.2 only: Python 3.11 cannot pick 1.3 suites
        c.set_ciphers(ciphers)
    c.keylog_filename = KEYLOG
    return c


def truth(proto, mode, sock, sni):
    print(proto, mode, sock.getsockname()[1], sni, sock.version(),
          sock.cipher()[0], int(sock.session_reused))
    sys.stdout.flush()


def imaps(sni, ctx):
    m = imaplib.IMAP4_SSL(HOST, 993, ssl_context=ctx)
    truth("imap", "implicit", m.sock, sni)
    m.login(USER, PASS)
    m.select("INBOX", readonly=True)
    m.fetch("1", "(BODY.PEEK[])")
    m.logout()


def imap_starttls(sni, ctx):
    m = imaplib.IMAP4(HOST, 143)
    m.starttls(ssl_context=ctx)
    truth("imap", "starttls", m.sock, sni)
    m.login(USER, PASS)
    m.logout()


def pop3s(sni, ctx):
    p = poplib.POP3_SSL(HOST, 995, context=ctx)
    truth("pop3", "implicit", p.sock, sni)
    p.user(USER)
    p.pass_(PASS)
    p.stat()
    p.quit()


def resumed(sni):
    """TLS 1.2 twice with one session: the second one resumes."""
    c = named(sni, ssl.TLSVersion.TLSv1_2, "ECDHE-RSA-AES256-GCM-SHA384")
    c.options |= ssl.OP_NO_TICKET  # resume by session id
    m = imaplib.IMAP4_SSL(HOST, 993, ssl_context=c)
    truth("imap", "implicit", m.sock, sni)
    session = m.sock.session
    m.logout()
    c.session = session
    m = imaplib.IMAP4_SSL(HOST, 993, ssl_context=c)
    truth("imap", "implicit", m.sock, sni)
    m.logout()


def smtp(mode, sni, ctx):
    body = open(MESSAGE, "rb").read()
    if mode == "implicit":
        s = smtplib.SMTP_SSL(HOST, 465, context=ctx)
    else:
        s = smtplib.SMTP(HOST, 587)
        s.ehlo("client.example.test")
        s.starttls(context=ctx)
    truth("smtp", mode, s.sock, sni)
    s.ehlo("client.example.test")
    s.login(USER, PASS)
    s.sendmail("alice@example.test", ["bob@example.test"], body)
    s.quit()


T13, T12 = ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2
if MESSAGE is not None:
    smtp("starttls", "mx.example.test", named("mx.example.test", T13))
    smtp("implicit", "mx.example.test", named("mx.example.test", T12,
                                              "ECDHE-RSA-AES128-GCM-SHA256"))
    sys.exit(0)
imaps("mail.example.test", named("mail.example.test", T13))
imap_starttls("imap.example.test", named("imap.example.test", T12,
                                         "ECDHE-RSA-AES128-GCM-SHA256"))
pop3s("pop.example.test", named("pop.example.test", T12,
                                "ECDHE-RSA-CHACHA20-POLY1305"))
resumed("mail.example.test")
# CBC: encrypt-then-MAC as OpenSSL negotiates it by default (RFC 7366),
# MAC-then-encrypt when the client refuses it, and TLS 1.0's chained IVs
imaps("mail.example.test", named("mail.example.test", T12,
                                 "ECDHE-RSA-AES128-SHA"))
mte = named("mail.example.test", T12, "ECDHE-RSA-AES256-SHA384")
mte.options |= 0x80000  # SSL_OP_NO_ENCRYPT_THEN_MAC
pop3s("mail.example.test", mte)
imaps("mail.example.test", named("mail.example.test",
                                 ssl.TLSVersion.TLSv1,
                                 "AES128-SHA:@SECLEVEL=0"))
# RSA key exchange (no forward secrecy: the server's key opens it), with
# the extended master secret (RFC 7627, OpenSSL's default) and without
imaps("mail.example.test", named("mail.example.test", T12,
                                 "AES128-GCM-SHA256"))
noems = named("mail.example.test", T12, "AES256-SHA256")
noems.options |= 0x1  # SSL_OP_NO_EXTENDED_MASTER_SECRET
pop3s("mail.example.test", noems)
# COMPRESS=DEFLATE (RFC 4978) inside TLS 1.3: imaplib cannot, so by hand
def imaps_compress(sni, ctx):
    raw = socket.create_connection((HOST, 993))
    s = ctx.wrap_socket(raw)
    truth("imap", "implicit", s, sni)
    f = s.makefile("rb")

    def answer(tag):
        while True:
            line = f.readline()
            if line.startswith(tag + b" ") or not line:
                return line
    f.readline()  # greeting
    s.sendall(b"a1 LOGIN %s %s\r\n" % (USER.encode(), PASS.encode()))
    answer(b"a1")
    s.sendall(b"a2 COMPRESS DEFLATE\r\n")
    answer(b"a2")
    z, u = zlib.compressobj(wbits=-15), zlib.decompressobj(wbits=-15)
    buf = b""
    for cmd in (b"a3 EXAMINE INBOX", b"a4 FETCH 1 (BODY.PEEK[])",
                b"a5 LOGOUT"):
        s.sendall(z.compress(cmd + b"\r\n") + z.flush(zlib.Z_SYNC_FLUSH))
        tag = cmd.split()[0]
        while (b"\r\n" + tag + b" ") not in buf:
            data = s.recv(65536)
            if not data:
                break
            buf += u.decompress(data)
    s.close()


imaps_compress("mail.example.test", named("mail.example.test", T13))
# a client certificate, in clear in TLS 1.2
if os.environ.get("TLS_CLIENT_CERT"):
    mine = named("mail.example.test", T12, "ECDHE-RSA-AES128-GCM-SHA256")
    mine.load_cert_chain(os.environ["TLS_CLIENT_CERT"],
                         os.environ["TLS_CLIENT_KEY"])
    imaps("mail.example.test", mine)
