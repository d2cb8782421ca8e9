# Every answer a page of mailsift serve asks for, on the log $1, one a
# line: "NAME<tab>PATH". Its values (a session, a message, a sender, a
# client, a hash, a word) are taken from the message in the middle of the
# log, so that an answer cannot be quick by finding its rows first.
# Sourced by bench/serve.sh (times) and tests/scale.sh (work).
serve_answers() {
	_log=$1
	_msgs=$(sqlite3 "$_log" "SELECT count(*) FROM messages")
	_mid=$(sqlite3 "$_log" "SELECT id FROM messages ORDER BY id LIMIT 1 OFFSET $((_msgs / 2))")
	_sid=$(sqlite3 "$_log" "SELECT session_id FROM messages WHERE id = $_mid")
	_from=$(sqlite3 "$_log" "SELECT from_addr FROM messages WHERE id = $_mid" | sed 's/.*<//; s/>.*//')
	_to=$(sqlite3 "$_log" "SELECT to_addrs FROM messages WHERE id = $_mid" | sed 's/.*<//; s/>.*//; s/,.*//')
	_domain=${_from#*@}
	_sha=$(sqlite3 "$_log" "SELECT sha256 FROM messages WHERE id = $_mid")
	_client=$(sqlite3 "$_log" "SELECT client_ip FROM sessions WHERE id = $_sid")
	_day=$(sqlite3 "$_log" "SELECT date(begin_ts, 'unixepoch') FROM messages WHERE id = $_mid")
	_next=$(sqlite3 "$_log" "SELECT date(begin_ts, 'unixepoch', '+1 day') FROM messages WHERE id = $_mid")
	_last=$(((_msgs - 1) / 100 * 100))
	_word=$(sqlite3 "$_log" "SELECT subject FROM messages WHERE id = $_mid" | tr -c 'A-Za-z\n' ' ' |
		awk '{ for (i = 1; i <= NF; i++) if (length($i) > length(w)) w = $i } END { print w }')
	cat <<EOT
overview	/api/overview
filters	/api/filters
sessions, first page	/api/listing/sessions?limit=100
sessions, total	/api/listing/sessions?count=1
sessions, last page	/api/listing/sessions?limit=100&offset=$_last
sessions, last page by key	/api/listing/sessions?limit=101&last=1
sessions, sorted by duration	/api/listing/sessions?sort=duration&desc=1&limit=100
sessions sorted by duration, shortest first	/api/listing/sessions?sort=duration&limit=100
sessions sorted by duration, the page after a row	/api/listing/sessions?sort=duration&desc=1&limit=101&after=$_sid
sessions sorted by duration, the page before a row	/api/listing/sessions?sort=duration&desc=1&limit=101&before=$_sid
sessions sorted by start, newest first	/api/listing/sessions?sort=start&desc=1&limit=100
sessions sorted by start, the page after a row	/api/listing/sessions?sort=start&desc=1&limit=101&after=$_sid
sessions sorted by commands, most first	/api/listing/sessions?sort=commands&desc=1&limit=100
sessions sorted by messages, most first	/api/listing/sessions?sort=messages&desc=1&limit=100
sessions sorted by logins	/api/listing/sessions?sort=auths&limit=100
sessions of a client	/api/listing/sessions?client=$_client&limit=100
sessions of a host	/api/listing/sessions?host=$_client&limit=100
sessions, values of server	/api/listing/sessions?values=server&limit=50
messages, first page	/api/listing/messages?limit=100
messages, total	/api/listing/messages?count=1
messages of a protocol, total	/api/listing/messages?count=1&proto=smtp
messages, last page	/api/listing/messages?limit=100&offset=$_last
messages, last page by key	/api/listing/messages?limit=101&last=1
messages, the page after a row	/api/listing/messages?limit=101&after=$_mid
messages, the page before a row	/api/listing/messages?limit=101&before=$_mid
messages, sorted by size	/api/listing/messages?sort=size&desc=1&limit=100
messages sorted by size, smallest first	/api/listing/messages?sort=size&limit=100
messages sorted by size, the page after a row	/api/listing/messages?sort=size&desc=1&limit=101&after=$_mid
messages sorted by size, the page before a row	/api/listing/messages?sort=size&desc=1&limit=101&before=$_mid
messages sorted by size, the last page by key	/api/listing/messages?sort=size&desc=1&limit=101&last=1
messages sorted by time, newest first	/api/listing/messages?sort=time&desc=1&limit=100
messages sorted by time, the page after a row	/api/listing/messages?sort=time&desc=1&limit=101&after=$_mid
messages sorted by time, the page before a row	/api/listing/messages?sort=time&desc=1&limit=101&before=$_mid
messages sorted by subject	/api/listing/messages?sort=subject&limit=100
messages sorted by outcome	/api/listing/messages?sort=outcome&desc=1&limit=100
messages of an outcome	/api/listing/messages?outcome=rejected&limit=100
messages from a sender	/api/listing/messages?from=$_from&limit=100
messages to a recipient	/api/listing/messages?to=$_to&limit=100
messages from a domain	/api/listing/messages?from=$_domain&limit=100
messages of a client	/api/listing/messages?client=$_client&limit=100
messages, a day	/api/listing/messages?since=$_day&until=$_next&limit=100
messages, values of from	/api/listing/messages?values=from&limit=50
attachments, first page	/api/listing/attachments?limit=100
attachments of a protocol, first page	/api/listing/attachments?proto=smtp&limit=100
attachments of an outcome, first page	/api/listing/attachments?outcome=accepted&limit=100
attachments of an outcome, total	/api/listing/attachments?outcome=accepted&count=1
creds, first page	/api/listing/creds?limit=100
urls, first page	/api/listing/urls?limit=100
tls, first page	/api/listing/tls?limit=100
findings, first page	/api/listing/findings?limit=100
findings, total	/api/listing/findings?count=1
findings, values of finding	/api/listing/findings?values=finding&limit=50
findings of a kind, first page	/api/listing/findings?finding=starttls_not_used&proto=smtp&limit=100
findings of a kind, total	/api/listing/findings?count=1&finding=starttls_not_used&proto=smtp
hosts, first page	/api/listing/hosts?limit=100
files, first page	/api/listing/files?limit=100
a session	/api/session?id=$_sid
a message	/api/message?id=$_mid
search, a hash	/api/search?q=sha256:$_sha
search, a sender	/api/search?q=from:$_from
search, an address	/api/search?q=addr:$_to
search, a word	/api/search?q=$_word
EOT
}
