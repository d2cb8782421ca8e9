#!/usr/bin/env python3
"""Writes tests/data/hostile.eml: a message whose From, Subject, a header,
its HTML part and its attachment name carry script, event handlers,
javascript: links, an RTL override and remote loads (images, a frame, a
CSS background): for the web view's browser test, nothing of it may run
or load.  Run by hand; the output is checked in."""
import base64
html = (b"<html><head><style>body{background:url(http://tracker.example/bg.png)}</style></head><body>"
        b"<script>document.title='PWNED-HTML';fetch('http://tracker.example/x')</script>"
        b"<img src=\"http://tracker.example/pixel.gif?u=1\" width=1 height=1>"
        b"<img src=x onerror=\"document.title='PWNED-ONERROR'\">"
        b"<a href=\"javascript:document.title='PWNED-JS'\">click</a>"
        b"<iframe src=\"http://tracker.example/frame\"></iframe>"
        b"<p>Hello</p></body></html>")
msg = (b"From: \"<script>document.title='PWNED-FROM'</script>\" <evil@attacker.example>\r\n"
       b"To: victim@example.org\r\n"
       b"Subject: <img src=x onerror=\"document.title='PWNED-SUBJECT'\"> \xe2\x80\xae gnp.exe\r\n"
       b"X-Evil: </td></tr></table><script>document.title='PWNED-HEADER'</script>\r\n"
       b"MIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=\"h1\"\r\n\r\n"
       b"--h1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       + base64.encodebytes(html).replace(b"\n", b"\r\n") +
       b"--h1\r\nContent-Type: application/octet-stream; name=\"<svg onload=alert(1)>.exe\"\r\n"
       b"Content-Disposition: attachment; filename=\"<svg onload=document.title='PWNED-NAME'>.exe\"\r\n"
       b"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--h1--\r\n")
open("tests/data/hostile.eml", "wb").write(msg)
