#!/bin/sh
# Records real IMAP and POP3 sessions: a dovecot server and real clients
# (Python's imaplib and poplib, curl) talk over loopback inside a network
# namespace that this script creates, so no packet can reach any other
# address; tcpdump records each protocol to its own pcap.
#
# usage: record-dovecot.sh OUTDIR
#   writes OUTDIR/dovecot-imap.pcap, OUTDIR/dovecot-pop3.pcap and
#   OUTDIR/dovecot-maildir.sha256 (SHA-256 and name of every message file
#   the server held: the three seeded ones and the one APPEND uploaded);
#   OUTDIR/dovecot-lmtp.pcap, one LMTP delivery to alice, bob and a user
#   that does not exist, and OUTDIR/dovecot-lmtp.truth: the SHA-256 of
#   the message sent, and how many copies each mailbox then held;
#   OUTDIR/fetchmail.pcap, fetchmail (Debian's) fetching alice's INBOX by
#   IMAP and by POP3 (when fetchmail is installed); OUTDIR/mbsync.pcap,
#   mbsync (isync) pulling INBOX into a Maildir (when installed);
#   OUTDIR/getmail.pcap, getmail6 retrieving INBOX by IMAP and by POP3,
#   OUTDIR/offlineimap.pcap, offlineimap3 synchronising INBOX (each when
#   installed); OUTDIR/dovecot-files.pcap, tests/data/files.eml delivered
#   to bob by Python's LMTP client, and OUTDIR/dovecot-files.truth.
# Needs root (unshare -n), dovecot-imapd, dovecot-pop3d, dovecot-lmtpd,
# tcpdump, curl, python3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$1" && pwd)
T=$(mktemp -d /tmp/mailsift-dovecot.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T" # the server runs as nobody
USER=alice PASS=wonderland

mkdir -p "$T/run" "$T/state" "$T/home/$USER/Maildir/new" \
	"$T/home/$USER/Maildir/cur" "$T/home/$USER/Maildir/tmp"
echo "$USER:{PLAIN}$PASS" >"$T/users"
echo "bob:{PLAIN}builder" >>"$T/users"
# Seeded in order; names fix the UIDs dovecot gives them.
i=0
for f in "$here"/../data/mail/*.eml; do
	i=$((i + 1))
	cp "$f" "$T/home/$USER/Maildir/cur/170000000$i.M${i}P1.seed:2,"
done
chown -R nobody:nogroup "$T/home"
cat >"$T/dovecot.conf" <<CONF
protocols = imap pop3 lmtp
listen = 127.0.0.1
postmaster_address = postmaster@example.org
base_dir = $T/run
state_dir = $T/state
log_path = $T/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 apop
# an MTA names recipients with their domain (exim: alice@example.org)
auth_username_format = %Ln
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
mail_save_crlf = yes
pop3_uidl_format = %08Xu%08Xv
mail_plugins = \$mail_plugins zlib
protocol imap {
  mail_plugins = \$mail_plugins imap_zlib
}
service anvil {
  chroot =
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = 24
  }
}
service imap-login {
  chroot =
}
service pop3-login {
  chroot =
}
CONF

unshare -n sh -eu -c '
	T=$1 here=$2 USER=$3 PASS=$4
	# record NAME FILTER: tcpdump on loopback into $T/NAME.pcap, until
	# record_stop (which first lets the last packets land)
	recording=
	record() {
		tcpdump -i lo -U -s 0 -w "$T/$1.pcap" "$2" 2>/dev/null &
		recording="$recording $!"
	}
	record_stop() {
		sleep 1
		kill -INT $recording
		wait $recording || true
		recording=
	}
	ip link set lo up
	dovecot -c "$T/dovecot.conf"
	record imap "tcp port 143"
	record pop3 "tcp port 110"
	record lmtp "tcp port 24"
	sleep 1
	python3 "$here/mailclient.py" 127.0.0.1 "$USER" "$PASS" imap
	curl -s -o /dev/null "imap://127.0.0.1/INBOX;UID=2" -u "$USER:$PASS"
	python3 "$here/mailclient.py" 127.0.0.1 "$USER" "$PASS" pop3
	python3 "$here/mailclient.py" 127.0.0.1 "$USER" "$PASS" lmtp >"$T/lmtp.sent"
	record_stop
	# fetchmail, as packaged: IMAP (RFC822.HEADER, then BODY.PEEK[TEXT])
	# and POP3, keeping the mail on the server
	if command -v fetchmail >/dev/null 2>&1; then
		record fetchmail "tcp port 143 or tcp port 110"
		sleep 1
		for proto in IMAP POP3; do
			printf "poll 127.0.0.1 protocol %s auth password user \"%s\" password \"%s\" keep fetchall sslproto \"\" mda \"cat >>%s/fetched.%s\"\n" \
				$proto "$USER" "$PASS" "$T" $proto >"$T/fetchmailrc"
			chmod 600 "$T/fetchmailrc"
			HOME=$T fetchmail -f "$T/fetchmailrc" --nosyslog -s -i "$T/fetchids" >>"$T/fetchmail.log" 2>&1 || true
		done
		record_stop
	fi
	# mbsync (isync), as packaged: INBOX synchronised to a local Maildir
	if command -v mbsync >/dev/null 2>&1; then
		record mbsync "tcp port 143"
		sleep 1
		mkdir -p "$T/mbsync/INBOX"
		cat >"$T/mbsyncrc" <<RC
IMAPAccount test
Host 127.0.0.1
User $USER
Pass $PASS
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account test

MaildirStore local
Path $T/mbsync/
Inbox $T/mbsync/INBOX

Channel inbox
Far :remote:INBOX
Near :local:
Sync Pull
Create Near
SyncState *
RC
		mbsync -c "$T/mbsyncrc" -a >>"$T/mbsync.log" 2>&1 || true
		record_stop
	fi
	# getmail6, as packaged: INBOX by IMAP and by POP3 into a Maildir,
	# leaving the mail on the server
	if command -v getmail >/dev/null 2>&1; then
		record getmail "tcp port 143 or tcp port 110"
		sleep 1
		for r in SimpleIMAPRetriever SimplePOP3Retriever; do
			mkdir -p "$T/getmail/$r/Maildir/new" "$T/getmail/$r/Maildir/cur" "$T/getmail/$r/Maildir/tmp"
			chown -R nobody "$T/getmail/$r/Maildir" # getmail will not deliver as root
			cat >"$T/getmail/$r/rc" <<RC
[retriever]
type = $r
server = 127.0.0.1
username = $USER
password = $PASS
$( [ $r = SimpleIMAPRetriever ] && echo "mailboxes = (\"INBOX\",)" )

[destination]
type = Maildir
path = $T/getmail/$r/Maildir/
user = nobody

[options]
read_all = true
delete = false
verbose = 0
RC
			getmail --getmaildir "$T/getmail/$r" --rcfile rc >>"$T/getmail.log" 2>&1 || true
		done
		record_stop
	fi
	# offlineimap3, as packaged: INBOX synchronised read-only to a Maildir
	if command -v offlineimap >/dev/null 2>&1; then
		record offlineimap "tcp port 143"
		sleep 1
		mkdir -p "$T/oi/mail" "$T/oi/meta"
		cat >"$T/oi/rc" <<RC
[general]
accounts = test
metadata = $T/oi/meta
ui = quiet

[Account test]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = $T/oi/mail

[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = 143
remoteuser = $USER
remotepass = $PASS
ssl = no
starttls = no
readonly = True
folderfilter = lambda f: f == "INBOX"
RC
		HOME=$T offlineimap -c "$T/oi/rc" -o >>"$T/offlineimap.log" 2>&1 || true
		record_stop
	fi
	# files the old ways (uuencode, TNEF), delivered to bob by
	# Python'"'"'s LMTP client
	record files "tcp port 24"
	sleep 1
	python3 "$here/mailclient.py" 127.0.0.1 "$USER" "$PASS" lmtp-files "$here/../data/files.eml"
	record_stop
	# exim (Debian'"'"'s exim4) relaying to dovecot by LMTP, with CHUNKING
	# (BDAT): alice and bob accepted, nosuch refused
	if command -v exim >/dev/null 2>&1; then
		record exim "tcp port 24"
		sleep 1
		mkdir -p "$T/exim/spool" "$T/exim/log"
		chown -R Debian-exim "$T/exim" 2>/dev/null || chown -R nobody "$T/exim"
		cat >"$T/exim.conf" <<CONF
primary_hostname = relay.example.net
spool_directory = $T/exim/spool
log_file_path = $T/exim/log/%slog
keep_environment =
begin routers
to_dovecot:
  driver = manualroute
  domains = example.org
  transport = dovecot_lmtp
  route_list = * 127.0.0.1
  self = send
begin transports
dovecot_lmtp:
  driver = smtp
  protocol = lmtp
  port = 24
  allow_localhost
  hosts_try_chunking = *
  hosts_avoid_tls = *
CONF
		sed "s/^Message-ID: .*/Message-ID: <exim-1@example.net>/" "$here/../data/mail/2.eml" |
			exim -C "$T/exim.conf" -odf -f sender@example.net \
			alice@example.org nosuch@example.org bob@example.org >>"$T/exim.log" 2>&1 || true
		record_stop
		cat "$T/exim/log/"* >>"$T/exim.log" 2>/dev/null || true
		# what mail carries (archives, an executable named .pdf, an
		# encrypted zip; DKIM-signed messages, one changed after
		# signing), relayed by exim to bob in BDAT chunks
		record content "tcp port 24"
		sleep 1
		for m in content dkim-relaxed dkim-altered; do
			exim -C "$T/exim.conf" -odf -f sender@example.net \
				bob@example.org <"$here/../data/$m.eml" >>"$T/exim.log" 2>&1 || true
		done
		record_stop
	fi
	doveadm -c "$T/dovecot.conf" stop
' sh "$T" "$here" "$USER" "$PASS"

cp "$T/imap.pcap" "$out/dovecot-imap.pcap"
cp "$T/pop3.pcap" "$out/dovecot-pop3.pcap"
cp "$T/lmtp.pcap" "$out/dovecot-lmtp.pcap"
[ -f "$T/fetchmail.pcap" ] && cp "$T/fetchmail.pcap" "$out/fetchmail.pcap"
[ -f "$T/mbsync.pcap" ] && cp "$T/mbsync.pcap" "$out/mbsync.pcap"
cp "$T/files.pcap" "$out/dovecot-files.pcap"
[ -f "$T/getmail.pcap" ] && cp "$T/getmail.pcap" "$out/getmail.pcap"
[ -f "$T/offlineimap.pcap" ] && cp "$T/offlineimap.pcap" "$out/offlineimap.pcap"
if [ -f "$T/exim.pcap" ]; then
	cp "$T/exim.pcap" "$out/exim-lmtp.pcap"
	# what exim sent, from each stored copy less the fields dovecot put
	# on top (Return-Path, Delivered-To, its own Received)
	for u in alice bob; do
		f=$(grep -l "Message-ID: <exim-1@example.net>" "$T/home/$u/Maildir/new/"* \
			"$T/home/$u/Maildir/cur/"* 2>/dev/null | head -1)
		[ -n "$f" ] && echo "$u $(python3 "$here/unlmtp.py" "$f" | sha256sum | cut -d" " -f1)"
	done >"$out/exim-lmtp.truth"
fi
# What bob's mailbox stored of the content messages, read by other
# programs: the parts and archives by Python, file(1), 7z and yara
# (contentref.py), the DKIM body by dkimpy (the signed header fields
# are intact in the stored copies: only the body decides).
if [ -f "$T/content.pcap" ]; then
	cp "$T/content.pcap" "$out/dovecot-content.pcap"
	stored_of() {
		grep -l "Message-ID: <$1>" "$T/home/bob/Maildir/new/"* \
			"$T/home/bob/Maildir/cur/"* 2>/dev/null | head -1
	}
	c=$(stored_of content.1@supplier.example)
	{
		python3 "$here/contentref.py" "$c" 'Tr0ub4dor&3'
		python3 "$here/contentref.py" --yara "$here/../data/content.yar" "$c" 'Tr0ub4dor&3'
	} >"$out/dovecot-content.truth"
	for id in dkim.1@examp1e.org dkim.3@examp1e.org; do
		/usr/bin/python3 -c '
import dkim, sys
der = b"".join(l for l in open(sys.argv[2], "rb").read().splitlines() if not l.startswith(b"-----"))
m = open(sys.argv[1], "rb").read()
print("match" if dkim.verify(m, dnsfunc=lambda n, timeout=5: b"v=DKIM1; k=rsa; p=" + der) else "mismatch")' \
			"$(stored_of "$id")" "$here/../data/dkim.pub"
	done >"$out/dovecot-dkim.truth"
fi
# The files inside the message bob's mailbox stored, decoded by other
# programs: the Debian tnef tool for winmail.dat, Python's uu module for
# uuencode.  One "NAME SHA256" line each.
stored=$(grep -l "Message-ID: <files-1@example.net>" "$T/home/bob/Maildir/new/"* \
	"$T/home/bob/Maildir/cur/"* 2>/dev/null | head -1)
python3 "$here/filesref.py" "$stored" "$T/tnef" >"$out/dovecot-files.truth"
{
	echo "sent $(cat "$T/lmtp.sent")"
	for u in alice bob; do
		echo "stored $u $(grep -l 'Message-ID: <lmtp-1@example.net>' \
			"$T/home/$u/Maildir/new/"* "$T/home/$u/Maildir/cur/"* \
			2>/dev/null | wc -l)"
	done
} >"$out/dovecot-lmtp.truth"
{
	(cd "$here/../data/mail" && sha256sum -- *.eml)
	(cd "$T/home/$USER/Maildir/.Sent/cur" && for f in *; do
		printf '%s  Sent\n' "$(sha256sum <"$f" | cut -d" " -f1)"
	done)
	# INBOX as it is at the end (what fetchmail found: a seeded message
	# and the one LMTP delivered, as dovecot stored it)
	for f in "$T/home/$USER/Maildir/cur/"* "$T/home/$USER/Maildir/new/"*; do
		if [ -f "$f" ]; then
			printf '%s  INBOX\n' "$(sha256sum <"$f" | cut -d" " -f1)"
		fi
	done
} >"$out/dovecot-maildir.sha256"
