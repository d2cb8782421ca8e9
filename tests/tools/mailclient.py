#!/usr/bin/env python3
"""Drives real IMAP and POP3 sessions against a local server, the way mail
clients do, so that mailsift can be tested on what real servers say.

usage: mailclient.py HOST USER PASSWORD [imap|pop3|lmtp|lmtp-files FILE]

Every session is one a client really makes: Python's imaplib and poplib,
plus a hand-driven IMAP session for what imaplib cannot do (synchronising
literals in LOGIN, COMPRESS=DEFLATE, IDLE).  The last POP3 session deletes
message 1 and QUITs, so it runs last.
"""
import hashlib
import imaplib
import poplib
import socket
import sys
import zlib

HOST, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]

APPENDED = (b"From: Alice <alice@example.org>\r\n"
            b"To: Bob <bob@example.net>\r\n"
            b"Subject: draft uploaded by APPEND\r\n"
            b"Message-ID: <append-1@example.org>\r\n"
            b"\r\n"
            b"Saved to Sent by the client.\r\n"
            b".a line with a leading dot\r\n")


def imap_reader():
    """A reader's session: LOGIN, SELECT, whole messages, parts, flags,
    APPEND to another mailbox, EXPUNGE."""
    m = imaplib.IMAP4(HOST)
    m.capability()
    m.xatom("ID", '("name" "mailsift-test" "version" "1")')
    m.login(USER, PASSWORD)
    m.list()
    m.create("Sent")
    m.select("INBOX")
    m.uid("SEARCH", None, "ALL")
    m.fetch("1", "(UID FLAGS BODY.PEEK[])")
    m.fetch("2", "(RFC822)")
    m.fetch("3", "(BODY.PEEK[HEADER] BODY.PEEK[TEXT])")
    m.fetch("2", "(BODY.PEEK[]<0.64>)")
    m.search(None, "FROM", '"carol"')
    m.store("1", "+FLAGS", "(\\Flagged)")
    m.append("Sent", "(\\Seen)", None, APPENDED)
    m.status("Sent", "(MESSAGES UIDNEXT)")
    m.store("3", "+FLAGS", "(\\Deleted)")
    m.expunge()
    m.logout()


def imap_sasl():
    """A refused LOGIN, then AUTHENTICATE PLAIN."""
    m = imaplib.IMAP4(HOST)
    try:
        m.login(USER, "not-the-password")
    except imaplib.IMAP4.error:
        pass
    m.authenticate("PLAIN",
                   lambda _: b"\0" + USER.encode() + b"\0" + PASSWORD.encode())
    m.select("INBOX", readonly=True)  # EXAMINE
    m.noop()
    m.logout()


class RawImap:
    """Just enough IMAP on a socket to do what imaplib will not."""

    def __init__(self):
        self.s = socket.create_connection((HOST, 143))
        self.buf = b""
        self.z_out = self.z_in = None
        self.line()  # greeting

    def send(self, data):
        if self.z_out:
            data = self.z_out.compress(data) + self.z_out.flush(zlib.Z_SYNC_FLUSH)
        self.s.sendall(data)

    def fill(self):
        data = self.s.recv(65536)
        if not data:
            raise EOFError
        self.buf += self.z_in.decompress(data) if self.z_in else data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def until_tagged(self, tag):
        while True:
            line = self.line()
            if line.startswith(b"{"):
                continue
            if line.endswith(b"}") and b"{" in line:
                n = int(line[line.rindex(b"{") + 1:-1])
                while len(self.buf) < n:
                    self.fill()
                self.buf = self.buf[n:]
                continue
            if line.startswith(tag + b" "):
                return line


def imap_compress():
    """LOGIN with synchronising literals, COMPRESS=DEFLATE, then a fetch and
    IDLE through the compressed stream."""
    c = RawImap()
    c.send(b"c1 LOGIN {%d}\r\n" % len(USER))
    assert c.line().startswith(b"+")
    c.send(USER.encode() + b" {%d}\r\n" % len(PASSWORD))
    assert c.line().startswith(b"+")
    c.send(PASSWORD.encode() + b"\r\n")
    c.until_tagged(b"c1")
    c.send(b"c2 COMPRESS DEFLATE\r\n")
    assert b"OK" in c.until_tagged(b"c2")
    c.z_out = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    c.z_in = zlib.decompressobj(-15)
    c.send(b"c3 SELECT INBOX\r\n")
    c.until_tagged(b"c3")
    c.send(b"c4 UID FETCH 1:* (UID FLAGS BODY.PEEK[])\r\n")
    c.until_tagged(b"c4")
    c.send(b"c5 IDLE\r\n")
    assert c.line().startswith(b"+")
    c.send(b"DONE\r\n")
    c.until_tagged(b"c5")
    c.send(b"c6 LOGOUT\r\n")
    c.until_tagged(b"c6")
    c.s.close()


def pop3_reader():
    """USER/PASS, listings, RETR, TOP, a DELE undone by RSET."""
    p = poplib.POP3(HOST)
    p.capa()
    p.user(USER)
    p.pass_(PASSWORD)
    p.stat()
    p.list()
    p.uidl()
    for i in range(1, len(p.list()[1]) + 1):
        p.retr(i)
    p.top(2, 0)
    p.dele(2)
    p.rset()
    p.noop()
    p.quit()


def pop3_wrong_then_deleter():
    """A refused password, then APOP, RETR and a DELE that QUIT commits."""
    p = poplib.POP3(HOST)
    p.user(USER)
    try:
        p.pass_("nope")
    except poplib.error_proto:
        pass
    p.quit()
    p = poplib.POP3(HOST)
    p.apop(USER, PASSWORD)
    p.uidl(1)
    p.retr(1)
    p.dele(1)
    p.quit()


def fetch_chunks(m, uid, start, stop, chunk, with_size=True):
    """Thunderbird's way: UID FETCH of BODY.PEEK[]<offset.chunk>, with
    RFC822.SIZE, in lower case, until a chunk comes back short (or stop)."""
    off = start
    while stop is None or off < stop:
        items = "(uid rfc822.size body.peek[]<%d.%d>)" if with_size else \
            "(uid body.peek[]<%d.%d>)"
        typ, data = m.uid("fetch", str(uid), items % (off, chunk))
        got = sum(len(x[1]) for x in data if isinstance(x, tuple))
        if got < chunk:
            break
        off += chunk


def imap_pieces():
    """Messages fetched in pieces, as real clients do: 2.eml in 2 KB
    chunks with RFC822.SIZE, its first two chunks in one session and the
    rest in the next (the pieces join across sessions; the first session
    leaves it with a hole); 1.eml in 100-byte chunks without RFC822.SIZE;
    then as fetchmail does, RFC822.HEADER and BODY.PEEK[TEXT] apart."""
    m = imaplib.IMAP4(HOST)
    m.login(USER, PASSWORD)
    m.select("INBOX")
    fetch_chunks(m, 2, 0, 4096, 2048)
    m.logout()
    m = imaplib.IMAP4(HOST)
    m.login(USER, PASSWORD)
    m.select("INBOX")
    fetch_chunks(m, 2, 4096, None, 2048)
    fetch_chunks(m, 1, 0, None, 100, with_size=False)
    m.fetch("1", "(RFC822.HEADER)")
    m.fetch("1", "(BODY.PEEK[TEXT])")
    m.logout()


LMTP_MESSAGE = (b"From: relay@example.net\r\n"
                b"To: alice@example.org, bob@example.org\r\n"
                b"Subject: delivered by LMTP\r\n"
                b"Message-ID: <lmtp-1@example.net>\r\n"
                b"\r\n"
                b"One message, two mailboxes.\r\n")


def lmtp_deliver():
    """An MTA's LMTP delivery (RFC 2033), on a raw socket so that every
    reply is read as the RFC says (one per accepted recipient after the
    data; Python's smtplib.LMTP reads one): alice and bob accepted, a
    user that does not exist refused.  Prints the SHA-256 of the message
    sent."""
    s = socket.create_connection((HOST, 24))
    f = s.makefile("rb")

    def reply():  # the last line of a reply: "ddd text"
        while True:
            line = f.readline()
            if not line or line[3:4] != b"-":
                return line

    reply()
    for line in (b"LHLO relay.example.net", b"MAIL FROM:<relay@example.net>",
                 b"RCPT TO:<alice>", b"RCPT TO:<nosuch>", b"RCPT TO:<bob>",
                 b"DATA"):
        s.sendall(line + b"\r\n")
        reply()
    s.sendall(LMTP_MESSAGE + b".\r\n")
    reply()  # alice's delivery
    reply()  # bob's
    s.sendall(b"QUIT\r\n")
    reply()
    s.close()
    print(hashlib.sha256(LMTP_MESSAGE).hexdigest())


def lmtp_files(path):
    """Python's own LMTP client (smtplib.LMTP) delivering a message file
    to bob, one recipient (so its one reply is the whole answer)."""
    import smtplib
    with open(path, "rb") as f:
        data = f.read()
    with smtplib.LMTP(HOST, 24) as c:
        c.sendmail("sender@example.net", ["bob"], data)


def main():
    what = sys.argv[4] if len(sys.argv) > 4 else "all"
    if what in ("imap", "all"):
        imap_reader()
        imap_sasl()
        imap_compress()
        imap_pieces()
    if what in ("pop3", "all"):
        pop3_reader()
        pop3_wrong_then_deleter()
    if what == "lmtp":
        lmtp_deliver()
    if what == "lmtp-files":
        lmtp_files(sys.argv[5])


main()
