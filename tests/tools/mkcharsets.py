#!/usr/bin/env python3
"""Writes the messages serve's tests need for issue 34 into DIR:

  utf16-bom.eml   an HTML part in UTF-16LE with a byte-order mark
                  (declared utf-16), whose <link rel=preconnect>, <meta
                  refresh>, <base>, <iframe> and <img> point at
                  127.0.0.1:PORT, where the test listens;
  utf16-le.eml    the same declared charset=utf-16le, without a mark;
  badutf8.eml     a subject, a From name, a header and an attachment name
                  carrying bytes that are not UTF-8 (a lone surrogate's
                  ED A0 80, a bare FF, a cut sequence).

    mkcharsets.py DIR PORT"""
import base64
import os
import sys


def html(port):
    u = "http://127.0.0.1:%d" % port
    return ('<html><head><link rel="preconnect" href="%s/">'
            '<link rel="dns-prefetch" href="%s/">'
            '<meta http-equiv="refresh" content="0;url=%s/refresh">'
            '<base href="%s/base/"></head><body><p>Quarterly figures</p>'
            '<iframe src="%s/frame"></iframe><img src="%s/img.gif">'
            '</body></html>' % (u, u, u, u, u, u))


def message(subject, ctype, body):
    return (b"From: sender@example.org\r\nTo: analyst@example.net\r\n"
            b"Subject: " + subject + b"\r\n"
            b"Message-ID: <" + subject.split()[0] + b"@example.org>\r\n"
            b"Date: Fri, 01 Mar 2024 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: " + ctype + b"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" +
            base64.encodebytes(body).replace(b"\n", b"\r\n"))


def main():
    out, port = sys.argv[1], int(sys.argv[2])
    h = html(port)
    files = {
        "utf16-bom.eml": message(b"utf16-bom page", b"text/html; charset=utf-16",
                                 b"\xff\xfe" + h.encode("utf-16-le")),
        "utf16-le.eml": message(b"utf16-le page", b"text/html; charset=utf-16le",
                                h.encode("utf-16-le")),
        "badutf8.eml": (
            b"From: =?utf-8?b?" + base64.b64encode(b"Bad \xed\xa0\x80 Name") +
            b"?= <bad@example.org>\r\nTo: analyst@example.net\r\n"
            b"Subject: badutf8 \xed\xa0\x80 \xff cut \xe2\x82\r\n"
            b"Message-ID: <badutf8@example.org>\r\n"
            b"X-Raw: \xc0\xaf overlong\r\n"
            b"Date: Fri, 01 Mar 2024 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
            b"--b\r\nContent-Type: text/plain\r\n\r\nsurrogate \xed\xa0\x80\r\n"
            b"--b\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename=\"r\xe9sum\xed\xa0\x80.pdf\"\r\n\r\n"
            b"%PDF-1.4\r\n--b--\r\n"),
    }
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


main()
