/*
 * test_imap.c - the IMAP dissector fed byte strings: every case is checked
 * fed whole, one byte at a time, and cut at every offset of every step
 * (so inside every literal announcement and every literal).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#define ZLIB_CONST
#include <zlib.h>

#include "dissect/dissect.h"
#include "tests/recsink.h"

/* A mail client's day: login, select, fetch a message and a part, flag,
 * expunge, logout. */
static const struct step reader[] = {
	S("* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN] ready\r\n"),
	C("a1 LOGIN alice \"pa ss\\\"w\"\r\n"),
	S("a1 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n"),
	C("a2 SELECT INBOX\r\n"),
	S("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
	  "* 2 EXISTS\r\n* 0 RECENT\r\n"
	  "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
	  "* OK [UIDNEXT 43] Predicted next UID\r\n"
	  "a2 OK [READ-WRITE] Select completed.\r\n"),
	C("a3 UID FETCH 41 (UID FLAGS BODY.PEEK[])\r\n"),
	S("* 1 FETCH (UID 41 FLAGS (\\Seen) BODY[] {20}\r\n"
	  "Subject: x\r\n\r\nbody\r\n)\r\n"
	  "a3 OK Fetch completed.\r\n"),
	C("a4 FETCH 2 (BODY[HEADER] FLAGS)\r\n"),
	S("* 2 FETCH (BODY[HEADER] {12}\r\nSubject: y\r\n FLAGS () UID 42)\r\n"
	  "a4 OK done\r\n"),
	C("a5 STORE 1:2 +FLAGS (\\Deleted)\r\n"),
	S("* 1 FETCH (FLAGS (\\Seen \\Deleted))\r\n"
	  "* 2 FETCH (FLAGS (\\Deleted))\r\na5 OK Store completed.\r\n"),
	C("a6 EXPUNGE\r\n"),
	S("* 2 EXPUNGE\r\n* 1 EXPUNGE\r\na6 OK Expunge completed.\r\n"),
	C("a7 LOGOUT\r\n"),
	S("* BYE Logging out\r\na7 OK Logout completed.\r\n"),
};

static const char reader_expect[] =
    "SESSION_BEGIN imap\n"
    "GREETING 1 \"[CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN] ready\" x=\"OK\"\n"
    "EXTENSION IMAP4rev1\n"
    "EXTENSION LITERAL+\n"
    "EXTENSION SASL-IR\n"
    "EXTENSION AUTH \"PLAIN\"\n"
    "COMMAND #1 LOGIN \"alice \\\"pa ss\\\\\\\"w\\\"\" x=\"a1\"\n"
    "EXTENSION IMAP4rev1\n"
    "EXTENSION IDLE\n"
    "EXTENSION MOVE\n"
    "REPLY #1 1 LOGIN \"[CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\" x=\"OK\"\n"
    "AUTH #1 1 LOGIN \"alice\" x=\"pa ss\\\"w\" n=1,0,0,0\n"
    "STATE AUTHENTICATED\n"
    "COMMAND #2 SELECT \"INBOX\" x=\"a2\"\n"
    "RESPONSE #2 FLAGS \"FLAGS (\\\\Answered \\\\Flagged \\\\Deleted \\\\Seen \\\\Draft)\"\n"
    "RESPONSE #2 1 EXISTS \"2 EXISTS\" n=2,0,0,0\n"
    "RESPONSE #2 1 RECENT \"0 RECENT\"\n"
    "RESPONSE #2 OK \"OK [UIDVALIDITY 1700000000] UIDs valid\"\n"
    "RESPONSE #2 OK \"OK [UIDNEXT 43] Predicted next UID\"\n"
    "REPLY #2 1 SELECT \"[READ-WRITE] Select completed.\" x=\"OK\"\n"
    "MAILBOX #2 1 SELECT \"INBOX\" n=2,1700000000,43,0\n"
    "STATE SELECTED\n"
    "COMMAND #3 UID FETCH \"41 (UID FLAGS BODY.PEEK[])\" x=\"a3\"\n"
    "MSG_BEGIN #3 tx=1 FETCH\n"
    "MSG_DATA tx=1 \"Subject: x\\r\\n\\r\\nbody\\r\\n\"\n"
    "MSG_END tx=1 1 n=20,0,0,0\n"
    "RESPONSE #3 1 FETCH \"1 FETCH (UID 41 FLAGS (\\\\Seen) BODY[] {20})\" n=1,0,0,0\n"
    "MSG_META tx=1 \"INBOX\" x=\"(\\\\Seen)\" n=1,41,0,0\n"
    "REPLY #3 1 UID FETCH \"Fetch completed.\" x=\"OK\"\n"
    "COMMAND #4 FETCH \"2 (BODY[HEADER] FLAGS)\" x=\"a4\"\n"
    "MSG_BEGIN #4 tx=2 FETCH\n"
    "MSG_META tx=2 1 a=\"HEADER\"\n"
    "MSG_DATA tx=2 \"Subject: y\\r\\n\"\n"
    "MSG_END tx=2 1 n=12,0,0,0\n"
    "RESPONSE #4 1 FETCH \"2 FETCH (BODY[HEADER] {12} FLAGS () UID 42)\" n=2,0,0,0\n"
    "MSG_META tx=2 1 \"INBOX\" x=\"()\" a=\"HEADER\" n=2,42,0,0\n"
    "REPLY #4 1 FETCH \"done\" x=\"OK\"\n"
    "COMMAND #5 STORE \"1:2 +FLAGS (\\\\Deleted)\" x=\"a5\"\n"
    "RESPONSE #5 1 FETCH \"1 FETCH (FLAGS (\\\\Seen \\\\Deleted))\" n=1,0,0,0\n"
    "ITEM #5 flags x=\"(\\\\Seen \\\\Deleted)\" n=1,0,0,0\n"
    "RESPONSE #5 1 FETCH \"2 FETCH (FLAGS (\\\\Deleted))\" n=2,0,0,0\n"
    "ITEM #5 flags x=\"(\\\\Deleted)\" n=2,0,0,0\n"
    "REPLY #5 1 STORE \"Store completed.\" x=\"OK\"\n"
    "COMMAND #6 EXPUNGE x=\"a6\"\n"
    "RESPONSE #6 1 EXPUNGE \"2 EXPUNGE\" n=2,0,0,0\n"
    "ITEM #6 expunge n=2,0,0,0\n"
    "RESPONSE #6 1 EXPUNGE \"1 EXPUNGE\" n=1,0,0,0\n"
    "ITEM #6 expunge n=1,0,0,0\n"
    "REPLY #6 1 EXPUNGE \"Expunge completed.\" x=\"OK\"\n"
    "COMMAND #7 LOGOUT x=\"a7\"\n"
    "RESPONSE #7 BYE \"BYE Logging out\"\n"
    "REPLY #7 1 LOGOUT \"Logout completed.\" x=\"OK\"\n"
    "STATE LOGOUT\n"
    "SESSION_END 1 none n=173,658,0,0\n";

/*
 * Literals both ways: LOGIN with synchronising literals (the server says
 * "+" in between), APPEND with a non-synchronising one, pipelined
 * commands completed out of order.
 */
static const struct step literals[] = {
	S("* OK ready\r\n"),
	C("x LOGIN {5}\r\n"),
	S("+ go ahead\r\n"),
	C("alice {6}\r\n"),
	S("+ go ahead\r\n"),
	C("s e\"t!\r\n"),
	S("x OK hi\r\n"),
	C("y APPEND Sent (\\Seen) \"05-Jan-2024 10:00:00 +0000\" {10+}\r\n"
	  "Hi\r\n\r\nyo\r\n\r\nz NOOP\r\nw LIST \"\" {1+}\r\n*\r\n"),
	S("* LIST () \"/\" INBOX\r\nw OK list\r\nz OK noop\r\n"
	  "y OK [APPENDUID 7 9] Append completed.\r\n"),
};

static const char literals_expect[] =
    "SESSION_BEGIN imap\n"
    "GREETING 1 \"ready\" x=\"OK\"\n"
    "RESPONSE #1 + \"go ahead\"\n"
    "RESPONSE #1 + \"go ahead\"\n"
    "COMMAND #1 LOGIN \"{5} {6}\" x=\"x\"\n"
    "REPLY #1 1 LOGIN \"hi\" x=\"OK\"\n"
    "AUTH #1 1 LOGIN \"alice\" x=\"s e\\\"t!\" n=1,0,0,0\n"
    "STATE AUTHENTICATED\n"
    "MSG_BEGIN #2 tx=1 APPEND\n"
    "MSG_META tx=1 \"Sent\" x=\"(\\\\Seen)\"\n"
    "MSG_DATA tx=1 \"Hi\\r\\n\\r\\nyo\\r\\n\"\n"
    "MSG_END tx=1 1 n=10,0,0,0\n"
    "COMMAND #2 APPEND \"Sent (\\\\Seen) \\\"05-Jan-2024 10:00:00 +0000\\\" {10+}\" x=\"y\"\n"
    "COMMAND #3 NOOP x=\"z\"\n"
    "COMMAND #4 LIST \"\\\"\\\" {1+}\" x=\"w\"\n"
    "RESPONSE #4 LIST \"LIST () \\\"/\\\" INBOX\"\n"
    "REPLY #4 1 LIST \"list\" x=\"OK\"\n"
    "REPLY #3 1 NOOP \"noop\" x=\"OK\"\n"
    "REPLY #2 1 APPEND \"[APPENDUID 7 9] Append completed.\" x=\"OK\"\n"
    "SESSION_END 5 none n=129,128,0,0\n";

/* AUTHENTICATE with a challenge, then SASL-IR; IDLE with updates. */
static const struct step sasl_idle[] = {
	S("* OK ready\r\n"),
	C("1 AUTHENTICATE PLAIN\r\n"),
	S("+ \r\n"),
	C("AGJvYgB3cm9uZw==\r\n"),
	S("1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
	C("2 AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n"),
	S("2 OK Logged in\r\n"),
	C("3 EXAMINE \"Sent Items\"\r\n"),
	S("* 5 EXISTS\r\n3 OK [READ-ONLY] done\r\n"),
	C("4 IDLE\r\n"),
	S("+ idling\r\n* 6 EXISTS\r\n* 3 EXPUNGE\r\n"),
	C("DONE\r\n"),
	S("4 OK IDLE terminated\r\n"),
	C("5 ID (\"name\" \"Thunderbird\")\r\n"),
	S("* ID (\"name\" \"Dovecot\")\r\n5 OK ID done\r\n"),
	C("6 UID SEARCH UNSEEN FROM \"bob\"\r\n"),
	S("* SEARCH 3 9 12\r\n6 OK search done\r\n"),
};

static const char sasl_idle_expect[] =
    "SESSION_BEGIN imap\n"
    "GREETING 1 \"ready\" x=\"OK\"\n"
    "COMMAND #1 AUTHENTICATE \"PLAIN\" x=\"1\"\n"
    "REPLY #1 2 AUTHENTICATE \"[AUTHENTICATIONFAILED] Authentication failed.\" x=\"NO\"\n"
    "AUTH #1 2 PLAIN \"bob\" x=\"wrong\" n=2,0,0,0\n"
    "COMMAND #2 AUTHENTICATE \"PLAIN AGJvYgBzZWNyZXQ=\" x=\"2\"\n"
    "REPLY #2 1 AUTHENTICATE \"Logged in\" x=\"OK\"\n"
    "AUTH #2 1 PLAIN \"bob\" x=\"secret\" n=1,0,0,0\n"
    "STATE AUTHENTICATED\n"
    "COMMAND #3 EXAMINE \"\\\"Sent Items\\\"\" x=\"3\"\n"
    "RESPONSE #3 1 EXISTS \"5 EXISTS\" n=5,0,0,0\n"
    "REPLY #3 1 EXAMINE \"[READ-ONLY] done\" x=\"OK\"\n"
    "MAILBOX #3 1 EXAMINE \"Sent Items\" n=5,18446744073709551615,18446744073709551615,18446744073709551615\n"
    "STATE SELECTED\n"
    "COMMAND #4 IDLE x=\"4\"\n"
    "RESPONSE #4 + \"idling\"\n"
    "RESPONSE #4 1 EXISTS \"6 EXISTS\" n=6,0,0,0\n"
    "RESPONSE #4 1 EXPUNGE \"3 EXPUNGE\" n=3,0,0,0\n"
    "ITEM #4 expunge n=3,0,0,0\n"
    "REPLY #4 1 IDLE \"IDLE terminated\" x=\"OK\"\n"
    "COMMAND #5 ID \"(\\\"name\\\" \\\"Thunderbird\\\")\" x=\"5\"\n"
    "IDENT \"(\\\"name\\\" \\\"Thunderbird\\\")\"\n"
    "RESPONSE #5 ID \"ID (\\\"name\\\" \\\"Dovecot\\\")\"\n"
    "IDENT \"(\\\"name\\\" \\\"Dovecot\\\")\"\n"
    "REPLY #5 1 ID \"ID done\" x=\"OK\"\n"
    "COMMAND #6 UID SEARCH \"UNSEEN FROM \\\"bob\\\"\" x=\"6\"\n"
    "RESPONSE #6 1 SEARCH \"SEARCH 3 9 12\" n=3,0,0,0\n"
    "REPLY #6 1 UID SEARCH \"search done\" x=\"OK\"\n"
    "SESSION_END 5 none n=178,250,0,0\n";

/* STARTTLS, then only counting. */
static const struct step starttls[] = {
	S("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
	C("a STARTTLS\r\n"),
	S("a OK Begin TLS negotiation now.\r\n"),
	{ MD_C2S, "\x16\x03\x01\x00\x05hello", 10 },
	{ MD_S2C, "\x16\x03\x03\x00\x02hi", 7 },
};

static const char starttls_expect[] =
    "SESSION_BEGIN imap\n"
    "GREETING 1 \"[CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\" x=\"OK\"\n"
    "EXTENSION IMAP4rev1\n"
    "EXTENSION STARTTLS\n"
    "EXTENSION LOGINDISABLED\n"
    "COMMAND #1 STARTTLS x=\"a\"\n"
    "REPLY #1 1 STARTTLS \"Begin TLS negotiation now.\" x=\"OK\"\n"
    "STARTTLS #1 1\n"
    "ANOMALY tls_handshake_too_long\n"
    "TLS_END n=0,0,1,1\n"
    "SESSION_END 5 starttls n=22,98,10,7\n";

/*
 * Hostile and broken: a refused synchronising literal is never sent; a
 * literal past 32 bits is not one; a 4 GB literal cut by the end of the
 * capture stays bounded and is kept as an incomplete message.
 */
static const struct step hostile[] = {
	S("* PREAUTH welcome\r\n"),
	C("a APPEND INBOX {999999}\r\n"),
	S("a NO [TOOBIG] message too big\r\n"),
	C("b SELECT {99999999999}\r\n"),
	S("b BAD bad literal\r\n"),
	C("c FETCH 1 BODY[]\r\n"),
	S("* 1 FETCH (BODY[] {4294967295}\r\nFrom: a\r\n"),
};

static const char hostile_expect[] =
    "SESSION_BEGIN imap\n"
    "GREETING 1 \"welcome\" x=\"PREAUTH\"\n"
    "STATE AUTHENTICATED\n"
    "COMMAND #1 APPEND \"INBOX {999999}\" x=\"a\"\n"
    "REPLY #1 2 APPEND \"[TOOBIG] message too big\" x=\"NO\"\n"
    "ANOMALY malformed_literal \"b SELECT {99999999999}\"\n"
    "COMMAND #2 SELECT \"{99999999999}\" x=\"b\"\n"
    "REPLY #2 3 SELECT \"bad literal\" x=\"BAD\"\n"
    "MAILBOX #2 3 SELECT n=18446744073709551615,18446744073709551615,18446744073709551615,18446744073709551615\n"
    "COMMAND #3 FETCH \"1 BODY[]\" x=\"c\"\n"
    "ANOMALY huge_literal \"4294967295 bytes\"\n"
    "MSG_BEGIN #3 tx=1 FETCH\n"
    "MSG_DATA tx=1 \"From: a\\r\\n\"\n"
    "RESPONSE #3 1 FETCH \"1 FETCH (BODY[] {4294967295}\" n=1,0,0,0\n"
    "MSG_META tx=1 n=1,0,0,0\n"
    "MSG_END tx=1 n=9,0,0,0\n"
    "SESSION_END 5 none n=67,110,0,0\n";

/*
 * BINARY[] with a binary literal (RFC 3516), two message literals in one
 * response, ENABLE, VANISHED (RFC 7162), MOVE, a server literal that is
 * neither (an ENVELOPE subject) kept out of the messages.
 */
static const struct step binary[] = {
	S("* PREAUTH ready\r\n"),
	C("e ENABLE QRESYNC\r\n"),
	S("* ENABLED QRESYNC\r\ne OK enabled\r\n"),
	C("s SELECT Archive\r\n"),
	S("* 4 EXISTS\r\ns OK [READ-WRITE] ok\r\n"),
	{ MD_C2S, "b UID FETCH 9 (BINARY[] ENVELOPE)\r\n", 0 },
	{ MD_S2C,
	    "* 2 FETCH (UID 9 BINARY[] ~{5}\r\nab\0cd ENVELOPE "
	    "(NIL {3}\r\nhi! NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"
	    "b OK done\r\n",
	    107 },
	C("h FETCH 3 (BODY[1] BODY[2.MIME])\r\n"),
	S("* 3 FETCH (BODY[1] {2}\r\nhi BODY[2.MIME] {0}\r\n)\r\n"
	  "h OK done\r\n"),
	C("m UID MOVE 9 Trash\r\n"),
	S("* OK [COPYUID 5 9 1] moved\r\n* VANISHED 9\r\nm OK done\r\n"),
};

static const char binary_expect[] =
    "SESSION_BEGIN imap\n"
    "GREETING 1 \"ready\" x=\"PREAUTH\"\n"
    "STATE AUTHENTICATED\n"
    "COMMAND #1 ENABLE \"QRESYNC\" x=\"e\"\n"
    "RESPONSE #1 ENABLED \"ENABLED QRESYNC\"\n"
    "REPLY #1 1 ENABLE \"enabled\" x=\"OK\"\n"
    "COMMAND #2 SELECT \"Archive\" x=\"s\"\n"
    "RESPONSE #2 1 EXISTS \"4 EXISTS\" n=4,0,0,0\n"
    "REPLY #2 1 SELECT \"[READ-WRITE] ok\" x=\"OK\"\n"
    "MAILBOX #2 1 SELECT \"Archive\" n=4,18446744073709551615,18446744073709551615,18446744073709551615\n"
    "STATE SELECTED\n"
    "COMMAND #3 UID FETCH \"9 (BINARY[] ENVELOPE)\" x=\"b\"\n"
    "MSG_BEGIN #3 tx=1 FETCH\n"
    "MSG_DATA tx=1 \"ab\\x00cd\"\n"
    "MSG_END tx=1 1 n=5,0,0,0\n"
    "RESPONSE #3 1 FETCH \"2 FETCH (UID 9 BINARY[] ~{5} ENVELOPE (NIL {3} NIL NIL NIL NIL NIL NIL NIL NIL))\" n=2,0,0,0\n"
    "MSG_META tx=1 \"Archive\" n=2,9,0,0\n"
    "REPLY #3 1 UID FETCH \"done\" x=\"OK\"\n"
    "COMMAND #4 FETCH \"3 (BODY[1] BODY[2.MIME])\" x=\"h\"\n"
    "MSG_BEGIN #4 tx=2 FETCH\n"
    "MSG_META tx=2 1 a=\"1\"\n"
    "MSG_DATA tx=2 \"hi\"\n"
    "MSG_END tx=2 1 n=2,0,0,0\n"
    "MSG_BEGIN #4 tx=3 FETCH\n"
    "MSG_META tx=3 1 a=\"2.MIME\"\n"
    "MSG_END tx=3 1\n"
    "RESPONSE #4 1 FETCH \"3 FETCH (BODY[1] {2} BODY[2.MIME] {0})\" n=3,0,0,0\n"
    "MSG_META tx=2 1 \"Archive\" a=\"1\" n=3,0,0,0\n"
    "MSG_META tx=3 1 \"Archive\" a=\"2.MIME\" n=3,0,0,0\n"
    "REPLY #4 1 FETCH \"done\" x=\"OK\"\n"
    "COMMAND #5 UID MOVE \"9 Trash\" x=\"m\"\n"
    "RESPONSE #5 OK \"OK [COPYUID 5 9 1] moved\"\n"
    "RESPONSE #5 VANISHED \"VANISHED 9\"\n"
    "ITEM #5 vanished \"9\"\n"
    "REPLY #5 1 UID MOVE \"done\" x=\"OK\"\n"
    "SESSION_END 5 none n=125,303,0,0\n";

/*
 * COMPRESS=DEFLATE (RFC 4978): after the OK both directions are raw
 * DEFLATE; main() compresses the rest of the dialogue, one stream per
 * direction, flushed at each step as a client and a server do.
 */
static uint8_t	   z_c2s[256], z_s2c[256];
static struct step deflated[] = {
	S("* OK ready\r\n"), C("z1 LOGIN bob pw\r\n"), S("z1 OK hi\r\n"),
	C("z2 COMPRESS DEFLATE\r\n"), S("z2 OK DEFLATE active\r\n"),
	{ MD_C2S, NULL, 0 }, /* z3 FETCH 1 BODY[], compressed */
	{ MD_S2C, NULL, 0 }, /* its answer, compressed */
};

static const char *const compress_plain[2] = {
	"z3 FETCH 1 BODY[]\r\n",
	"* 1 FETCH (BODY[] {11}\r\nSubject: \r\n)\r\nz3 OK done\r\n",
};

static const char compress_expect[] =
    "SESSION_BEGIN imap\n"
    "GREETING 1 \"ready\" x=\"OK\"\n"
    "COMMAND #1 LOGIN \"bob pw\" x=\"z1\"\n"
    "REPLY #1 1 LOGIN \"hi\" x=\"OK\"\n"
    "AUTH #1 1 LOGIN \"bob\" x=\"pw\" n=1,0,0,0\n"
    "STATE AUTHENTICATED\n"
    "COMMAND #2 COMPRESS \"DEFLATE\" x=\"z2\"\n"
    "REPLY #2 1 COMPRESS \"DEFLATE active\" x=\"OK\"\n"
    "COMPRESS #2 1 DEFLATE\n"
    "COMMAND #3 FETCH \"1 BODY[]\" x=\"z3\"\n"
    "MSG_BEGIN #3 tx=1 FETCH\n"
    "MSG_DATA tx=1 \"Subject: \\r\\n\"\n"
    "MSG_END tx=1 1 n=11,0,0,0\n"
    "RESPONSE #3 1 FETCH \"1 FETCH (BODY[] {11})\" n=1,0,0,0\n"
    "MSG_META tx=1 n=1,0,0,0\n"
    "REPLY #3 1 FETCH \"done\" x=\"OK\"\n"
    "SESSION_END 5 none n=63,100,0,0\n";

static size_t
deflate_raw(const char *in, uint8_t *out, size_t cap)
{
	z_stream z = { 0 };

	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8,
		Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (const Bytef *)in;
	z.avail_in = (uInt)strlen(in);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_SYNC_FLUSH) != Z_OK)
		abort();
	deflateEnd(&z);
	return cap - z.avail_out;
}

/*
 * A message fetched in chunks, Thunderbird's way (lower-case items,
 * RFC822.SIZE, until a chunk comes back short), and one as fetchmail
 * does (RFC822.HEADER, then BODY.PEEK[TEXT]): the assembler sends each
 * whole message after its pieces.
 */
static const struct step chunks[] = {
	S("* OK IMAP4rev1 ready\r\n"),
	C("a1 LOGIN alice pw\r\n"),
	S("a1 OK done\r\n"),
	C("a2 SELECT INBOX\r\n"),
	S("* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\na2 OK [READ-WRITE] done\r\n"),
	C("a3 uid fetch 17 (uid rfc822.size body.peek[]<0.12>)\r\n"),
	S("* 1 FETCH (UID 17 RFC822.SIZE 30 BODY[]<0> {12}\r\nSubject: x\r\n)\r\n"
	  "a3 OK done\r\n"),
	C("a4 uid fetch 17 (uid rfc822.size body.peek[]<12.12>)\r\n"),
	S("* 1 FETCH (UID 17 RFC822.SIZE 30 BODY[]<12> {12}\r\n\r\nbody line\r)\r\n"
	  "a4 OK done\r\n"),
	C("a5 uid fetch 17 (uid rfc822.size body.peek[]<24.12>)\r\n"),
	S("* 1 FETCH (UID 17 RFC822.SIZE 30 BODY[]<24> {6}\r\n\nend\r\n)\r\n"
	  "a5 OK done\r\n"),
	C("a6 FETCH 2 (RFC822.HEADER)\r\n"),
	S("* 2 FETCH (RFC822.HEADER {14}\r\nSubject: y\r\n\r\n)\r\na6 OK done\r\n"),
	C("a7 FETCH 2 (BODY.PEEK[TEXT])\r\n"),
	S("* 2 FETCH (BODY[TEXT] {4}\r\nhi\r\n)\r\na7 OK done\r\n"),
};

static const char chunks_expect[] =
    "SESSION_BEGIN imap\n"
    "GREETING 1 \"IMAP4rev1 ready\" x=\"OK\"\n"
    "COMMAND #1 LOGIN \"alice pw\" x=\"a1\"\n"
    "REPLY #1 1 LOGIN \"done\" x=\"OK\"\n"
    "AUTH #1 1 LOGIN \"alice\" x=\"pw\" n=1,0,0,0\n"
    "STATE AUTHENTICATED\n"
    "COMMAND #2 SELECT \"INBOX\" x=\"a2\"\n"
    "RESPONSE #2 1 EXISTS \"2 EXISTS\" n=2,0,0,0\n"
    "RESPONSE #2 OK \"OK [UIDVALIDITY 7] ok\"\n"
    "REPLY #2 1 SELECT \"[READ-WRITE] done\" x=\"OK\"\n"
    "MAILBOX #2 1 SELECT \"INBOX\" n=2,7,18446744073709551615,18446744073709551615\n"
    "STATE SELECTED\n"
    "COMMAND #3 UID FETCH \"17 (uid rfc822.size body.peek[]<0.12>)\" x=\"a3\"\n"
    "MSG_BEGIN #3 tx=1 FETCH\n"
    "MSG_META tx=1 1 a=\"<0>\"\n"
    "MSG_DATA tx=1 \"Subject: x\\r\\n\"\n"
    "MSG_END tx=1 1 n=12,0,0,0\n"
    "RESPONSE #3 1 FETCH \"1 FETCH (UID 17 RFC822.SIZE 30 BODY[]<0> {12})\" n=1,0,0,0\n"
    "MSG_META tx=1 1 \"INBOX\" a=\"<0>\" n=1,17,30,1\n"
    "REPLY #3 1 UID FETCH \"done\" x=\"OK\"\n"
    "COMMAND #4 UID FETCH \"17 (uid rfc822.size body.peek[]<12.12>)\" x=\"a4\"\n"
    "MSG_BEGIN #4 tx=2 FETCH\n"
    "MSG_META tx=2 1 a=\"<12>\"\n"
    "MSG_DATA tx=2 \"\\r\\nbody line\\r\"\n"
    "MSG_END tx=2 1 n=12,0,0,0\n"
    "RESPONSE #4 1 FETCH \"1 FETCH (UID 17 RFC822.SIZE 30 BODY[]<12> {12})\" n=1,0,0,0\n"
    "MSG_META tx=2 1 \"INBOX\" a=\"<12>\" n=1,17,30,1\n"
    "REPLY #4 1 UID FETCH \"done\" x=\"OK\"\n"
    "COMMAND #5 UID FETCH \"17 (uid rfc822.size body.peek[]<24.12>)\" x=\"a5\"\n"
    "MSG_BEGIN #5 tx=3 FETCH\n"
    "MSG_META tx=3 1 a=\"<24>\"\n"
    "MSG_DATA tx=3 \"\\nend\\r\\n\"\n"
    "MSG_END tx=3 1 n=6,0,0,0\n"
    "RESPONSE #5 1 FETCH \"1 FETCH (UID 17 RFC822.SIZE 30 BODY[]<24> {6})\" n=1,0,0,0\n"
    "MSG_META tx=3 1 \"INBOX\" a=\"<24>\" n=1,17,30,1\n"
    "MSG_BEGIN tx=1073741825 FETCH x=\"<0.12>+<12.12>+<24.6>\"\n"
    "MSG_META tx=1073741825 \"INBOX\" n=1,17,0,0\n"
    "MSG_DATA tx=1073741825 \"Subject: x\\r\\n\\r\\nbody line\\r\\nend\\r\\n\"\n"
    "MSG_END tx=1073741825 1 n=30,0,0,0\n"
    "REPLY #5 1 UID FETCH \"done\" x=\"OK\"\n"
    "COMMAND #6 FETCH \"2 (RFC822.HEADER)\" x=\"a6\"\n"
    "MSG_BEGIN #6 tx=4 FETCH\n"
    "MSG_META tx=4 1 a=\"HEADER\"\n"
    "MSG_DATA tx=4 \"Subject: y\\r\\n\\r\\n\"\n"
    "MSG_END tx=4 1 n=14,0,0,0\n"
    "RESPONSE #6 1 FETCH \"2 FETCH (RFC822.HEADER {14})\" n=2,0,0,0\n"
    "MSG_META tx=4 1 \"INBOX\" a=\"HEADER\" n=2,0,0,0\n"
    "REPLY #6 1 FETCH \"done\" x=\"OK\"\n"
    "COMMAND #7 FETCH \"2 (BODY.PEEK[TEXT])\" x=\"a7\"\n"
    "MSG_BEGIN #7 tx=5 FETCH\n"
    "MSG_META tx=5 1 a=\"TEXT\"\n"
    "MSG_DATA tx=5 \"hi\\r\\n\"\n"
    "MSG_END tx=5 1 n=4,0,0,0\n"
    "RESPONSE #7 1 FETCH \"2 FETCH (BODY[TEXT] {4})\" n=2,0,0,0\n"
    "MSG_META tx=5 1 \"INBOX\" a=\"TEXT\" n=2,0,0,0\n"
    "MSG_BEGIN tx=1073741826 FETCH x=\"HEADER+TEXT\"\n"
    "MSG_META tx=1073741826 \"INBOX\" n=2,0,0,0\n"
    "MSG_DATA tx=1073741826 \"Subject: y\\r\\n\\r\\nhi\\r\\n\"\n"
    "MSG_END tx=1073741826 1 n=18,0,0,0\n"
    "REPLY #7 1 FETCH \"done\" x=\"OK\"\n"
    "SESSION_END 5 none n=255,425,0,0\n";

static const struct tcase assembled_cases[] = {
	{ "chunks", chunks, N(chunks), MD_TLS_NONE, chunks_expect },
};

static const struct tcase cases[] = {
	{ "reader", reader, N(reader), MD_TLS_NONE, reader_expect },
	{ "literals", literals, N(literals), MD_TLS_NONE, literals_expect },
	{ "sasl_idle", sasl_idle, N(sasl_idle), MD_TLS_NONE, sasl_idle_expect },
	{ "starttls", starttls, N(starttls), MD_TLS_NONE, starttls_expect },
	{ "hostile", hostile, N(hostile), MD_TLS_NONE, hostile_expect },
	{ "binary", binary, N(binary), MD_TLS_NONE, binary_expect },
	{ "compress", deflated, N(deflated), MD_TLS_NONE, compress_expect },
};

/*
 * An endless stream of untagged responses: each is acted on, the first
 * responses_max are reported, then one anomaly, then silence; the
 * command still completes.
 */
static void
test_response_flood(void **state)
{
	static const struct md_flow flow = { .id = 1 };
	static const char greet[] = "* OK hi\r\n", cmd[] = "f NOOP\r\n",
			  upd[] = "* 7 EXISTS\r\n", done[] = "f OK done\r\n";
	struct md_env  env;
	struct md_sink sink;
	struct recsink rec;
	const char    *text;
	void	      *st;
	size_t	       n = 0;

	(void)state;
	md_env_default(&env);
	env.lim.responses_max = 50;
	recsink_init(&rec, &sink);
	st = md_proto_imap.open(&sink, &env, &flow, MD_TLS_NONE, 0);
	md_proto_imap.feed(st, MD_S2C, (const uint8_t *)greet, strlen(greet),
	    1);
	md_proto_imap.feed(st, MD_C2S, (const uint8_t *)cmd, strlen(cmd), 2);
	for (int i = 0; i < 10000; i++)
		md_proto_imap.feed(st, MD_S2C, (const uint8_t *)upd,
		    strlen(upd), 3);
	md_proto_imap.feed(st, MD_S2C, (const uint8_t *)done, strlen(done), 4);
	md_proto_imap.close(st, MD_END_CLOSE, 5);
	text = recsink_text(&rec);
	for (const char *p = text; (p = strstr(p, "RESPONSE #1 1 EXISTS")); p++)
		n++;
	assert_int_equal(n, 50);
	assert_non_null(strstr(text, "ANOMALY too_many_responses \"NOOP\""));
	assert_non_null(strstr(text, "REPLY #1 1 NOOP \"done\""));
	recsink_free(&rec);
}

int
main(void)
{
	const struct CMUnitTest flood[] = {
		cmocka_unit_test(test_response_flood),
	};
	int rc;

	deflated[5].len = deflate_raw(compress_plain[0], z_c2s, sizeof(z_c2s));
	deflated[5].data = (const char *)z_c2s;
	deflated[6].len = deflate_raw(compress_plain[1], z_s2c, sizeof(z_s2c));
	deflated[6].data = (const char *)z_s2c;
	rc = transcript_suite("imap", &md_proto_imap, cases, N(cases));
	rc |= transcript_suite_assembled("imap pieces", &md_proto_imap,
	    assembled_cases, N(assembled_cases));
	if (getenv("MAILSIFT_PRINT_GOLDEN") != NULL)
		return rc;
	return rc | cmocka_run_group_tests_name("imap caps", flood, NULL, NULL);
}
