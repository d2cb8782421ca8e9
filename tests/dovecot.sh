#!/bin/sh
# POP3 and IMAP end to end on what a real server says: captures recorded
# from dovecot on loopback, driven by real clients (tests/tools/
# record-dovecot.sh, and record-tls.sh for IMAPS, POP3S, STARTTLS and
# STLS with TLS 1.0, 1.2 and 1.3, AEAD and CBC suites, the clients' keys
# logged; with CURL=1, curl's IMAPS, POP3 STLS and SMTP STARTTLS).  Two runs:
#
#   shipped  the recordings in tests/recorded/: the log must equal
#            tests/data/dovecot.expect, row for row;
#   live     a fresh recording made now, in a network namespace of its
#            own (needs root; skipped, and said so, where it cannot run).
#
# In both, every whole message the log holds must hash to a message file
# the server held (tests/data/mail/*.eml or the one APPEND stored), every
# seeded message must be seen over both protocols, and --extract must
# write those very bytes.
set -u
cd "$(dirname "$0")/.."
. tests/tools/outcomes.sh
B=build/dovecot
pass=0 fail=0 skipped=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; echo "  expected: $3"; echo "  got:      $2"; fi; }
rm -rf "$B"; mkdir -p "$B/live"

QUERY="
SELECT 'session', id, proto, server_port, username, state, mailbox, client_id, server_id, compression, tls, end_reason FROM sessions ORDER BY id;
SELECT 'cmd', session_id, seq, tag, verb, args, reply_code, reply_status FROM commands ORDER BY session_id, seq;
SELECT 'auth', session_id, seq, mechanism, username, password, challenge IS NOT NULL, proof IS NOT NULL, outcome FROM auth ORDER BY id;
SELECT 'msg', session_id, tx, seq, proto, method, direction, size, sha256, complete, partial, section, mailbox, msgno, uid, flags FROM messages ORDER BY session_id, tx;
SELECT 'item', session_id, seq, action, msgno, size, uid, flags, deletion FROM items ORDER BY id;
SELECT 'mailbox', session_id, seq, command, mailbox, status, messages, uidnext, recent FROM mailboxes ORDER BY session_id, seq;
SELECT 'resp', session_id, seq, keyword, number FROM responses ORDER BY id;
SELECT 'ext', session_id, keyword, params FROM extensions ORDER BY rowid;
SELECT 'anomaly', session_id, direction, name FROM anomalies ORDER BY id;"

# Invariants that hold for any recording of tests/tools/mailclient.py.
check_messages() { # tag db extract-dir sha256-list
	tag=$1 db=$2 x=$3 sums=$4
	bad_hash=$(sqlite3 "$db" "SELECT sha256 FROM messages WHERE complete AND NOT partial" |
		while read -r h; do grep -q "^$h " "$sums" || echo "$h"; done)
	check "$tag: every whole message is a file the server held" "$bad_hash" ""
	for f in tests/data/mail/1.eml tests/data/mail/2.eml; do
		h=$(sha256sum "$f" | cut -d' ' -f1)
		check "$tag: $(basename "$f") fetched over IMAP" \
			"$(sqlite3 "$db" "SELECT count(*) > 0 FROM messages WHERE proto='imap' AND method='FETCH' AND sha256='$h'")" 1
		check "$tag: $(basename "$f") retrieved over POP3" \
			"$(sqlite3 "$db" "SELECT count(*) > 0 FROM messages WHERE proto='pop3' AND method='RETR' AND sha256='$h'")" 1
	done
	# 3.eml crossed only as BODY[HEADER] and BODY[TEXT]: parts, not whole.
	check "$tag: 3.eml fetched as two parts that make it up" \
		"$(sqlite3 "$db" "SELECT group_concat(section, '+') || '=' || sum(size) FROM messages WHERE partial AND msgno = 3 AND section IN ('HEADER', 'TEXT')")" \
		"HEADER+TEXT=$(wc -c <tests/data/mail/3.eml)"
	# Pieces (tests/tools/mailclient.py imap_pieces): every message they
	# make is rebuilt, and hashes as the file the server held.
	h1=$(sha256sum tests/data/mail/1.eml | cut -d' ' -f1)
	h2=$(sha256sum tests/data/mail/2.eml | cut -d' ' -f1)
	h3=$(sha256sum tests/data/mail/3.eml | cut -d' ' -f1)
	check "$tag: messages rebuilt whole from their pieces" \
		"$(sqlite3 "$db" "SELECT CASE WHEN assembled LIKE '<%' THEN 'chunks' ELSE assembled END || ' ' || sha256 FROM messages WHERE assembled IS NOT NULL AND complete ORDER BY id")" \
		"HEADER+TEXT $h3
chunks $h2
chunks $h1
HEADER+TEXT $h1"
	check "$tag: 2.eml's chunks joined across two sessions" \
		"$(sqlite3 "$db" "SELECT count(DISTINCT session_id) FROM messages WHERE uid = 2 AND section LIKE '<%'") $(sqlite3 "$db" "SELECT assembled FROM messages WHERE sha256 = '$h2' AND assembled IS NOT NULL")" \
		"2 <0.2048>+<2048.2048>+<4096.2048>+<6144.2048>+<8192.539>"
	check "$tag: the session that left 2.eml with a hole logged it incomplete, the bytes missing counted" \
		"$(sqlite3 "$db" "SELECT complete, size, gap_bytes FROM messages WHERE assembled IS NOT NULL AND NOT complete")" \
		"0|4096|$(( $(wc -c <tests/data/mail/2.eml) - 4096 ))"
	check "$tag: APPEND uploaded what the server stored in Sent" \
		"$(sqlite3 "$db" "SELECT sha256 FROM messages WHERE method='APPEND'")" \
		"$(grep ' Sent$' "$sums" | cut -d' ' -f1)"
	check "$tag: COMPRESS=DEFLATE session inflated and dissected" \
		"$(sqlite3 "$db" "SELECT count(*) FROM messages m JOIN sessions s ON s.id = m.session_id WHERE s.compression = 'deflate' AND m.complete")" 2
	check "$tag: POP3 deletion committed by QUIT, the other undone by RSET" \
		"$(sqlite3 "$db" "SELECT group_concat(deletion, ',') FROM (SELECT deletion FROM items WHERE action='dele' ORDER BY id)")" "reset,committed"
	check "$tag: failed logins" \
		"$(sqlite3 "$db" "SELECT proto || ':' || mechanism FROM v_credentials WHERE outcome='failure' ORDER BY id" | tr '\n' ' ')" "imap:LOGIN pop3:USER "
	# MIME parts of each seeded message fetched whole, against Python's
	# email package: paths, types, file names, attachment hashes.
	for f in tests/data/mail/*.eml; do
		h=$(sha256sum "$f" | cut -d' ' -f1)
		id=$(sqlite3 "$db" "SELECT min(id) FROM messages WHERE sha256 = '$h' AND complete AND NOT partial")
		[ -n "$id" ] || continue
		check "$tag: $(basename "$f") MIME parts" \
			"$(sqlite3 -separator '|' "$db" "SELECT path, content_type, coalesce(filename, ''), CASE WHEN content_type LIKE 'text/%' THEN '' ELSE sha256 END FROM parts WHERE message_id = $id ORDER BY part")" \
			"$(python3 tests/tools/mimeref.py "$f" | awk -F'|' -v OFS='|' '$2 ~ /^text\// { $4 = "" } 1')"
	done
	check "$tag: the attachment extracted from every copy of 2.eml" \
		"$(sqlite3 "$db" "SELECT extract_path FROM parts WHERE filename = 'q1.bin' AND complete" | while read -r x; do sha256sum "$x" | cut -d' ' -f1; done | sort -u)" \
		"$(python3 tests/tools/mimeref.py tests/data/mail/2.eml | awk -F'|' '$3 == "q1.bin" { print $4 }')"
	check "$tag: full-text search finds the report" \
		"$(./mailsift search -d "$db" 'report attached' 2>/dev/null | tail -n +2 | cut -f4,5 | sort -u | tr '\n' ' ')" \
		"imap	FETCH pop3	RETR "
	nx=0
	for row in $(sqlite3 "$db" "SELECT sha256 || '|' || extract_path FROM messages WHERE complete"); do
		[ "$(sha256sum "${row#*|}" | cut -d' ' -f1)" = "${row%%|*}" ] || nx=$((nx + 1))
	done
	check "$tag: extracted files hash as logged" "$nx" 0
	check "$tag: no anomaly on a clean server" "$(sqlite3 "$db" "SELECT count(*) FROM anomalies")" 0
	# One identity per message: the IMAP and POP3 copies of each are
	# one journey (dovecot's copies carry delivery fields; the body
	# hash and Message-ID link them; 2.eml's POP3 TOP, a part, joins
	# by its Message-ID).
	for f in 1.eml:"imap:FETCH pop3:RETR" 2.eml:"imap:FETCH pop3:RETR pop3:TOP"; do
		want=${f#*:} f=tests/data/mail/${f%%:*}
		h=$(sha256sum "$f" | cut -d' ' -f1)
		check "$tag: $(basename "$f") one journey across IMAP and POP3" \
			"$(sqlite3 "$db" "SELECT group_concat(hop, ' ') FROM (SELECT DISTINCT proto || ':' || method AS hop FROM v_message_journeys WHERE journey = (SELECT journey FROM v_message_journeys WHERE sha256 = '$h') AND hops > 1 ORDER BY 1)")" \
			"$want"
	done
	# hashcat lines crack with the account's password, as hashcat would.
	check "$tag: creds --hashcat (CRAM-MD5, 16400) and APOP (20) verify" \
		"$( { ./mailsift creds -d "$db" --hashcat; ./mailsift creds -d "$db" --hashcat=apop; } | python3 -c '
import base64, hashlib, hmac, sys
pw = b"wonderland"
for line in sys.stdin:
    line = line.strip()
    if line.startswith("$cram_md5$"):
        _, _, chal, resp = line.split("$")
        user, digest = base64.b64decode(resp).decode().split(" ")
        ok = hmac.new(pw, base64.b64decode(chal), hashlib.md5).hexdigest() == digest
        print("cram-md5", user, ok)
    else:
        digest, salt = line.split(":", 1)
        print("apop", hashlib.md5(salt.encode() + pw).hexdigest() == digest)' | tr '\n' ' ')" \
		"cram-md5 alice True apop True "
}

# LMTP (RFC 2033) into dovecot: one reply per accepted recipient after
# the data, each paired with its RCPT; the message as the MTA sent it;
# dovecot stored a copy for each accepted recipient (truth file).
check_lmtp() { # tag bin pcap truth (its own variables: callers keep theirs)
	lt=$1 lbin=$2 lpcap=$3 truth=$4 ldb=$B/$(echo "$1" | tr ' ' -)-lmtp.db
	if ! "$lbin" read -q --replace -o "$ldb" "$lpcap" 2>"$ldb.err"; then
		bad "$lt: LMTP capture not read"; cat "$ldb.err"; return
	fi
	check "$lt: LMTP message as sent" \
		"$(sqlite3 "$ldb" "SELECT sha256 FROM messages WHERE complete")" \
		"$(sed -n 's/^sent //p' "$truth")"
	check "$lt: LMTP delivery status per recipient, as the server stored it" \
		"$(sqlite3 "$ldb" "SELECT address || ':' || coalesce(delivery_code, 'refused') FROM v_recipients ORDER BY seq" | tr '\n' ' ')" \
		"alice:250 nosuch:refused bob:250 "
	check "$lt: LMTP message accepted, as the replies per recipient say" \
		"$(sqlite3 "$ldb" "SELECT outcome FROM v_messages WHERE complete")|$(sent_outcomes "$ldb")" "accepted|0"
	check "$lt: dovecot stored one copy per accepted recipient" \
		"$(sed -n 's/^stored //p' "$truth" | tr '\n' ' ')" "alice 1 bob 1 "
	check "$lt: LMTP QUIT answered by its own reply, no anomaly" \
		"$(sqlite3 "$ldb" "SELECT reply_code FROM commands WHERE verb = 'QUIT'; SELECT count(*) FROM anomalies")" "221
0"
}

# Files the old ways (tests/data/files.eml, by Python's LMTP client):
# uuencoded blocks in text, an x-uuencode part, a TNEF winmail.dat with
# two files.  Truth: those files decoded from the copy dovecot stored,
# by the Debian tnef tool and Python's uu module (tests/tools/filesref.py).
check_files() { # tag bin pcap truth
	xt=$1 xbin=$2 xpcap=$3 xtruth=$4 xdb=$B/$(echo "$1" | tr ' ' -)-files.db
	rm -rf "$xdb.x" "$xdb.ex"
	if ! "$xbin" read -q --replace -o "$xdb" -x "$xdb.x" "$xpcap" 2>"$xdb.err"; then
		bad "$xt: files capture not read"; cat "$xdb.err"; return
	fi
	check "$xt: uuencoded and TNEF files, as other decoders see them" \
		"$(sqlite3 "$xdb" "SELECT filename || ' ' || sha256 FROM parts WHERE path LIKE '%/%' OR encoding = 'x-uuencode' ORDER BY filename")" \
		"$(LC_ALL=C sort "$xtruth")"
	check "$xt: the files extracted while reading" \
		"$(sqlite3 "$xdb" "SELECT extract_path FROM parts WHERE path LIKE '%/%' ORDER BY filename" | while read -r f; do sha256sum <"$f" | cut -d' ' -f1; done)" \
		"$(sqlite3 "$xdb" "SELECT sha256 FROM parts WHERE path LIKE '%/%' ORDER BY filename")"
	"$xbin" extract --all -d "$xdb" -o "$xdb.ex" >/dev/null 2>&1
	check "$xt: mailsift extract writes them from the kept message" \
		"$(cd "$xdb.ex" && for f in */*; do echo "${f#*/} $(sha256sum <"$f" | cut -d' ' -f1)"; done | grep -v '^winmail.dat ' | LC_ALL=C sort)" \
		"$(LC_ALL=C sort "$xtruth")"
	uuline=$(sed -n '/^begin 644 tools.bin/{n;p;q}' tests/data/files.eml | tr -d '\r' | sed "s/'/''/g")
	check "$xt: the text is indexed, its uuencoded lines are not" \
		"$(sqlite3 "$xdb" "SELECT instr(body, 'Regards') > 0, instr(body, '$uuline') FROM message_text")" "1|0"
}

# What mail carries, relayed by exim to dovecot in BDAT chunks: types by
# content, the files inside the archives (a 7z in a zip, an encrypted
# zip opened with the password of the text), YARA matches, the DKIM body
# of a message changed after signing, all as other programs read what
# dovecot stored (tests/tools/contentref.py, dkimpy).
check_content() { # tag bin pcap truth dkimtruth
	ct=$1 cbin=$2 cpcap=$3 ctruth=$4 cdkim=$5 cdb=$B/$(echo "$1" | tr ' ' -)-content.db
	if ! "$cbin" read -q --replace --yara tests/data/content.yar -o "$cdb" "$cpcap" 2>"$cdb.err"; then
		bad "$ct: content capture not read"; cat "$cdb.err"; return
	fi
	mid=$(sqlite3 "$cdb" "SELECT id FROM messages WHERE msg_id = '<content.1@supplier.example>'")
	check "$ct: parts, archives' files and the password, as dovecot stored them" \
		"$(sqlite3 -separator ' ' "$cdb" "SELECT 'part', part, magic_type, coalesce(archive_password, '-') FROM parts WHERE message_id = $mid ORDER BY part; SELECT 'entry', part, n, path, depth, size, encrypted, coalesce(sha256, '-') FROM archive_entries WHERE message_id = $mid ORDER BY part, n")" \
		"$(grep -v '^yara ' "$ctruth" | sort -k1,1r -s)"
	check "$ct: YARA's matches in the parts and archived files" \
		"$(sqlite3 -separator ' ' "$cdb" "SELECT 'yara', part, entry, rule FROM yara_matches WHERE message_id = $mid AND part > 0 ORDER BY part, entry, rule")" \
		"$(grep '^yara ' "$ctruth" | grep -v '^yara 0 ' | sort -k2,2n -k3,3n -k4,4)"
	check "$ct: DKIM body hashes, as dkimpy verifies the stored copies" \
		"$(sqlite3 "$cdb" "SELECT body_hash_check FROM message_auth a JOIN messages m ON m.id = a.message_id WHERE a.kind = 'dkim-signature' ORDER BY m.msg_id")" \
		"$(cat "$cdkim")"
	check "$ct: exim sent them in BDAT chunks" \
		"$(sqlite3 "$cdb" "SELECT count(DISTINCT method), min(method) FROM messages")" "1|BDAT"
}

# exim (Debian's exim4) relaying by LMTP to dovecot with CHUNKING: the
# message in BDAT chunks as exim sent it (truth: each stored copy less
# what dovecot put on top, tests/tools/unlmtp.py), one delivery status
# per recipient after the last chunk, the attachment as Python sees it.
check_exim() { # tag bin pcap truth
	et=$1 ebin=$2 epcap=$3 etruth=$4 edb=$B/$(echo "$1" | tr ' ' -)-exim.db
	if ! "$ebin" read -q --replace -o "$edb" "$epcap" 2>"$edb.err"; then
		bad "$et: exim capture not read"; cat "$edb.err"; return
	fi
	check "$et: exim sent its message in BDAT chunks, the last one LAST" \
		"$(sqlite3 "$edb" "SELECT count(*) > 1, max(args LIKE '% LAST') FROM commands WHERE verb = 'BDAT'")" "1|1"
	check "$et: the message rebuilt from the chunks is what dovecot stored for each" \
		"$(for u in alice bob; do sqlite3 "$edb" "SELECT '$u ' || sha256 FROM messages WHERE complete AND method = 'BDAT'"; done)" \
		"$(cat "$etruth")"
	check "$et: one LMTP reply per accepted recipient" \
		"$(sqlite3 "$edb" "SELECT address || ':' || coalesce(delivery_code, 'refused') FROM v_recipients ORDER BY seq" | tr '\n' ' ')" \
		"alice@example.org:250 nosuch@example.org:refused bob@example.org:250 "
	check "$et: the attachment, as Python's email package decodes it" \
		"$(sqlite3 "$edb" "SELECT sha256 FROM parts WHERE filename = 'q1.bin'")" \
		"$(python3 tests/tools/mimeref.py tests/data/mail/2.eml | awk -F'|' '$3 == "q1.bin" { print $4 }')"
	check "$et: no anomaly" "$(sqlite3 "$edb" "SELECT count(*) FROM anomalies")" 0
}

# Real clients as packaged, recorded against dovecot: every whole message
# they fetched is a file the server held, and the messages came as that
# client fetches them.  fetchmail: by IMAP RFC822.HEADER then
# BODY.PEEK[TEXT] (each message rebuilt whole from the two), by POP3
# RETR; mbsync: UID FETCH BODY.PEEK[]; getmail6: IMAP and POP3 RETR;
# offlineimap3: UID FETCH BODY.PEEK[].
check_client() { # tag bin pcap sha256-list what-came
	ft=$1 fbin=$2 fpcap=$3 fsums=$4 fwant=$5
	fdb=$B/$(echo "$1" | tr ' ' -)-$(basename "$fpcap" .pcap).db
	if ! "$fbin" read -q --replace -o "$fdb" "$fpcap" 2>"$fdb.err"; then
		bad "$ft: $fpcap not read"; cat "$fdb.err"; return
	fi
	fbad=$(sqlite3 "$fdb" "SELECT sha256 FROM messages WHERE complete AND NOT partial" |
		while read -r h; do grep -q "^$h " "$fsums" || echo "$h"; done)
	check "$ft: $(basename "$fpcap"): every whole message is a file the server held" "$fbad" ""
	check "$ft: $(basename "$fpcap"): the messages, as the client fetched them" \
		"$(sqlite3 "$fdb" "SELECT proto || ':' || coalesce(assembled, method) || ':' || count(*) FROM messages WHERE complete AND NOT partial GROUP BY proto, coalesce(assembled, method) ORDER BY 1" | tr '\n' ' ')" \
		"$fwant"
}

# TLS as its clients saw it (tests/tools/record-tls.sh): each session's
# version, suite (OpenSSL's name turned into IANA's by openssl ciphers
# -stdname), SNI, resumption; the server's certificate as openssl x509
# reads it; validation (self-signed) and the name a client asked for
# that the certificate lacks; JA3 and JA3S as tshark computes them.
# curl over TLS (record-tls.sh with CURL=1): IMAPS, POP3 STLS and SMTP
# STARTTLS, decrypted with curl's key log; each transfer's message must
# hash as the truth says (what the server held, or the file sent).
check_curl() { # tag bin pcap truth
	tt=$1 cbin=$2 cpcap=$3 ctruth=$4
	cdb=$B/curl-$(echo "$tt" | tr ' ' _).db
	"$cbin" read -q --replace -o "$cdb" --keylog "${ctruth%.truth}.keys" "$cpcap" 2>"$cdb.err" ||
		{ bad "$tt curl: read failed"; cat "$cdb.err"; return; }
	check "$tt curl: every session decrypted" \
		"$(sqlite3 "$cdb" "SELECT s.proto || ':' || s.tls || ':' || coalesce(t.decryption, '-') FROM sessions s LEFT JOIN tls t ON t.session_id = s.id ORDER BY s.id" | tr '\n' ' ')" \
		"imap:implicit:decrypted pop3:starttls:decrypted smtp:starttls:decrypted "
	check "$tt curl: each message as the servers held or were sent it" \
		"$(sqlite3 -separator ' ' "$cdb" "SELECT proto, method, sha256 FROM messages WHERE complete ORDER BY id")" \
		"$(cat "$ctruth")"
	check "$tt curl: the logins" \
		"$(sqlite3 "$cdb" "SELECT group_concat(mechanism || ':' || outcome, ' ') FROM auth")" \
		"$(sqlite3 "$cdb" "SELECT group_concat(mechanism || ':success', ' ') FROM auth")"
}

check_tls() { # tag bin pcap truth pem
	tt=$1 tbin=$2 tpcap=$3 ttruth=$4 tpem=$5
	tdb=$B/$(echo "$1" | tr ' ' -)-tls.db
	if ! "$tbin" read -q --replace -o "$tdb" "$tpcap" 2>"$tdb.err"; then
		bad "$tt: TLS capture not read"; cat "$tdb.err"; return
	fi
	check "$tt: each TLS session as its client saw it" \
		"$(sqlite3 -separator ' ' "$tdb" "SELECT s.proto, s.tls, t.sni, t.version, t.cipher, t.resumed, t.established FROM tls t JOIN sessions s ON s.id = t.session_id ORDER BY s.id")" \
		"$(while read -r proto mode _port sni ver cipher res; do
			iana=$(openssl ciphers -stdname -s -tls1_2 2>/dev/null | awk -v c="$cipher" '$3 == c { print $1 }')
			case $cipher in TLS_*) iana=$cipher ;; esac
			v=$(echo "${ver#TLSv}" | tr -d .); [ "$v" = 1 ] && v=10 # TLSv1
			echo "$proto $mode $sni TLSv$v $iana $res 1"
		done <"$ttruth")"
	fp=$(openssl x509 -in "$tpem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
	check "$tt: the certificate, as openssl x509 reads it" \
		"$(sqlite3 -separator '|' "$tdb" "SELECT DISTINCT sha256, serial, subject, issuer, datetime(not_before, 'unixepoch'), datetime(not_after, 'unixepoch'), key_type, key_bits, san_dns FROM certificates WHERE sender = 'server'")" \
		"$fp|$(openssl x509 -in "$tpem" -noout -serial | sed 's/.*=//')|$(openssl x509 -in "$tpem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')|$(openssl x509 -in "$tpem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')|$(date -u -d "$(openssl x509 -in "$tpem" -noout -startdate | sed 's/.*=//')" '+%Y-%m-%d %H:%M:%S')|$(date -u -d "$(openssl x509 -in "$tpem" -noout -enddate | sed 's/.*=//')" '+%Y-%m-%d %H:%M:%S')|rsa|2048|mail.example.test,imap.example.test"
	check "$tt: TLS 1.2 sessions that sent the chain: self-signed; the name it lacks" \
		"$(sqlite3 "$tdb" "SELECT group_concat(finding || ':' || detail, ' ') FROM (SELECT * FROM v_tls_findings ORDER BY session_id, finding)")" \
		"tls_cert_invalid:self-signed tls_cert_invalid:self-signed tls_cert_name_mismatch:pop.example.test tls_cert_invalid:self-signed tls_cert_invalid:self-signed tls_cert_invalid:self-signed tls_cert_invalid:self-signed tls_below_1_2:TLSv10 tls_cert_invalid:self-signed tls_cert_invalid:self-signed tls_cert_invalid:self-signed tls_cert_invalid:self-signed tls_cert_invalid:self-signed tls_cert_name_mismatch:mx.example.test"
	check "$tt: JA3 and JA3S as tshark computes them" \
		"$(sqlite3 -separator ' ' "$tdb" "SELECT t.ja3, t.ja3s FROM tls t ORDER BY t.session_id")" \
		"$(tshark -n -r "$tpcap" -Y "tls.handshake.type == 1 || tls.handshake.type == 2" -T fields -e tcp.stream -e tls.handshake.ja3 -e tls.handshake.ja3s 2>/dev/null |
			awk -F'\t' '$2 != "" { c[$1] = $2 } $3 != "" { s[$1] = $3 } END { for (k in c) print k, c[k], s[k] }' | sort -n | cut -d' ' -f2-)"
	# With the clients' key log, every session opens and goes on as in
	# clear: the logins, the message fetched over IMAPS is the one the
	# server held, TLS 1.3's encrypted certificates are read.
	if ! "$tbin" read -q --replace -o "$tdb.keys.db" --keylog "${ttruth%.truth}.keys" \
		"$tpcap" 2>"$tdb.err"; then
		bad "$tt: TLS capture not read with its key log"; cat "$tdb.err"; return
	fi
	check "$tt: with the key log, every session is decrypted" \
		"$(sqlite3 "$tdb.keys.db" "SELECT count(*) FILTER (WHERE decryption = 'decrypted'), count(*) FROM tls")" \
		"$(wc -l <"$ttruth")|$(wc -l <"$ttruth")"
	# every session logs in but the resumed pair (CAPABILITY, LOGOUT)
	check "$tt: decrypted logins, as the clients sent them" \
		"$(sqlite3 "$tdb.keys.db" "SELECT count(*), count(DISTINCT session_id) FROM auth WHERE username = 'alice' AND password = 'wonderland' AND outcome = 'success'")" \
		"$(($(wc -l <"$ttruth") - 2))|$(($(wc -l <"$ttruth") - 2))"
	m=$(sha256sum <tests/data/mail/1.eml | cut -d' ' -f1)
	check "$tt: the message fetched over TLS 1.3, 1.2 CBC and 1.0, and submitted to exim over STARTTLS and 465, is the one sent and held" \
		"$(sqlite3 "$tdb.keys.db" "SELECT group_concat(m.proto || ' ' || m.method || ' ' || t.version || ' ' || m.sha256 || ' ' || m.complete, ', ') FROM messages m JOIN tls t ON t.session_id = m.session_id")" \
		"imap FETCH TLSv13 $m 1, imap FETCH TLSv12 $m 1, imap FETCH TLSv10 $m 1, imap FETCH TLSv12 $m 1, imap FETCH TLSv13 $m 1, imap FETCH TLSv12 $m 1, smtp DATA TLSv13 $m 1, smtp DATA TLSv12 $m 1"
	check "$tt: COMPRESS=DEFLATE inside TLS 1.3: decrypted, then inflated" \
		"$(sqlite3 "$tdb.keys.db" "SELECT s.compression || ' ' || t.version || ' ' || (SELECT group_concat(verb, ' ') FROM (SELECT verb FROM commands c WHERE c.session_id = s.id ORDER BY seq)) || ' ' || (SELECT sha256 FROM messages m WHERE m.session_id = s.id) FROM sessions s JOIN tls t ON t.session_id = s.id WHERE s.compression IS NOT NULL")" \
		"deflate TLSv13 LOGIN COMPRESS EXAMINE FETCH LOGOUT $m"
	check "$tt: TLS 1.3 certificates, read once decrypted" \
		"$(sqlite3 "$tdb.keys.db" "SELECT count(*) FROM certificates c JOIN tls t ON t.session_id = c.session_id WHERE t.version = 'TLSv13' AND c.sha256 = '$fp'")" 4
	check "$tt: no anomaly but the certificate's and TLS 1.0's" \
		"$(sqlite3 "$tdb.keys.db" "SELECT group_concat(name) FROM anomalies WHERE name NOT LIKE 'tls_cert%'")" tls_below_1_2
	"$tbin" read -q --replace -o "$tdb.redact.db" --redact --keylog "${ttruth%.truth}.keys" "$tpcap" 2>/dev/null
	check "$tt: --redact drops decrypted passwords too" \
		"$(sqlite3 "$tdb.redact.db" "SELECT count(password), sum(redacted) FROM auth")" "0|$(($(wc -l <"$ttruth") - 2))"
	# The server's RSA key alone opens the sessions with RSA key
	# exchange (TLS 1.0 CBC, 1.2 GCM with the extended master secret,
	# 1.2 CBC without it), and no other.
	"$tbin" read -q --replace -o "$tdb.rsa.db" --tls-key "${ttruth%.truth}.key" "$tpcap" 2>"$tdb.err"
	check "$tt: --tls-key opens the RSA key exchange sessions, and only them" \
		"$(sqlite3 "$tdb.rsa.db" "SELECT group_concat(cipher || ':' || decryption, ' ') FROM (SELECT * FROM tls WHERE cipher LIKE 'TLS_RSA_WITH_%' ORDER BY session_id)") $(sqlite3 "$tdb.rsa.db" "SELECT count(*) FROM tls WHERE cipher NOT LIKE 'TLS_RSA_WITH_%' AND decryption = 'no key for this client random'")" \
		"TLS_RSA_WITH_AES_128_CBC_SHA:decrypted (RSA key exchange) TLS_RSA_WITH_AES_128_GCM_SHA256:decrypted (RSA key exchange) TLS_RSA_WITH_AES_256_CBC_SHA256:decrypted (RSA key exchange) $(($(wc -l <"$ttruth") - 3))"
	# tshark, given the same key log, decrypts the same commands (its
	# SMTP command field holds four letters: STARTTLS is STAR there; it
	# does not inflate IMAP COMPRESS, so that session is left out)
	zs=" $(sqlite3 "$tdb.keys.db" "SELECT group_concat(id - 1, ' ') FROM sessions WHERE compression IS NOT NULL") "
	check "$tt: the decrypted commands, as tshark decrypts them" \
		"$(sqlite3 -separator ' ' "$tdb.keys.db" "SELECT s.id - 1, (SELECT group_concat(v, ' ') FROM (SELECT CASE WHEN s.proto = 'smtp' THEN substr(verb, 1, 4) ELSE verb END AS v FROM commands c WHERE c.session_id = s.id ORDER BY seq)) FROM sessions s WHERE s.compression IS NULL ORDER BY s.id")" \
		"$(tshark -n -r "$tpcap" -o "tls.keylog_file:${ttruth%.truth}.keys" -Y "imap.request || pop.request || smtp.req" \
			-T fields -E separator='|' -e tcp.stream -e imap.request.command -e pop.request.command -e smtp.req.command 2>/dev/null |
			awk -F'|' -v zs="$zs" 'index(zs, " " $1 " ") == 0 { c = $2 $3 $4; v[$1] = v[$1] (v[$1] == "" ? "" : " ") toupper(c) } END { for (k in v) print k, v[k] }' | sort -n)"
	# a TLS 1.3 KeyUpdate from openssl s_client: both sides' keys
	# followed (the commands after it are above), a client certificate
	check "$tt: the client certificate one client presented" \
		"$(sqlite3 "$tdb.keys.db" "SELECT sha256 || ' ' || subject FROM certificates WHERE sender = 'client'")" \
		"$(openssl x509 -in "${ttruth%.truth}-client.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f') $(openssl x509 -in "${ttruth%.truth}-client.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
	check "$tt: --tls-key: their logins" \
		"$(sqlite3 "$tdb.rsa.db" "SELECT count(*) FROM auth WHERE password = 'wonderland' AND outcome = 'success'")" 3
}

for bin in ./mailsift build/san/mailsift; do
	tag=$( [ "$bin" = ./mailsift ] && echo rel || echo san )
	check_tls "$tag shipped" "$bin" tests/recorded/dovecot-tls.pcap \
		tests/recorded/dovecot-tls.truth tests/recorded/dovecot-tls.pem
	check_curl "$tag shipped" "$bin" tests/recorded/curl-tls.pcap \
		tests/recorded/curl-tls.truth
	check_lmtp "$tag shipped" "$bin" tests/recorded/dovecot-lmtp.pcap \
		tests/recorded/dovecot-lmtp.truth
	check_files "$tag shipped" "$bin" tests/recorded/dovecot-files.pcap \
		tests/recorded/dovecot-files.truth
	check_exim "$tag shipped" "$bin" tests/recorded/exim-lmtp.pcap \
		tests/recorded/exim-lmtp.truth
	check_client "$tag shipped" "$bin" tests/recorded/fetchmail.pcap \
		tests/recorded/dovecot-maildir.sha256 "imap:HEADER+TEXT:2 pop3:RETR:2 "
	check_client "$tag shipped" "$bin" tests/recorded/mbsync.pcap \
		tests/recorded/dovecot-maildir.sha256 "imap:FETCH:2 "
	# recorded in another run: the server's files then are their truth
	check_client "$tag shipped" "$bin" tests/recorded/getmail.pcap \
		tests/recorded/clients-maildir.sha256 "imap:FETCH:2 pop3:RETR:2 "
	check_client "$tag shipped" "$bin" tests/recorded/offlineimap.pcap \
		tests/recorded/clients-maildir.sha256 "imap:FETCH:2 "
	db=$B/$tag.db
	if ! "$bin" read -q --replace -o "$db" -x "$B/$tag.x" tests/recorded/dovecot-imap.pcap \
		tests/recorded/dovecot-pop3.pcap 2>"$B/$tag.err"; then
		bad "$tag shipped: mailsift read failed"; cat "$B/$tag.err"; continue
	fi
	sqlite3 -separator '|' "$db" "$QUERY" >"$B/$tag.out"
	if diff -u tests/data/dovecot.expect "$B/$tag.out" >"$B/$tag.diff"; then
		ok "$tag shipped: log matches tests/data/dovecot.expect"
	else
		bad "$tag shipped: log differs"; head -40 "$B/$tag.diff"
	fi
	check_messages "$tag shipped" "$db" "$B/$tag.x" tests/recorded/dovecot-maildir.sha256
done

why=""
[ "$(id -u)" = 0 ] || why="not root"
for t in dovecot tcpdump curl unshare ip; do
	command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null 2>&1 || why="$why no $t"
done
if [ -z "$why" ] && PATH=/usr/bin:/usr/sbin:/bin:/sbin:$PATH tests/tools/record-dovecot.sh "$B/live" >"$B/live/record.log" 2>&1; then
	db=$B/live/live.db
	if build/san/mailsift read -q --replace -o "$db" -x "$B/live/x" "$B/live/dovecot-imap.pcap" \
		"$B/live/dovecot-pop3.pcap" 2>"$B/live/read.err"; then
		ok "live: recorded from dovecot and read"
		check_messages "live" "$db" "$B/live/x" "$B/live/dovecot-maildir.sha256"
		check_lmtp "live" build/san/mailsift "$B/live/dovecot-lmtp.pcap" \
			"$B/live/dovecot-lmtp.truth"
		check_files "live" build/san/mailsift "$B/live/dovecot-files.pcap" \
			"$B/live/dovecot-files.truth"
		check_exim "live" build/san/mailsift "$B/live/exim-lmtp.pcap" \
			"$B/live/exim-lmtp.truth"
		if [ -f "$B/live/dovecot-content.pcap" ]; then
			check_content "live" build/san/mailsift \
				"$B/live/dovecot-content.pcap" \
				"$B/live/dovecot-content.truth" "$B/live/dovecot-dkim.truth"
		else
			bad "live: no content recording (exim)"
		fi
		check_client "live" build/san/mailsift "$B/live/fetchmail.pcap" \
			"$B/live/dovecot-maildir.sha256" "imap:HEADER+TEXT:2 pop3:RETR:2 "
		check_client "live" build/san/mailsift "$B/live/mbsync.pcap" \
			"$B/live/dovecot-maildir.sha256" "imap:FETCH:2 "
		check_client "live" build/san/mailsift "$B/live/getmail.pcap" \
			"$B/live/dovecot-maildir.sha256" "imap:FETCH:2 pop3:RETR:2 "
		check_client "live" build/san/mailsift "$B/live/offlineimap.pcap" \
			"$B/live/dovecot-maildir.sha256" "imap:FETCH:2 "
	else
		bad "live: mailsift read failed"; cat "$B/live/read.err"
	fi
	if PATH=/usr/bin:/usr/sbin:/bin:/sbin:$PATH tests/tools/record-tls.sh "$B/live" >"$B/live/record-tls.log" 2>&1; then
		check_tls "live" build/san/mailsift "$B/live/dovecot-tls.pcap" \
			"$B/live/dovecot-tls.truth" "$B/live/dovecot-tls.pem"
	else
		bad "live: TLS recording failed"; tail -20 "$B/live/record-tls.log"
	fi
	if CURL=1 PATH=/usr/bin:/usr/sbin:/bin:/sbin:$PATH tests/tools/record-tls.sh "$B/live" >"$B/live/record-curl.log" 2>&1; then
		check_curl "live" build/san/mailsift "$B/live/curl-tls.pcap" \
			"$B/live/curl-tls.truth"
	else
		bad "live: curl recording failed"; tail -20 "$B/live/record-curl.log"
	fi
elif [ -z "$why" ]; then
	bad "live: recording failed"; tail -20 "$B/live/record.log"
else
	skipped=1; echo "skip live dovecot recording:$why"
fi

echo "dovecot: $pass passed, $fail failed$( [ $skipped = 1 ] && echo ', live recording skipped')"
[ "$fail" -eq 0 ]
