#!/usr/bin/python3
"""Writes the DKIM test messages (run by hand with Debian's python3-dkim;
the output is checked in, with the public key to verify them by):

  tests/data/dkim-relaxed.eml  signed c=relaxed/relaxed, body intact;
  tests/data/dkim-simple.eml   signed c=simple/simple, body intact (it
                               ends in empty lines, which both ignore);
  tests/data/dkim-altered.eml  signed, then a line of its body changed
                               (as a relay rewriting a link would);
  tests/data/dkim.pub          the key's public half, as DNS would give.

The impostor headers of issue 19 ride along: a display name that is an
address, a Reply-To and a Return-Path elsewhere, a From domain that looks
like the recipient's own (examp1e.org for example.org), and
the verdicts receiving servers write (Authentication-Results,
ARC-Authentication-Results, Received-SPF)."""
import subprocess
import tempfile

import dkim

HEAD = (b"Return-Path: <bounce@esp.example>\r\n"
        b"From: \"it-security@example.org\" <alerts@examp1e.org>\r\n"
        b"To: Erin <erin@example.org>\r\n"
        b"Reply-To: collect@elsewhere.example\r\n"
        b"Subject: Verify your account\r\n"
        b"Date: Fri, 01 Mar 2024 12:00:00 +0000\r\n"
        b"Message-ID: <dkim.%s@examp1e.org>\r\n")
VERDICTS = (
    b"Authentication-Results: mx.example.org;\r\n"
    b" dkim=pass header.d=examp1e.org header.s=mail;\r\n"
    b" spf=softfail (sender not permitted) smtp.mailfrom=bounce@esp.example;\r\n"
    b" dmarc=fail (p=reject) header.from=examp1e.org\r\n"
    b"ARC-Authentication-Results: i=1; relay.example.net; spf=pass"
    b" smtp.mailfrom=esp.example\r\n"
    b"Received-SPF: softfail (mx.example.org: domain of transitioning"
    b" bounce@esp.example does not designate 192.0.2.9 as permitted sender)"
    b" client-ip=192.0.2.9; envelope-from=\"bounce@esp.example\";"
    b" helo=mta.esp.example; receiver=mx.example.org\r\n")
BODY = (b"Dear customer,\r\n\r\n"
        b"Please   verify your account   at https://examp1e.org/v  \r\n"
        b"within 24 hours.\r\n\r\n\r\n")


def key():
    with tempfile.NamedTemporaryFile() as f:
        subprocess.run(["openssl", "genrsa", "-out", f.name, "1024"],
                       check=True, capture_output=True)
        priv = open(f.name, "rb").read()
        pub = subprocess.run(["openssl", "rsa", "-in", f.name, "-pubout"],
                             check=True, capture_output=True).stdout
    return priv, pub


def signed(priv, tag, canon):
    msg = HEAD % tag + b"\r\n" + BODY
    sig = dkim.sign(msg, b"mail", b"examp1e.org", priv,
                    canonicalize=canon,
                    include_headers=[b"from", b"to", b"subject", b"date"])
    return VERDICTS + sig + msg


def main():
    priv, pub = key()
    open("tests/data/dkim.pub", "wb").write(pub)
    open("tests/data/dkim-relaxed.eml", "wb").write(
        signed(priv, b"1", (b"relaxed", b"relaxed")))
    open("tests/data/dkim-simple.eml", "wb").write(
        signed(priv, b"2", (b"simple", b"simple")))
    altered = signed(priv, b"3", (b"relaxed", b"relaxed")).replace(
        b"https://examp1e.org/v", b"https://phish.example/v")
    open("tests/data/dkim-altered.eml", "wb").write(altered)


if __name__ == "__main__":
    main()
