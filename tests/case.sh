#!/bin/sh
# mailsift case export / verify (issue 32): a bundle a second examiner
# checks from it and the captures alone.  On recorded and crafted
# captures (and public ones when ../shared/corpus/public is there), with
# the release and the sanitizer builds: the bundle's files are the log's
# bytes, sha256sum -c agrees, verify derives every message again from the
# frames cited; one byte changed anywhere (attachment, manifest, capture,
# SHA256SUMS) fails verify and names it; a moved bundle and captures
# elsewhere still verify; Ed25519 signatures; hostile names and text stay
# inert in the files and the report.
set -u
cd "$(dirname "$0")/.."
B=build/case
GEN=build/rel/tools/pcapgen
PUB=../shared/corpus/public
pass=0 fail=0

ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "  expected: $3"; echo "  got:      $2"; fi; }

rm -rf "$B"; mkdir -p "$B/caps"
"$GEN" --eml tests/data/hostile.eml "$B/caps" hostile >/dev/null
"$GEN" --eml tests/data/files.eml "$B/caps" files >/dev/null
cp tests/recorded/dovecot-files.pcap tests/pcap/demo.pcap "$B/caps/"
for f in arkime-smtp-zip.pcap zeek-smtp-attachment-msg.pcap suricata-smtp-multi-mail.pcap; do
	[ -f "$PUB/$f" ] && cp "$PUB/$f" "$B/caps/"
done
CAPS=$(ls "$B"/caps/*.pcap)

# flip FILE OFFSET: one byte of the file changed in place
flip() {
	printf '%s' "$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')" |
		awk '{ printf "%c", ($1 + 1) % 256 }' |
		dd of="$1" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}

for bin in ./mailsift build/san/mailsift; do
	tag=$(basename "$(dirname "$bin")"); [ "$bin" = ./mailsift ] && tag=rel
	D=$B/$tag; mkdir -p "$D"
	# shellcheck disable=SC2086
	"$bin" read -q -o "$D/log.db" $CAPS 2>"$D/read.err"
	"$bin" case export -d "$D/log.db" -o "$D/bundle" >"$D/export.out" 2>"$D/export.err"
	check "$tag: case export exits 0" "$?" 0
	nmsg=$(sqlite3 "$D/log.db" "SELECT count(*) FROM messages")
	check "$tag: every message exported" \
		"$(ls "$D/bundle/messages" | wc -l)" "$nmsg"
	check "$tag: sha256sum -c agrees with SHA256SUMS" \
		"$(cd "$D/bundle" && sha256sum -c --quiet SHA256SUMS 2>&1 | wc -l)" 0
	# the .eml files are the log's messages, the attachments its parts
	want=$(sqlite3 "$D/log.db" "SELECT id || ' ' || sha256 FROM messages ORDER BY id")
	got=$(for f in "$D"/bundle/messages/*.eml; do
		echo "$(basename "$f" .eml) $(sha256sum "$f" | cut -d' ' -f1)"; done | sort -n)
	check "$tag: each .eml is the message the log hashed" "$got" "$want"
	want=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
for x in m["messages"]:
    for p in x["parts"]:
        if p["file"]: print(p["sha256"], p["file"])' "$D/bundle/manifest.json" | sort)
	got=$(cd "$D/bundle" && find attachments -type f -exec sha256sum {} + | sed 's/  / /' | sort)
	check "$tag: each attachment file is the part's decoded bytes" "$got" "$want"
	check "$tag: attachments exported (some)" \
		"$(find "$D/bundle/attachments" -type f | wc -l | sed 's/^[1-9][0-9]*$/some/')" some
	check "$tag: a pcap per session, readable, with packets" \
		"$(for p in "$D"/bundle/sessions/*.pcap; do capinfos -c -M "$p" 2>/dev/null | awk '/Number of packets/ { print ($NF > 0) }'; done | sort -u)" 1

	"$bin" case verify "$D/bundle" $CAPS >"$D/verify.out" 2>&1
	check "$tag: verify with the captures exits 0" "$?" 0
	check "$tag: verify derives every message again from its frames" \
		"$(grep -c '^ok   message .* derived again from frame' "$D/verify.out")" "$nmsg"

	# another machine: the bundle moved, the captures under other names
	mkdir -p "$D/elsewhere/evidence"
	cp -r "$D/bundle" "$D/elsewhere/b2"
	i=0; moved=
	for c in $CAPS; do i=$((i + 1)); cp "$c" "$D/elsewhere/evidence/item$i.cap"; moved="$moved $D/elsewhere/evidence/item$i.cap"; done
	# shellcheck disable=SC2086
	(cd / && "$OLDPWD/$bin" case verify "$OLDPWD/$D/elsewhere/b2" $(for m in $moved; do echo "$OLDPWD/$m"; done)) >"$D/moved.out" 2>&1
	check "$tag: a moved bundle verifies against captures renamed elsewhere" \
		"$?|$(grep -c 'derived again' "$D/moved.out")" "0|$nmsg"

	# one byte changed: an attachment, the manifest, a capture
	att=$(cd "$D/elsewhere/b2" && find attachments -type f | sort | head -1)
	flip "$D/elsewhere/b2/$att" 0
	"$bin" case verify "$D/elsewhere/b2" >"$D/flip.out" 2>&1
	check "$tag: an attachment changed: verify fails and names it" \
		"$?|$(grep -c "^FAIL $att: changed" "$D/flip.out")" "1|1"
	cp "$D/bundle/$att" "$D/elsewhere/b2/$att"
	flip "$D/elsewhere/b2/manifest.json" 40
	"$bin" case verify "$D/elsewhere/b2" >"$D/flip.out" 2>&1
	check "$tag: the manifest changed: verify fails and names it" \
		"$?|$(grep -c '^FAIL manifest.json: changed' "$D/flip.out")" "1|1"
	cp "$D/bundle/manifest.json" "$D/elsewhere/b2/manifest.json"
	# a byte inside a message's packet: the capture's digest and the
	# message derived from it both differ
	cap=$(echo $moved | cut -d' ' -f1)
	flip "$cap" $(( $(stat -c %s "$cap") - 40 ))
	# shellcheck disable=SC2086
	"$bin" case verify "$D/elsewhere/b2" $moved >"$D/flip.out" 2>&1
	check "$tag: a capture changed: verify fails and names the file" \
		"$?|$(grep -c "^FAIL $cap: not a capture the manifest names" "$D/flip.out")" "1|1"

	# signed with an Ed25519 key the examiner gives
	openssl genpkey -algorithm ed25519 -out "$D/key.pem" 2>/dev/null
	openssl pkey -in "$D/key.pem" -pubout -out "$D/pub.pem" 2>/dev/null
	openssl genpkey -algorithm ed25519 -out "$D/other.pem" 2>/dev/null
	openssl pkey -in "$D/other.pem" -pubout -out "$D/otherpub.pem" 2>/dev/null
	"$bin" case export -d "$D/log.db" -o "$D/signed" --sign "$D/key.pem" >"$D/sign.out" 2>&1
	check "$tag: export --sign exits 0 and names the key" \
		"$?|$(grep -c 'signed by key [0-9a-f]\{64\}' "$D/sign.out")" "0|1"
	"$bin" case verify "$D/signed" --key "$D/pub.pem" >"$D/sv.out" 2>&1
	check "$tag: signature verified with the signer's public key" \
		"$?|$(grep -c '^ok   signature by key' "$D/sv.out")" "0|1"
	"$bin" case verify "$D/signed" --key "$D/otherpub.pem" >"$D/sv.out" 2>&1
	check "$tag: another key's: verify fails" \
		"$?|$(grep -c '^FAIL signature' "$D/sv.out")" "1|1"
	flip "$D/signed/SHA256SUMS" 0
	"$bin" case verify "$D/signed" --key "$D/pub.pem" >"$D/sv.out" 2>&1
	check "$tag: SHA256SUMS changed after signing: verify fails" \
		"$?|$(grep -c '^FAIL signature' "$D/sv.out")" "1|1"
	"$bin" case export -d "$D/log.db" -o "$D/badkey" --sign "$D/pub.pem" >/dev/null 2>"$D/bk.err"
	check "$tag: --sign with a public key is refused, said" \
		"$?|$(grep -c 'not an Ed25519 private key' "$D/bk.err")" "2|1"

	# the bundle as one file: written, verified as the folder is, and a
	# tar whose names leave the folder refused
	"$bin" case export -d "$D/log.db" -o "$D/packed" --tar >/dev/null 2>&1
	check "$tag: --tar writes BUNDLE.tar, which GNU tar lists" \
		"$?|$(tar tf "$D/packed.tar" | grep -c '^packed/manifest.json$')" "0|1"
	"$bin" case verify "$D/packed.tar" $CAPS >"$D/tar.out" 2>&1
	check "$tag: verify takes the tar: every message derived again, scratch removed" \
		"$?|$(grep -c 'derived again' "$D/tar.out")" "0|$nmsg"
	python3 -c 'import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
i = tarfile.TarInfo("packed/../../escaped"); i.size = 1
t.addfile(i, io.BytesIO(b"x")); t.close()' "$D/evil.tar"
	"$bin" case verify "$D/evil.tar" >"$D/evil.out" 2>&1
	check "$tag: a tar whose names leave the folder is refused, nothing written" \
		"$?|$(grep -c 'not a plain file inside the bundle: refused' "$D/evil.out")|$(ls "$D" | grep -c escaped)" "1|1|0"

	# a selection: one message, its session's packets with it
	one=$(sqlite3 "$D/log.db" "SELECT min(id) FROM messages WHERE attachments > 0")
	"$bin" case export -d "$D/log.db" -o "$D/one" --message "$one" >/dev/null 2>&1
	check "$tag: --message exports that message and its session" \
		"$(ls "$D/one/messages") $(ls "$D/one/sessions" | grep -c txt)" "$one.eml 1"
	"$bin" case export -d "$D/log.db" -o "$D/found" --search "from:evil@attacker.example" >/dev/null 2>&1
	check "$tag: --search exports what search finds" \
		"$(ls "$D/found/messages" | wc -l)" 1
	"$bin" case export -d "$D/log.db" -o "$D/one" >/dev/null 2>&1
	check "$tag: an existing bundle folder is refused" "$?" 2

	# indicators: STIX 2.1 as OASIS's schemas define it, MISP as MISP's
	# describeTypes does; every attachment's hash in both
	"$bin" case iocs -d "$D/log.db" --stix -o "$D/iocs.stix" 2>"$D/iocs.err"
	check "$tag: case iocs --stix: valid STIX 2.1 (schemas, references, ids)" \
		"$?|$(python3 tests/tools/iocscheck.py stix "$D/iocs.stix" 2>&1 | tail -1 | sed 's/: [0-9]* objects/: N objects/')" \
		"0|stix: N objects, 0 problems"
	python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))
for o in b["objects"]:
    if o["type"] == "network-traffic":
        del o["protocols"]
        break
json.dump(b, open(sys.argv[2], "w"))' "$D/iocs.stix" "$D/broken.stix"
	python3 tests/tools/iocscheck.py stix "$D/broken.stix" >/dev/null 2>&1
	check "$tag: the STIX check refuses an object the schema refuses" "$?" 1
	atts=$(sqlite3 "$D/log.db" "SELECT DISTINCT sha256 FROM parts WHERE filename IS NOT NULL AND sha256 IS NOT NULL ORDER BY 1")
	check "$tag: STIX: a file object for every attachment, by its SHA-256" \
		"$(python3 -c 'import json, sys
b = json.load(open(sys.argv[1]))
print("\n".join(sorted({o["hashes"]["SHA-256"] for o in b["objects"] if o["type"] == "file"})))' "$D/iocs.stix")" "$atts"
	"$bin" case iocs -d "$D/log.db" --misp -o "$D/iocs.misp" 2>>"$D/iocs.err"
	check "$tag: case iocs --misp: MISP's types and categories" \
		"$?|$(python3 tests/tools/iocscheck.py misp "$D/iocs.misp" | tail -1 | sed 's/: [0-9]* objects/: N objects/')" \
		"0|misp: N objects, 0 problems"
	check "$tag: MISP: a filename|sha256 for every attachment" \
		"$(python3 -c 'import json, sys
e = json.load(open(sys.argv[1]))["Event"]
print("\n".join(sorted({a["value"].split("|")[1] for a in e["Attribute"] if a["type"] == "filename|sha256"})))' "$D/iocs.misp")" "$atts"
	"$bin" case iocs -d "$D/log.db" --message "$one" --stix | python3 -c 'import json, sys
b = json.load(sys.stdin)
print(sum(o["type"] == "email-message" for o in b["objects"]))' >"$D/one.n"
	check "$tag: case iocs --message: that message's indicators" "$(cat "$D/one.n")" 1

	# hostile names and text: files inside the bundle only, the report
	# escapes them (no element from the data), under a CSP that runs none
	check "$tag: every file the export wrote is inside the bundle" \
		"$(find "$D/bundle" -type f | grep -vc "^$D/bundle/")" 0
	check "$tag: report.html: the hostile markup stays text, no script runs" \
		"$(grep -c '<script\|<svg' "$D/bundle/report.html")|$(grep -c "default-src 'none'" "$D/bundle/report.html")|$(grep -c '&lt;script&gt;document.title' "$D/bundle/report.html" | sed 's/^[1-9][0-9]*$/some/')" \
		"0|1|some"
	# and in a real browser: the report of hostile mail runs nothing of
	# it (the payloads set document.title to PWNED-...)
	if [ "$tag" = rel ] && command -v chromium >/dev/null 2>&1; then
		timeout 90 chromium --headless --no-sandbox --disable-gpu \
			--user-data-dir="$D/chrome" --no-first-run \
			--disable-background-networking --virtual-time-budget=3000 \
			--dump-dom "file://$PWD/$D/bundle/report.html" >"$D/report.dom" 2>/dev/null
		check "browser: the report's title is its own, no script of the mail ran, the payload shown as text" \
			"$(grep -o '<title>[^<]*</title>' "$D/report.dom")|$(grep -c 'PWNED' "$D/report.dom" | sed 's/^[1-9][0-9]*$/some/')|$(grep -o '<title>[^<]*PWNED' "$D/report.dom" | wc -l)" \
			"<title>mailsift case report</title>|some|0"
	fi
done

echo "case: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
