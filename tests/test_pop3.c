/*
 * test_pop3.c - the POP3 dissector fed byte strings: every case is checked
 * fed whole, one byte at a time, and cut at every offset of every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dissect/dissect.h"
#include "tests/recsink.h"

/* USER/PASS, listings, a dot-stuffed RETR, TOP, DELE committed by QUIT. */
static const struct step mailbox[] = {
	S("+OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us>\r\n"),
	C("CAPA\r\n"),
	S("+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
	  "SASL PLAIN LOGIN\r\nSTLS\r\n.\r\n"),
	C("USER alice\r\n"),
	S("+OK\r\n"),
	C("PASS s3cret pass\r\n"),
	S("+OK Logged in.\r\n"),
	C("STAT\r\n"),
	S("+OK 2 320\r\n"),
	C("LIST\r\n"),
	S("+OK 2 messages:\r\n1 120\r\n2 200\r\n.\r\n"),
	C("UIDL 2\r\n"),
	S("+OK 2 00000002abc\r\n"),
	C("UIDL\r\n"),
	S("+OK\r\n1 00000001abc\r\n2 00000002abc\r\n.\r\n"),
	C("RETR 1\r\n"),
	S("+OK 120 octets\r\nSubject: one\r\n\r\n..dotted\r\nline\r\n.\r\n"),
	C("TOP 2 0\r\n"),
	S("+OK\r\nSubject: two\r\n\r\n.\r\n"),
	C("DELE 1\r\n"),
	S("+OK Marked to be deleted.\r\n"),
	C("RETR 9\r\n"),
	S("-ERR There's no message 9.\r\n"),
	C("QUIT\r\n"),
	S("+OK Logging out, messages deleted.\r\n"),
};

static const char mailbox_expect[] =
    "SESSION_BEGIN pop3\n"
    "GREETING 1 \"Dovecot ready. <1896.697170952@dbc.mtview.ca.us>\" x=\"+OK\"\n"
    "STATE AUTHORIZATION\n"
    "COMMAND #1 CAPA\n"
    "REPLY #1 1 CAPA x=\"+OK\"\n"
    "EXTENSION CAPA\n"
    "EXTENSION TOP\n"
    "EXTENSION UIDL\n"
    "EXTENSION RESP-CODES\n"
    "EXTENSION PIPELINING\n"
    "EXTENSION SASL \"PLAIN LOGIN\"\n"
    "EXTENSION STLS\n"
    "COMMAND #2 USER \"alice\"\n"
    "REPLY #2 1 USER x=\"+OK\"\n"
    "COMMAND #3 PASS \"s3cret pass\"\n"
    "REPLY #3 1 PASS \"Logged in.\" x=\"+OK\"\n"
    "AUTH #2 1 USER \"alice\" x=\"s3cret pass\" n=1,0,0,0\n"
    "STATE TRANSACTION\n"
    "COMMAND #4 STAT\n"
    "REPLY #4 1 STAT \"2 320\" x=\"+OK\"\n"
    "COMMAND #5 LIST\n"
    "REPLY #5 1 LIST \"2 messages:\" x=\"+OK\"\n"
    "ITEM #5 list n=1,120,0,0\n"
    "ITEM #5 list n=2,200,0,0\n"
    "COMMAND #6 UIDL \"2\"\n"
    "REPLY #6 1 UIDL \"2 00000002abc\" x=\"+OK\"\n"
    "ITEM #6 uidl \"00000002abc\" n=2,0,0,0\n"
    "COMMAND #7 UIDL\n"
    "REPLY #7 1 UIDL x=\"+OK\"\n"
    "ITEM #7 uidl \"00000001abc\" n=1,0,0,0\n"
    "ITEM #7 uidl \"00000002abc\" n=2,0,0,0\n"
    "COMMAND #8 RETR \"1\"\n"
    "REPLY #8 1 RETR \"120 octets\" x=\"+OK\"\n"
    "MSG_BEGIN #8 tx=1 RETR\n"
    "MSG_META tx=1 n=1,0,0,0\n"
    "MSG_DATA tx=1 \"Subject: one\\r\\n\\r\\n.dotted\\r\\nline\\r\\n\"\n"
    "MSG_END tx=1 1 n=31,0,0,0\n"
    "COMMAND #9 TOP \"2 0\"\n"
    "REPLY #9 1 TOP x=\"+OK\"\n"
    "MSG_BEGIN #9 tx=2 TOP\n"
    "MSG_META tx=2 n=2,0,0,0\n"
    "MSG_DATA tx=2 \"Subject: two\\r\\n\\r\\n\"\n"
    "MSG_META tx=2 1 a=\"0\" n=2,0,0,0\n"
    "MSG_END tx=2 1 n=16,0,0,0\n"
    "COMMAND #10 DELE \"1\"\n"
    "REPLY #10 1 DELE \"Marked to be deleted.\" x=\"+OK\"\n"
    "ITEM #10 dele n=1,0,0,0\n"
    "COMMAND #11 RETR \"9\"\n"
    "REPLY #11 2 RETR \"There's no message 9.\" x=\"-ERR\"\n"
    "COMMAND #12 QUIT\n"
    "REPLY #12 1 QUIT \"Logging out, messages deleted.\" x=\"+OK\"\n"
    "STATE UPDATE\n"
    "ITEM #12 commit\n"
    "SESSION_END 1 none n=101,416,0,0\n";

/* SASL: PLAIN with an initial response fails, LOGIN by challenges works. */
static const struct step sasl[] = {
	S("+OK POP3 ready\r\n"),
	C("AUTH\r\n"),
	S("+OK\r\nPLAIN\r\nLOGIN\r\nCRAM-MD5\r\n.\r\n"),
	C("AUTH PLAIN AGFsaWNlAHdyb25n\r\n"),
	S("-ERR [AUTH] Authentication failed.\r\n"),
	C("AUTH LOGIN\r\n"),
	S("+ VXNlcm5hbWU6\r\n"),
	C("YWxpY2U=\r\n"),
	S("+ UGFzc3dvcmQ6\r\n"),
	C("c2VjcmV0\r\n"),
	S("+OK Logged in.\r\n"),
	C("RSET\r\n"),
	S("+OK\r\n"),
};

static const char sasl_expect[] =
    "SESSION_BEGIN pop3\n"
    "GREETING 1 \"POP3 ready\" x=\"+OK\"\n"
    "STATE AUTHORIZATION\n"
    "COMMAND #1 AUTH\n"
    "REPLY #1 1 AUTH x=\"+OK\"\n"
    "EXTENSION SASL \"PLAIN\"\n"
    "EXTENSION SASL \"LOGIN\"\n"
    "EXTENSION SASL \"CRAM-MD5\"\n"
    "COMMAND #2 AUTH \"PLAIN AGFsaWNlAHdyb25n\"\n"
    "REPLY #2 2 AUTH \"[AUTH] Authentication failed.\" x=\"-ERR\"\n"
    "AUTH #2 2 PLAIN \"alice\" x=\"wrong\" n=2,0,0,0\n"
    "COMMAND #3 AUTH \"LOGIN\"\n"
    "REPLY #3 1 AUTH \"Logged in.\" x=\"+OK\"\n"
    "AUTH #3 1 LOGIN \"alice\" x=\"secret\" n=1,0,0,0\n"
    "STATE TRANSACTION\n"
    "COMMAND #4 RSET\n"
    "REPLY #4 1 RSET x=\"+OK\"\n"
    "ITEM #4 reset\n"
    "SESSION_END 5 none n=73,137,0,0\n";

/*
 * APOP keeps the greeting's timestamp with the digest; pipelined commands
 * pair with their replies in order; a DELE without QUIT is not committed.
 */
static const struct step apop[] = {
	S("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
	C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
	S("+OK maildrop has 1 message (369 octets)\r\n"),
	C("DELE 1\r\nRETR 1\r\nNOOP\r\n"),
	S("+OK message 1 deleted\r\n-ERR message 1 already deleted\r\n"
	  "+OK\r\n"),
};

static const char apop_expect[] =
    "SESSION_BEGIN pop3\n"
    "GREETING 1 \"POP3 server ready <1896.697170952@dbc.mtview.ca.us>\" x=\"+OK\"\n"
    "STATE AUTHORIZATION\n"
    "COMMAND #1 APOP \"mrose c4c9334bac560ecc979e58001b3e22fb\"\n"
    "REPLY #1 1 APOP \"maildrop has 1 message (369 octets)\" x=\"+OK\"\n"
    "AUTH #1 1 APOP \"mrose\" a=\"<1896.697170952@dbc.mtview.ca.us>\" p=\"c4c9334bac560ecc979e58001b3e22fb\" n=1,0,0,0\n"
    "STATE TRANSACTION\n"
    "COMMAND #2 DELE \"1\"\n"
    "COMMAND #3 RETR \"1\"\n"
    "COMMAND #4 NOOP\n"
    "REPLY #2 1 DELE \"message 1 deleted\" x=\"+OK\"\n"
    "ITEM #2 dele n=1,0,0,0\n"
    "REPLY #3 2 RETR \"message 1 already deleted\" x=\"-ERR\"\n"
    "REPLY #4 1 NOOP x=\"+OK\"\n"
    "SESSION_END 5 none n=67,158,0,0\n";

/* STLS: after the +OK both directions are TLS and only counted. */
static const struct step stls[] = {
	S("+OK ready\r\n"),
	C("STLS\r\n"),
	S("+OK Begin TLS negotiation now.\r\n"),
	{ MD_C2S, "\x16\x03\x01\x00\x05hello", 10 },
	{ MD_S2C, "\x16\x03\x03\x00\x02hi", 7 },
};

static const char stls_expect[] =
    "SESSION_BEGIN pop3\n"
    "GREETING 1 \"ready\" x=\"+OK\"\n"
    "STATE AUTHORIZATION\n"
    "COMMAND #1 STLS\n"
    "REPLY #1 1 STLS \"Begin TLS negotiation now.\" x=\"+OK\"\n"
    "STARTTLS #1 1\n"
    "ANOMALY tls_handshake_too_long\n"
    "TLS_END n=0,0,1,1\n"
    "SESSION_END 5 starttls n=16,50,10,7\n";

/* STLS refused, then the password in clear: a downgrade to report. */
static const struct step downgrade[] = {
	S("+OK ready\r\n"),
	C("STLS\r\n"),
	S("-ERR TLS not available\r\n"),
	C("USER bob\r\nPASS hunter2\r\n"),
	S("+OK\r\n+OK\r\n"),
};

static const char downgrade_expect[] =
    "SESSION_BEGIN pop3\n"
    "GREETING 1 \"ready\" x=\"+OK\"\n"
    "STATE AUTHORIZATION\n"
    "COMMAND #1 STLS\n"
    "REPLY #1 2 STLS \"TLS not available\" x=\"-ERR\"\n"
    "STARTTLS #1 2\n"
    "COMMAND #2 USER \"bob\"\n"
    "ANOMALY auth_after_failed_starttls\n"
    "COMMAND #3 PASS \"hunter2\"\n"
    "REPLY #2 1 USER x=\"+OK\"\n"
    "REPLY #3 1 PASS x=\"+OK\"\n"
    "AUTH #2 1 USER \"bob\" x=\"hunter2\" n=1,0,0,0\n"
    "STATE TRANSACTION\n"
    "SESSION_END 5 none n=30,45,0,0\n";

/* A RETR cut by the end of the capture is kept, marked incomplete. */
static const struct step cut[] = {
	S("+OK ready\r\n"),
	C("USER bob\r\nPASS x\r\nRETR 3\r\n"),
	S("+OK\r\n+OK\r\n+OK\r\nFrom: a\r\n\r\nbody that never"),
};

static const char cut_expect[] =
    "SESSION_BEGIN pop3\n"
    "GREETING 1 \"ready\" x=\"+OK\"\n"
    "STATE AUTHORIZATION\n"
    "COMMAND #1 USER \"bob\"\n"
    "COMMAND #2 PASS \"x\"\n"
    "COMMAND #3 RETR \"3\"\n"
    "REPLY #1 1 USER x=\"+OK\"\n"
    "REPLY #2 1 PASS x=\"+OK\"\n"
    "AUTH #1 1 USER \"bob\" x=\"x\" n=1,0,0,0\n"
    "STATE TRANSACTION\n"
    "REPLY #3 1 RETR x=\"+OK\"\n"
    "MSG_BEGIN #3 tx=1 RETR\n"
    "MSG_META tx=1 n=3,0,0,0\n"
    "MSG_DATA tx=1 \"From: a\\r\\n\\r\\nbody that never\"\n"
    "MSG_END tx=1 n=26,0,0,0\n"
    "SESSION_END 5 none n=26,52,0,0\n";

/*
 * fetchmail's TOP n 99999999: the body ended before the lines asked for,
 * so the message came whole, as RETR would send it.  TOP 1 2 with a body
 * of exactly two lines cannot tell: a part.
 */
static const struct step top_whole[] = {
	S("+OK ready\r\n"),
	C("USER bob\r\nPASS x\r\nTOP 1 99999999\r\nTOP 1 2\r\n"),
	S("+OK\r\n+OK\r\n+OK\r\nFrom: a\r\n\r\nline 1\r\n..line 2\r\n.\r\n"
	  "+OK\r\nFrom: a\r\n\r\nline 1\r\n..line 2\r\n.\r\n"),
};

static const char top_whole_expect[] =
    "SESSION_BEGIN pop3\n"
    "GREETING 1 \"ready\" x=\"+OK\"\n"
    "STATE AUTHORIZATION\n"
    "COMMAND #1 USER \"bob\"\n"
    "COMMAND #2 PASS \"x\"\n"
    "COMMAND #3 TOP \"1 99999999\"\n"
    "COMMAND #4 TOP \"1 2\"\n"
    "REPLY #1 1 USER x=\"+OK\"\n"
    "REPLY #2 1 PASS x=\"+OK\"\n"
    "AUTH #1 1 USER \"bob\" x=\"x\" n=1,0,0,0\n"
    "STATE TRANSACTION\n"
    "REPLY #3 1 TOP x=\"+OK\"\n"
    "MSG_BEGIN #3 tx=1 TOP\n"
    "MSG_META tx=1 n=1,0,0,0\n"
    "MSG_DATA tx=1 \"From: a\\r\\n\\r\\nline 1\\r\\n.line 2\\r\\n\"\n"
    "MSG_END tx=1 1 n=28,0,0,0\n"
    "REPLY #4 1 TOP x=\"+OK\"\n"
    "MSG_BEGIN #4 tx=2 TOP\n"
    "MSG_META tx=2 n=1,0,0,0\n"
    "MSG_DATA tx=2 \"From: a\\r\\n\\r\\nline 1\\r\\n.line 2\\r\\n\"\n"
    "MSG_META tx=2 1 a=\"2\" n=1,0,0,0\n"
    "MSG_END tx=2 1 n=28,0,0,0\n"
    "SESSION_END 5 none n=43,95,0,0\n";

static const struct tcase cases[] = {
	{ "top_whole", top_whole, N(top_whole), MD_TLS_NONE, top_whole_expect },
	{ "mailbox", mailbox, N(mailbox), MD_TLS_NONE, mailbox_expect },
	{ "sasl", sasl, N(sasl), MD_TLS_NONE, sasl_expect },
	{ "apop", apop, N(apop), MD_TLS_NONE, apop_expect },
	{ "stls", stls, N(stls), MD_TLS_NONE, stls_expect },
	{ "cut", cut, N(cut), MD_TLS_NONE, cut_expect },
	{ "downgrade", downgrade, N(downgrade), MD_TLS_NONE, downgrade_expect },
};

int
main(void)
{
	return transcript_suite("pop3", &md_proto_pop3, cases, N(cases));
}
