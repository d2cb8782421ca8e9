#!/bin/sh
# Seeds for the fuzz targets, from the project's own material:
#   fuzz_pipeline  every shipped and recorded capture;
#   fuzz_mime      the seeded and crafted messages;
#   fuzz_smtp/pop3/imap  each TCP conversation of those captures, turned
#                  into the targets' chunked two-way format by tshark;
#   fuzz_mimehdr   header values met in the tests.
set -eu
out=$1
rm -rf "$out"
mkdir -p "$out/fuzz_pipeline" "$out/fuzz_mime" "$out/fuzz_mimehdr" \
    "$out/fuzz_smtp" "$out/fuzz_pop3" "$out/fuzz_imap"
cp tests/pcap/*.pcap tests/recorded/*.pcap "$out/fuzz_pipeline/"
cp tests/data/mail/*.eml "$out/fuzz_mime/"
printf '%s' '=?ISO-8859-1?Q?Andr=E9?= <a@b>' >"$out/fuzz_mimehdr/1"
printf '%s' "attachment; filename*0*=utf-8''%E2%82%AC; filename*1=x.pdf" >"$out/fuzz_mimehdr/2"
printf '%s' 'Tue, 14 Nov 2023 22:13:20 +0100' >"$out/fuzz_mimehdr/3"
for p in tests/pcap/*.pcap tests/recorded/*.pcap; do
	python3 tests/fuzz/pcap2chunks.py "$p" "$out"
done
