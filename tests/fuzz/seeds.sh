#!/bin/sh
# Seeds for the fuzz targets, from the project's own material:
#   fuzz_pipeline  every shipped and recorded capture;
#   fuzz_mime      the seeded and crafted messages;
#   fuzz_smtp/pop3/imap  each TCP conversation of those captures, turned
#                  into the targets' chunked two-way format by tshark;
#   fuzz_mimehdr   header values met in the tests;
#   fuzz_html      the HTML parts of hostile.eml and links.eml, as they
#                  are and in UTF-16 with and without a mark;
#   fuzz_files     the TNEF stream and uuencoded text of files.eml;
#   fuzz_tls       the TLS records of tests/tools/mktlsvectors.py;
#   fuzz_search    queries of the search language: fields, phrases,
#                  hashes, addresses, networks, quotes left open;
#   fuzz_filters   selections of every listing: protocols, networks,
#                  times of each form, patterns, hashes, outcomes,
#                  sort columns, counts and pages;
#   fuzz_serve     requests for every answer of serve, with the token
#                  as a header, an argument and a cookie, keep-alive
#                  pairs, and malformed ones (bad lines, huge or folded
#                  headers, a body with a GET, half a request);
#   fuzz_content   the attachments of content.eml (archives in archives,
#                  an encrypted zip, an executable) and of files.eml; one
#                  small archive of each format libarchive reads that
#                  Python writes (tar plain, gzip, bzip2, xz; zip stored
#                  and deflated; a lone .gz/.bz2/.xz) and a bzip2 bomb.
set -eu
out=$1
rm -rf "$out"
mkdir -p "$out/fuzz_pipeline" "$out/fuzz_mime" "$out/fuzz_mimehdr" \
    "$out/fuzz_smtp" "$out/fuzz_pop3" "$out/fuzz_imap" "$out/fuzz_files" \
    "$out/fuzz_tls" "$out/fuzz_content" "$out/fuzz_html" "$out/fuzz_search" \
    "$out/fuzz_filters" "$out/fuzz_serve"
python3 tests/tools/mktlsvectors.py --seeds "$out/fuzz_tls"
cp tests/pcap/*.pcap tests/recorded/*.pcap "$out/fuzz_pipeline/"
cp tests/data/mail/*.eml tests/data/files.eml "$out/fuzz_mime/"
python3 -c '
import email, sys
m = email.message_from_binary_file(open("tests/data/files.eml", "rb"))
for i, p in enumerate(m.walk()):
    if not p.is_multipart():
        data = p.get_payload(decode=True) if p.get_content_type() != "application/octet-stream" else p.get_payload().encode()
        open("%s/fuzz_files/%d" % (sys.argv[1], i), "wb").write(b"\x00" + data)
' "$out"
python3 -c '
import email, sys
for f in ("tests/data/content.eml", "tests/data/files.eml"):
    m = email.message_from_binary_file(open(f, "rb"))
    for i, p in enumerate(m.walk()):
        if not p.is_multipart():
            open("%s/fuzz_content/%s.%d" % (sys.argv[1], f.split("/")[-1], i), "wb").write(p.get_payload(decode=True) or b"")
' "$out"
python3 -c '
import bz2, gzip, io, lzma, sys, tarfile, zipfile
d = sys.argv[1] + "/fuzz_content/"
def tar(mode):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode=mode) as t:
        for name, data in (("a.txt", b"password: hunter2\n"), ("d/b.bin", bytes(range(256)))):
            i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
        i = tarfile.TarInfo("d"); i.type = tarfile.DIRTYPE; t.addfile(i)
    return b.getvalue()
for mode in ("w", "w:gz", "w:bz2", "w:xz"):
    open(d + "archive." + (mode[2:] or "tar"), "wb").write(tar(mode))
for c in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", c) as z:
        z.writestr("a.txt", "hello " * 50); z.writestr("in.tar", tar("w"))
    open(d + "archive.zip%d" % c, "wb").write(b.getvalue())
open(d + "lone.gz", "wb").write(gzip.compress(b"x" * 1000))
open(d + "lone.bz2", "wb").write(bz2.compress(b"x" * 1000))
open(d + "lone.xz", "wb").write(lzma.compress(b"x" * 1000))
' "$out"
python3 -c '
import email, sys
m = email.message_from_bytes(sys.stdin.buffer.read())
open(sys.argv[1] + "/fuzz_content/bomb.tar.bz2", "wb").write(m.get_payload()[1].get_payload(decode=True))
' "$out" <<EOF_BOMB
$(python3 tests/tools/mkbomb.py 1)
EOF_BOMB
python3 -c '
import email, sys
n = 0
for f in ("tests/data/hostile.eml",):
    m = email.message_from_binary_file(open(f, "rb"))
    for p in m.walk():
        if p.get_content_type() == "text/html":
            h = p.get_payload(decode=True)
            for cs, data in ((0, h), (3, h.decode("utf-8", "replace").encode("utf-16-le")),
                             (2, b"\xff\xfe" + h.decode("utf-8", "replace").encode("utf-16-le"))):
                n += 1
                open("%s/fuzz_html/%d" % (sys.argv[1], n), "wb").write(bytes([cs]) + data)
open("%s/fuzz_html/link" % sys.argv[1], "wb").write(b"\x01<html><head><link rel=preconnect href=http://x/><meta http-equiv=refresh content=0><base href=http://x/></head><iframe src=http://x/></iframe></html>")
' "$out"
n=0
for q in 'from:alice subject:"Re: hi" invoice' '"unclosed phrase' \
    'alice@example.com 10.0.0.0/8 ip:2001:db8::/32' \
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
    'md5:d41d8cd98f00b204e9800998ecf8427e hash:da39a3ee5e6b4b0d3255bfef95601890afd80709' \
    'file:*.exe url:%_x user:bob msgid:<a@b> to:? addr:* "a ""b"" c" NEAR( AND OR NOT ^ -x' \
    '(from:a OR NOT (proto:smtp -file:x)) AND time:2024-01-31 invoice OR ip:10.0.0.1' \
    'after:2h before:2024-01-31T17:00+02:00 time:..2024-02-01 time:2024-01-01.. ((((a)))) )'; do
	n=$((n + 1)); printf '%s' "$q" >"$out/fuzz_search/$n"
done
# fuzz_filters: byte 0 the listing, byte 1 the order, then lines
printf '\000\005-\n0=smtp\n1=10.0.0.0/8\n6=2023-11-14\n' >"$out/fuzz_filters/1"
printf '\001\002subject\n3=alice*\n4=b?b\n15=accepted\n16=1\n' >"$out/fuzz_filters/2"
printf '\001\004a:5\n17=10.0.0.1\n' >"$out/fuzz_filters/3"
printf '\000\004b:4611686018427387904\n1=2001:DB8::1\n' >"$out/fuzz_filters/4"
printf '\007\001host\n1=2001:db8::/32\n6=yesterday\n7=7d\n' >"$out/fuzz_filters/5"
printf '\010\000sha256\n13=*.exe\n14=AABB\n8=1\n9=1\n' >"$out/fuzz_filters/6"
printf '\002\377start\n2=%%_x\n17=192.0.2.1\n18=::1\n10=1\n' >"$out/fuzz_filters/7"
printf '\001\014v:from\n0=smtp\n3=alice*\n' >"$out/fuzz_filters/8"
printf '\000\000v:x"; --\n' >"$out/fuzz_filters/7"
# sorted pages after and before a row: its ties, the values past it, NULLs
printf '\001\005size\na:1\n' >"$out/fuzz_filters/9"
printf '\001\004subject\nb:2\n16=1\n' >"$out/fuzz_filters/10"
printf '\000\005duration\na:2\n0=smtp\n' >"$out/fuzz_filters/11"
printf '\002\004username\nb:4611686018427387904\n' >"$out/fuzz_filters/12"
# the findings counted off their sums by kind and protocol, and a kind
# that is none
printf '\010\002-\n20=TLS_cert_invalid\n0=imap\n' >"$out/fuzz_filters/13"
printf '\010\006-\n20=tls_old\n' >"$out/fuzz_filters/14"
# the sessions of one anomaly, and a name that cannot be one
printf '\000\006-\n21=STREAM_gap\n0=smtp\n' >"$out/fuzz_filters/15"
printf '\000\004-\n21=gap%%\n' >"$out/fuzz_filters/16"
# the logins of a mechanism and verdict, a server's port, and values
# that cannot be either
printf '\002\006-\n22=plain\n15=SUCCESS\n23=0110\n' >"$out/fuzz_filters/17"
printf '\000\004port\n23=25\n19=192.0.2.1\n0=smtp\n' >"$out/fuzz_filters/18"
printf '\002\004-\n22=a b\n23=65536\n15=accepted\n' >"$out/fuzz_filters/19"
printf '%s' '=?ISO-8859-1?Q?Andr=E9?= <a@b>' >"$out/fuzz_mimehdr/1"
printf '%s' "attachment; filename*0*=utf-8''%E2%82%AC; filename*1=x.pdf" >"$out/fuzz_mimehdr/2"
printf '%s' 'Tue, 14 Nov 2023 22:13:20 +0100' >"$out/fuzz_mimehdr/3"
for p in tests/pcap/*.pcap tests/recorded/*.pcap; do
	python3 tests/fuzz/pcap2chunks.py "$p" "$out"
done
# fuzz_serve: what a client sends on a connection (fuzz_serve.c's token)
n=0
A='Authorization: Bearer fuzz-serve-token-0123456789'
for r in / /app.js /app.css /api/overview /api/filters \
    '/api/listing/sessions?limit=2&sort=duration&desc=1' \
    '/api/listing/messages?after=0&limit=3' '/api/listing/messages?last=1' \
    '/api/listing/messages?values=from&proto=smtp&host=192.0.2.0/24' \
    '/api/listing/attachments?format=csv&hash=5d41402abc4b2a76b9719d911017c592' \
    '/api/listing/creds?count=1&since=2023-11-14&until=7d' \
    '/api/session?id=1' '/api/message?id=1' \
    '/api/search?q=(from:a%20OR%20file:*.pdf)%20NOT%20proto:pop3%20time:2023-11-14' \
    /message/1.eml /message/1/part/1 /session/1.pcap /nothing '/%2e%2e/etc/passwd'; do
	n=$((n + 1))
	printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:8025\r\n%s\r\n\r\n' "$r" "$A" >"$out/fuzz_serve/$n"
done
printf 'GET /?token=fuzz-serve-token-0123456789 HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$out/fuzz_serve/token-arg"
printf 'GET /api/overview HTTP/1.1\r\nHost: localhost\r\nCookie: mailsift_token_0=fuzz-serve-token-0123456789\r\n\r\n' >"$out/fuzz_serve/cookie"
printf 'GET /api/filters HTTP/1.1\r\nHost: a\r\n%s\r\n\r\nHEAD /api/session?id=1 HTTP/1.1\r\nHost: a\r\n%s\r\n\r\n' "$A" "$A" >"$out/fuzz_serve/pipelined"
printf 'POST /api/overview HTTP/1.1\r\nHost: a\r\n%s\r\nContent-Length: 5\r\n\r\nhello' "$A" >"$out/fuzz_serve/post"
printf 'GET /api/overview HTTP/1.1\r\nHost: evil.example\r\n\r\n' >"$out/fuzz_serve/host"
printf 'GET /api/listing/sessions?limit=1 HTTP/1.0\r\nX-Folded: a\r\n b\r\n%s\r\n\r\n' "$A" >"$out/fuzz_serve/folded"
printf 'GET /api/session?id=1' >"$out/fuzz_serve/half"
printf '\000\377\r\n\r\nGET' >"$out/fuzz_serve/junk"
