#!/bin/sh
# Records real TLS mail sessions: dovecot with a certificate made here
# (IMAPS on 993, POP3S on 995, STARTTLS on 143 and STLS on 110; TLS 1.0
# to 1.3, AES-GCM, ChaCha20-Poly1305, AES-CBC with and without
# encrypt-then-MAC, a resumed session, RSA key exchange, a client
# certificate, a KeyUpdate, COMPRESS=DEFLATE inside TLS) and real
# clients (Python's ssl through imaplib and poplib, openssl s_client),
# over loopback inside a network namespace that this script creates, so
# no packet can reach any other address.  Every client logs its TLS keys.
#
# With CURL=1, records instead curl's sessions against the same servers
# (curl logs its keys through SSLKEYLOGFILE): an IMAPS fetch, a POP3
# STLS retrieval and an SMTP STARTTLS submission, into OUTDIR/curl-tls.pcap,
# OUTDIR/curl-tls.keys and OUTDIR/curl-tls.truth (a line a transfer:
# PROTO METHOD SHA-256 of the message as the server held or was sent it).
#
# usage: record-tls.sh OUTDIR
#   writes OUTDIR/dovecot-tls.pcap, the sessions in order;
#   OUTDIR/dovecot-tls.keys, their key log (NSS format, for decryption);
#   OUTDIR/dovecot-tls.pem, the server's certificate, and
#   OUTDIR/dovecot-tls.key, its key (made for the test, for --tls-key:
#   two sessions use RSA key exchange); OUTDIR/dovecot-tls-client.pem,
#   the certificate one client presents; OUTDIR/dovecot-tls.truth, a line a session as its
#   client's TLS library saw it: PROTO MODE CLIENT_PORT SNI VERSION
#   CIPHER RESUMED (OpenSSL's names).
# Needs root (unshare -n), dovecot-imapd, dovecot-pop3d, tcpdump, openssl,
# python3; and exim4 for the SMTP sessions (STARTTLS on 587, TLS on 465).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$1" && pwd)
T=$(mktemp -d /tmp/mailsift-tls.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T" # the server runs as nobody
USER=alice PASS=wonderland

mkdir -p "$T/run" "$T/state" "$T/home/$USER/Maildir/new" \
	"$T/home/$USER/Maildir/cur" "$T/home/$USER/Maildir/tmp"
echo "$USER:{PLAIN}$PASS" >"$T/users"
cp "$here/../data/mail/1.eml" "$T/home/$USER/Maildir/cur/1700000001.M1P1.seed:2,"
chown -R nobody:nogroup "$T/home"
# A self-signed certificate for two names; "pop.example.test", which a
# client asks for, is not one of them.
# A client certificate, which one session presents (dovecot asks every
# client for one; none has to give it)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-days 3650 -keyout "$T/client-key.pem" -out "$T/client.pem" \
	-subj "/O=mailsift tests/CN=alice" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout "$T/key.pem" \
	-out "$T/cert.pem" -subj "/O=mailsift tests/CN=mail.example.test" \
	-addext "subjectAltName=DNS:mail.example.test,DNS:imap.example.test" \
	2>/dev/null
cat >"$T/dovecot.conf" <<CONF
protocols = imap pop3
listen = 127.0.0.1
base_dir = $T/run
state_dir = $T/state
log_path = $T/dovecot.log
ssl = yes
ssl_cert = <$T/cert.pem
ssl_key = <$T/key.pem
ssl_verify_client_cert = yes
ssl_ca = <$T/client.pem
# TLS 1.0 too, and its suites, for one session of the recording
ssl_min_protocol = TLSv1
ssl_cipher_list = ALL:@SECLEVEL=0
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
default_login_user = nobody
default_internal_user = nobody
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $T/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$T/home/%u
}
mail_location = maildir:~/Maildir
mail_plugins = \$mail_plugins zlib
protocol imap {
  mail_plugins = \$mail_plugins imap_zlib
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
  # one process for every connection, so that a session can be resumed
  service_count = 0
}
service pop3-login {
  chroot =
}
CONF
# exim (Debian's exim4) taking submissions: STARTTLS on 587, TLS on 465,
# AUTH PLAIN for alice; what it accepts is dropped (the client's file is
# the truth of what was sent)
mkdir -p "$T/exim/spool" "$T/exim/log"
chmod 644 "$T/key.pem" # a throw-away key; exim reads it as its own user
chown -R Debian-exim "$T/exim" 2>/dev/null || chown -R nobody "$T/exim"
cat >"$T/exim.conf" <<CONF
primary_hostname = mx.example.test
spool_directory = $T/exim/spool
log_file_path = $T/exim/log/%slog
keep_environment =
local_interfaces = 127.0.0.1
daemon_smtp_ports = 587 : 465
tls_on_connect_ports = 465
tls_advertise_hosts = *
tls_certificate = $T/cert.pem
tls_privatekey = $T/key.pem
acl_smtp_rcpt = accept_all
begin acl
accept_all:
  accept
begin routers
drop:
  driver = redirect
  data = :blackhole:
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{$USER}}{eq{\$auth3}{$PASS}}}}
  server_set_id = \$auth2
CONF

unshare -n sh -eu -c '
	T=$1 here=$2 USER=$3 PASS=$4
	ip link set lo up
	dovecot -c "$T/dovecot.conf"
	if command -v exim >/dev/null 2>&1; then
		exim -C "$T/exim.conf" -bd -oX "587:465" -oP "$T/exim.pid" \
			>>"$T/exim.log" 2>&1
		sleep 1
	fi
	tcpdump -i lo -U -s 0 -w "$T/tls.pcap" \
		"tcp port 993 or tcp port 995 or tcp port 143 or tcp port 110 or tcp port 587 or tcp port 465" \
		2>/dev/null &
	dump=$!
	sleep 1
	if [ "${CURL:-}" = 1 ]; then
		# curl: IMAPS, POP3 with STLS, SMTP submission with STARTTLS;
		# it trusts the test certificate and logs its keys
		m=$here/../data/mail/1.eml
		h=$(sha256sum "$m" | cut -d" " -f1)
		C="curl -s --cacert $T/cert.pem --user $USER:$PASS"
		SSLKEYLOGFILE=$T/keys $C \
			"imaps://mail.example.test/INBOX;UID=1" \
			--resolve mail.example.test:993:127.0.0.1 -o "$T/imap.eml"
		echo "imap FETCH $(sha256sum "$T/imap.eml" | cut -d" " -f1)" >"$T/truth"
		SSLKEYLOGFILE=$T/keys $C --ssl-reqd \
			"pop3://mail.example.test/1" \
			--resolve mail.example.test:110:127.0.0.1 -o "$T/pop3.eml"
		echo "pop3 RETR $(sha256sum "$T/pop3.eml" | cut -d" " -f1)" >>"$T/truth"
		if [ -f "$T/exim.pid" ]; then
			SSLKEYLOGFILE=$T/keys $C --ssl-reqd \
				"smtp://mail.example.test:587" \
				--resolve mail.example.test:587:127.0.0.1 \
				--mail-from "$USER@example.test" \
				--mail-rcpt "bob@example.test" -T "$m"
			echo "smtp DATA $h" >>"$T/truth"
		fi
	else
	TLS_CLIENT_CERT=$T/client.pem TLS_CLIENT_KEY=$T/client-key.pem \
		python3 "$here/tlsclient.py" 127.0.0.1 "$USER" "$PASS" "$T/keys" \
		>"$T/truth"
	# POP3 STLS with TLS 1.3 and ChaCha20-Poly1305, by openssl s_client
	# "K" makes s_client send a KeyUpdate (RFC 8446 4.6.3) before STAT;
	# a line at a time, so that s_client reads it as its command ("quit"
	# in lower case: "Q" would be the command that stops s_client)
	{ for l in "USER $USER" "PASS $PASS" K STAT quit; do
		sleep 0.3
		[ "$l" = K ] && printf "K\n" || printf "%s\r\n" "$l"
	done; sleep 0.5; } |
		openssl s_client -connect 127.0.0.1:110 -starttls pop3 \
		-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 \
		-servername mail.example.test -keylogfile "$T/keys" \
		>"$T/s_client.log" 2>&1 || true
	echo "pop3 starttls - mail.example.test" \
		"$(sed -n "s/^New, \(TLSv1\.[0-9]\), Cipher is \(.*\)$/\1 \2/p" "$T/s_client.log" | head -1)" 0 \
		>>"$T/truth"
	# SMTP submission of tests/data/mail/1.eml (dot-stuffed lines in it)
	if [ -f "$T/exim.pid" ]; then
		python3 "$here/tlsclient.py" 127.0.0.1 "$USER" "$PASS" "$T/keys" \
			"$here/../data/mail/1.eml" >>"$T/truth"
	fi
	fi
	sleep 1
	kill -INT $dump
	wait $dump || true
	doveadm -c "$T/dovecot.conf" stop 2>/dev/null || kill $(cat "$T/run/master.pid")
	[ -f "$T/exim.pid" ] && kill "$(cat "$T/exim.pid")" 2>/dev/null || true
' sh "$T" "$here" "$USER" "$PASS"

if [ "${CURL:-}" = 1 ]; then
	cp "$T/tls.pcap" "$out/curl-tls.pcap"
	cp "$T/keys" "$out/curl-tls.keys"
	cp "$T/truth" "$out/curl-tls.truth"
	cat "$out/curl-tls.truth"
	exit 0
fi
cp "$T/tls.pcap" "$out/dovecot-tls.pcap"
cp "$T/keys" "$out/dovecot-tls.keys"
cp "$T/cert.pem" "$out/dovecot-tls.pem"
cp "$T/key.pem" "$out/dovecot-tls.key" # a test key, for --tls-key
cp "$T/client.pem" "$out/dovecot-tls-client.pem"
cp "$T/truth" "$out/dovecot-tls.truth"
cat "$out/dovecot-tls.truth"
