/*
 * test_smtp.c - the SMTP dissector fed byte strings: every case is checked
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

#define EHLO_STEPS                                                            \
	S("220 mx.example.org ESMTP Postfix\r\n"),                            \
	    C("EHLO client.example.net\r\n"),                                 \
	    S("250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n" \
	      "250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-STARTTLS\r\n250 CHUNKING\r\n")

/* What EHLO_STEPS gives. */
#define EHLO_EXPECT                                                                                                             \
	"SESSION_BEGIN smtp\n"                                                                                                  \
	"GREETING 220 \"mx.example.org ESMTP Postfix\"\n"                                                                       \
	"COMMAND #1 EHLO \"client.example.net\"\n"                                                                              \
	"HELO #1 EHLO \"client.example.net\"\n"                                                                                 \
	"REPLY #1 250 EHLO \"mx.example.org\\nPIPELINING\\nSIZE 10240000\\nAUTH PLAIN LOGIN CRAM-MD5\\nSTARTTLS\\nCHUNKING\"\n" \
	"EXTENSION PIPELINING\n"                                                                                                \
	"EXTENSION SIZE \"10240000\"\n"                                                                                         \
	"EXTENSION AUTH \"PLAIN LOGIN CRAM-MD5\"\n"                                                                             \
	"EXTENSION STARTTLS\n"                                                                                                  \
	"EXTENSION CHUNKING\n"

/* A plain transaction; a leading dot in the body is unstuffed. */
static const struct step basic[] = {
	EHLO_STEPS,
	C("MAIL FROM:<alice@example.net> SIZE=58 BODY=8BITMIME\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<bob@example.org>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 End data with <CR><LF>.<CR><LF>\r\n"),
	C("Subject: hi\r\n\r\n..leading dot\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as 4XyZ12AbC\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

/* PIPELINING (RFC 2920): commands ahead of replies; one RCPT refused. */
static const struct step pipelined[] = {
	EHLO_STEPS,
	C("MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\n"
	  "RCPT TO:<nobody@example.org>\r\nDATA\r\n"),
	S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	  "550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n"
	  "354 go ahead\r\n"),
	C("From: a@example.net\r\n\r\nbody\r\n.\r\nRSET\r\n"),
	S("250 2.0.0 Ok: queued as ABC\r\n250 2.0.0 Ok\r\n"),
	C("MAIL FROM:<>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"
	  "Subject: sent before the 354\r\n\r\nx\r\n.\r\n"),
	S("250 Ok\r\n250 Ok\r\n354 Go\r\n250 OK id=1Mugho-0003Dg-Un\r\n"),
};

/* BDAT (RFC 3030): counted chunks carry CRLF.CRLF untouched. */
static const struct step bdat[] = {
	EHLO_STEPS,
	C("MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\n"),
	S("250 Ok\r\n250 Ok\r\n"),
	C("BDAT 12\r\nab\r\n.\r\n.cd\r\n"),
	S("250 2.0.0 12 octets received\r\n"),
	C("BDAT 5 LAST\r\nend\r\n"),
	S("250 2.0.0 Ok: queued as BD1\r\n"),
	C("MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nBDAT 0 LAST\r\n"),
	S("250 Ok\r\n250 Ok\r\n250 Ok: queued as BD2\r\n"),
	C("BDAT x\r\nBDAT 99999999999999999999999 LAST\r\n"),
	S("501 bad\r\n501 bad\r\n"),
};

/* AUTH PLAIN with an initial response, LOGIN in two steps, CRAM-MD5. */
static const struct step auth[] = {
	EHLO_STEPS,
	C("AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n"),
	S("535 5.7.8 Error: authentication failed\r\n"),
	C("AUTH LOGIN\r\n"),
	S("334 VXNlcm5hbWU6\r\n"),
	C("Ym9i\r\n"),
	S("334 UGFzc3dvcmQ6\r\n"),
	C("aHVudGVyMg==\r\n"),
	S("235 2.7.0 Authentication successful\r\n"),
	C("AUTH CRAM-MD5\r\n"),
	S("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
	C("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"),
	S("235 ok\r\n"),
	C("AUTH PLAIN\r\n"),
	S("334 \r\n"),
	C("*\r\n"),
	S("501 5.7.0 Authentication aborted\r\n"),
	C("AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\r\n"),
	S("235 2.7.0 Accepted\r\n"),
};

/* One-sided capture: no server bytes; SASL framing comes from the mechanism. */
static const struct step client_only[] = {
	C("EHLO c\r\nAUTH LOGIN\r\n"),
	C("dXNlcg==\r\ncGFzcw==\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
	C("Subject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n"),
};

/* STARTTLS: after the 220 both directions are TLS and not parsed. */
static const struct step starttls[] = {
	EHLO_STEPS,
	C("STARTTLS\r\n"),
	S("220 2.0.0 Ready to start TLS\r\n"),
	{ MD_C2S, "\x16\x03\x01\x00\x05hello", 10 },
	{ MD_S2C, "\x16\x03\x03\x00\x02hi\r\n250 fake\r\n", 19 },
	{ MD_C2S, "\x17\x03\x03\x00\x04QUIT\r\n", 11 },
};

/* CVE-2011-0411 class: commands after STARTTLS in the same segment. */
static const struct step starttls_inject[] = {
	EHLO_STEPS,
	C("STARTTLS\r\nRSET\r\n"),
	S("220 2.0.0 Ready to start TLS\r\n"),
	{ MD_C2S, "\x16\x03\x01\x00\x01x", 6 },
};

/* Session cut inside DATA: the partial message is kept, incomplete. */
static const struct step cut_data[] = {
	EHLO_STEPS,
	C("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
	S("250 Ok\r\n250 Ok\r\n354 Go\r\n"),
	C("Subject: cut\r\n\r\npart one\r\npart t"),
};

/* DATA refused before any body: following lines are commands again. */
static const struct step data_refused[] = {
	S("220 mx ESMTP\r\n"),
	C("HELO c\r\n"),
	S("250 mx\r\n"),
	C("DATA\r\n"),
	S("503 5.5.1 Error: need RCPT command\r\n"),
	C("Subject: x\r\n"),
	S("500 5.5.2 Error: command not recognized\r\n"),
	C("MAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n"),
	S("250 Ok\r\n503 5.5.1 Error: nested MAIL command\r\n"),
	C("XFOO bar baz\r\nQUIT\r\n"),
	S("502 5.5.2 Error: command not recognized\r\n221 Bye\r\n"),
};

/* Hostile and odd input: bare LF, bare-LF end of data, NUL, junk replies. */
static const struct step odd[] = {
	S("220 mx\n"),
	C("HELO c\n"),
	S("250 mx\r\nnot a reply\r\n"),
	C("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
	S("250 Ok\r\n250 Ok\r\n354 Go\r\n"),
	{ MD_C2S, "line\n.\r\nNOOP\0x\r\n", 16 },
	S("250 Ok\r\n250 Ok\r\n250 extra\r\n"),
};

/*
 * LMTP (RFC 2033): after the data, one reply per accepted recipient, in
 * RCPT order (the rejected one gets none); QUIT's reply comes after them.
 * A reply whose code is outside RFC 5321 4.2 (second digit 6) is no reply.
 */
#define LMTP_EXPECT                                                                                      \
	"SESSION_BEGIN smtp\n"                                                                           \
	"GREETING 220 \"mail.example.org Dovecot ready.\"\n"                                             \
	"COMMAND #1 LHLO \"relay.example.org\"\n"                                                        \
	"HELO #1 LHLO \"relay.example.org\"\n"                                                           \
	"REPLY #1 250 LHLO \"mail.example.org\\nPIPELINING\\nENHANCEDSTATUSCODES\"\n"                    \
	"EXTENSION PIPELINING\n"                                                                         \
	"EXTENSION ENHANCEDSTATUSCODES\n"                                                                \
	"COMMAND #2 MAIL \"FROM:<a@example.net>\"\n"                                                     \
	"TX_BEGIN #2 tx=1 \"a@example.net\"\n"                                                           \
	"COMMAND #3 RCPT \"TO:<bob@example.org>\"\n"                                                     \
	"RCPT #3 tx=1 \"bob@example.org\"\n"                                                             \
	"COMMAND #4 RCPT \"TO:<nobody@example.org>\"\n"                                                  \
	"RCPT #4 tx=1 \"nobody@example.org\"\n"                                                          \
	"COMMAND #5 RCPT \"TO:<carol@example.org>\"\n"                                                   \
	"RCPT #5 tx=1 \"carol@example.org\"\n"                                                           \
	"COMMAND #6 DATA\n"                                                                              \
	"REPLY #2 tx=1 250 MAIL \"2.1.0 OK\"\n"                                                          \
	"REPLY #3 tx=1 250 RCPT \"2.1.5 OK\"\n"                                                          \
	"REPLY #4 tx=1 550 RCPT \"5.1.1 <nobody@example.org> User doesn't exist\"\n"                     \
	"REPLY #5 tx=1 250 RCPT \"2.1.5 OK\"\n"                                                          \
	"REPLY #6 tx=1 354 DATA \"OK\"\n"                                                                \
	"MSG_BEGIN tx=1 DATA\n"                                                                          \
	"MSG_DATA tx=1 \"Subject: two\\r\\n\\r\\nx\\r\\n\"\n"                                            \
	"MSG_END tx=1 1 n=19,0,0,0\n"                                                                    \
	"COMMAND #7 QUIT\n"                                                                              \
	"TX_REPLY tx=1 250 \"2.0.0 <bob@example.org> kBD9Ch1o Saved\"\n"                                 \
	"DELIVERY #3 tx=1 250 \"2.0.0 <bob@example.org> kBD9Ch1o Saved\"\n"                              \
	"DELIVERY #5 tx=1 452 \"4.2.2 <carol@example.org> Quota exceeded (mailbox for user is full)\"\n" \
	"ANOMALY malformed_reply \"260 not a reply code\"\n"                                             \
	"REPLY #7 221 QUIT \"2.0.0 Bye\"\n"                                                              \
	"SESSION_END 1 none n=171,355,0,0\n"                                                             \
	""
static const struct step lmtp[] = {
	S("220 mail.example.org Dovecot ready.\r\n"),
	C("LHLO relay.example.org\r\n"),
	S("250-mail.example.org\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n"),
	C("MAIL FROM:<a@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
	  "RCPT TO:<nobody@example.org>\r\nRCPT TO:<carol@example.org>\r\n"
	  "DATA\r\n"),
	S("250 2.1.0 OK\r\n250 2.1.5 OK\r\n550 5.1.1 <nobody@example.org> User doesn't exist\r\n"
	  "250 2.1.5 OK\r\n354 OK\r\n"),
	C("Subject: two\r\n\r\nx\r\n.\r\nQUIT\r\n"),
	S("250 2.0.0 <bob@example.org> kBD9Ch1o Saved\r\n"),
	S("452 4.2.2 <carol@example.org> Quota exceeded (mailbox for user is full)\r\n"),
	S("260 not a reply code\r\n221 2.0.0 Bye\r\n"),
};

/*
 * Holes in the client's bytes (Zeek's smtp-bdat-gap): a BDAT chunk whose
 * end lies inside a hole is cut there, with the command the hole took;
 * the reply to that command is not DATA's; lines are skipped up to the
 * next command, and the DATA message after it is whole.  A hole inside a
 * command line: its tail is skipped.
 */
#define BDAT_GAP_EXPECT                                                   \
	EHLO_EXPECT                                                       \
	"COMMAND #2 MAIL \"FROM:<a@example.net>\"\n"                      \
	"TX_BEGIN #2 tx=1 \"a@example.net\"\n"                            \
	"COMMAND #3 RCPT \"TO:<b@example.org>\"\n"                        \
	"RCPT #3 tx=1 \"b@example.org\"\n"                                \
	"REPLY #2 tx=1 250 MAIL \"Ok\"\n"                                 \
	"REPLY #3 tx=1 250 RCPT \"Ok\"\n"                                 \
	"COMMAND #4 BDAT \"200\"\n"                                       \
	"MSG_BEGIN tx=1 BDAT\n"                                           \
	"MSG_DATA tx=1 \"0123456789012345678901234567890123456789\"\n"    \
	"ANOMALY stream_gap \"1000 bytes\" n=1000,0,0,0\n"                \
	"MSG_END tx=1 n=40,0,0,0\n"                                       \
	"COMMAND #5 DATA\n"                                               \
	"ANOMALY data_without_mail\n"                                     \
	"REPLY #4 tx=1 250 BDAT \"OK\"\n"                                 \
	"ANOMALY reply_to_lost_command \"OK\"\n"                          \
	"REPLY 250 \"OK\"\n"                                              \
	"REPLY #5 354 DATA \"go\"\n"                                      \
	"MSG_BEGIN tx=2 DATA n=1,0,0,0\n"                                 \
	"MSG_DATA tx=2 \"From: a@example.net\\r\\n\\r\\nHello!\\r\\n\"\n" \
	"MSG_END tx=2 1 n=31,0,0,0\n"                                     \
	"TX_REPLY tx=2 250 \"OK: queued as G1\" x=\"G1\"\n"               \
	"COMMAND #6 RSET\n"                                               \
	"ANOMALY stream_gap \"20 bytes\" n=20,0,0,0\n"                    \
	"ANOMALY resync_after_gap \"mple.net>\"\n"                        \
	"COMMAND #7 NOOP\n"                                               \
	"REPLY #6 250 RSET \"Ok\"\n"                                      \
	"REPLY #7 250 NOOP \"Ok\"\n"                                      \
	"ANOMALY reply_without_command \"Ok\"\n"                          \
	"REPLY 250 \"Ok\"\n"                                              \
	"SESSION_END 5 none n=206,234,0,0\n"                              \
	""
static const struct step bdat_gap[] = {
	EHLO_STEPS,
	C("MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\n"),
	S("250 Ok\r\n250 Ok\r\n"),
	C("BDAT 200\r\n0123456789012345678901234567890123456789"),
	GAP(MD_C2S, 1000),
	C("DATA\r\n"),
	S("250 OK\r\n250 OK\r\n354 go\r\n"),
	C("From: a@example.net\r\n\r\nHello!\r\n.\r\n"),
	S("250 OK: queued as G1\r\n"),
	C("RSET\r\nMAIL FROM:<a@exa"),
	GAP(MD_C2S, 20),
	C("mple.net>\r\nNOOP\r\n"),
	S("250 Ok\r\n250 Ok\r\n250 Ok\r\n"),
};

/* Implicit TLS (465): bytes counted, nothing parsed. */
static const struct step implicit[] = {
	{ MD_C2S, "\x16\x03\x01\x00\x02hi", 7 },
	{ MD_S2C, "\x16\x03\x03\x00\x01x", 6 },
};

/* A ClientHello on 465 that the server answers in clear text (nDPI's
 * smtps capture, Exim): the greeting is logged, the session is no TLS. */
static const struct step hello_in_clear[] = {
	{ MD_C2S, "\x16\x03\x01\x00\x02hi", 7 },
	S("220-mx.example.org ESMTP Exim 4.93\r\n220 no bulk mail.\r\n"),
};

static const char hello_in_clear_expect[] =
    "SESSION_BEGIN 2 smtp\n"
    "ANOMALY tls_answered_in_clear\n"
    "GREETING 220 \"mx.example.org ESMTP Exim 4.93\\nno bulk mail.\"\n"
    "TLS_END n=0,0,1,0\n"
    "SESSION_END 5 none n=7,55,7,0\n";

static const struct tcase cases[] = {
	{ "hello_in_clear", hello_in_clear, N(hello_in_clear), MD_TLS_IMPLICIT,
	    hello_in_clear_expect },
	{ "lmtp", lmtp, N(lmtp), MD_TLS_NONE, LMTP_EXPECT },
	{ "bdat_gap", bdat_gap, N(bdat_gap), MD_TLS_NONE, BDAT_GAP_EXPECT },
	{ "basic", basic, N(basic), MD_TLS_NONE,
	    EHLO_EXPECT
	    "COMMAND #2 MAIL \"FROM:<alice@example.net> SIZE=58 BODY=8BITMIME\"\n"
	    "TX_BEGIN #2 tx=1 \"alice@example.net\" x=\"SIZE=58 BODY=8BITMIME\"\n"
	    "REPLY #2 tx=1 250 MAIL \"2.1.0 Ok\"\n"
	    "COMMAND #3 RCPT \"TO:<bob@example.org>\"\n"
	    "RCPT #3 tx=1 \"bob@example.org\"\n"
	    "REPLY #3 tx=1 250 RCPT \"2.1.5 Ok\"\n"
	    "COMMAND #4 DATA\n"
	    "REPLY #4 tx=1 354 DATA \"End data with <CR><LF>.<CR><LF>\"\n"
	    "MSG_BEGIN tx=1 DATA\n"
	    "MSG_DATA tx=1 \"Subject: hi\\r\\n\\r\\n.leading dot\\r\\n\"\n"
	    "MSG_END tx=1 1 n=29,0,0,0\n"
	    "TX_REPLY tx=1 250 \"2.0.0 Ok: queued as 4XyZ12AbC\" x=\"4XyZ12AbC\"\n"
	    "COMMAND #5 QUIT\n"
	    "REPLY #5 221 QUIT \"2.0.0 Bye\"\n"
	    "SESSION_END 1 none n=150,263,0,0\n" },
	{ "pipelined", pipelined, N(pipelined), MD_TLS_NONE,
	    EHLO_EXPECT
	    "COMMAND #2 MAIL \"FROM:<a@example.net>\"\n"
	    "TX_BEGIN #2 tx=1 \"a@example.net\"\n"
	    "COMMAND #3 RCPT \"TO:<b@example.org>\"\n"
	    "RCPT #3 tx=1 \"b@example.org\"\n"
	    "COMMAND #4 RCPT \"TO:<nobody@example.org>\"\n"
	    "RCPT #4 tx=1 \"nobody@example.org\"\n"
	    "COMMAND #5 DATA\n"
	    "REPLY #2 tx=1 250 MAIL \"2.1.0 Ok\"\n"
	    "REPLY #3 tx=1 250 RCPT \"2.1.5 Ok\"\n"
	    "REPLY #4 tx=1 550 RCPT \"5.1.1 <nobody@example.org>: Recipient address rejected\"\n"
	    "REPLY #5 tx=1 354 DATA \"go ahead\"\n"
	    "MSG_BEGIN tx=1 DATA\n"
	    "MSG_DATA tx=1 \"From: a@example.net\\r\\n\\r\\nbody\\r\\n\"\n"
	    "MSG_END tx=1 1 n=29,0,0,0\n"
	    "COMMAND #6 RSET\n"
	    "TX_REPLY tx=1 250 \"2.0.0 Ok: queued as ABC\" x=\"ABC\"\n"
	    "REPLY #6 250 RSET \"2.0.0 Ok\"\n"
	    "COMMAND #7 MAIL \"FROM:<>\"\n"
	    "TX_BEGIN #7 tx=2\n"
	    "COMMAND #8 RCPT \"TO:<c@example.org>\"\n"
	    "RCPT #8 tx=2 \"c@example.org\"\n"
	    "COMMAND #9 DATA\n"
	    "MSG_BEGIN tx=2 DATA\n"
	    "MSG_DATA tx=2 \"Subject: sent before the 354\\r\\n\\r\\nx\\r\\n\"\n"
	    "MSG_END tx=2 1 n=35,0,0,0\n"
	    "REPLY #7 tx=2 250 MAIL \"Ok\"\n"
	    "REPLY #8 tx=2 250 RCPT \"Ok\"\n"
	    "REPLY #9 tx=2 354 DATA \"Go\"\n"
	    "TX_REPLY tx=2 250 \"OK id=1Mugho-0003Dg-Un\" x=\"1Mugho-0003Dg-Un\"\n"
	    "SESSION_END 5 none n=234,345,0,0\n" },
	{ "bdat", bdat, N(bdat), MD_TLS_NONE,
	    EHLO_EXPECT
	    "COMMAND #2 MAIL \"FROM:<a@example.net>\"\n"
	    "TX_BEGIN #2 tx=1 \"a@example.net\"\n"
	    "COMMAND #3 RCPT \"TO:<b@example.org>\"\n"
	    "RCPT #3 tx=1 \"b@example.org\"\n"
	    "REPLY #2 tx=1 250 MAIL \"Ok\"\n"
	    "REPLY #3 tx=1 250 RCPT \"Ok\"\n"
	    "COMMAND #4 BDAT \"12\"\n"
	    "MSG_BEGIN tx=1 BDAT\n"
	    "MSG_DATA tx=1 \"ab\\r\\n.\\r\\n.cd\\r\\n\"\n"
	    "REPLY #4 tx=1 250 BDAT \"2.0.0 12 octets received\"\n"
	    "COMMAND #5 BDAT \"5 LAST\"\n"
	    "MSG_DATA tx=1 \"end\\r\\n\"\n"
	    "MSG_END tx=1 1 n=17,0,0,0\n"
	    "REPLY #5 tx=1 250 BDAT \"2.0.0 Ok: queued as BD1\"\n"
	    "TX_REPLY tx=1 250 \"2.0.0 Ok: queued as BD1\" x=\"BD1\"\n"
	    "COMMAND #6 MAIL \"FROM:<a@example.net>\"\n"
	    "TX_BEGIN #6 tx=2 \"a@example.net\"\n"
	    "COMMAND #7 RCPT \"TO:<b@example.org>\"\n"
	    "RCPT #7 tx=2 \"b@example.org\"\n"
	    "COMMAND #8 BDAT \"0 LAST\"\n"
	    "MSG_BEGIN tx=2 BDAT\n"
	    "MSG_END tx=2 1\n"
	    "REPLY #6 tx=2 250 MAIL \"Ok\"\n"
	    "REPLY #7 tx=2 250 RCPT \"Ok\"\n"
	    "REPLY #8 tx=2 250 BDAT \"Ok: queued as BD2\"\n"
	    "TX_REPLY tx=2 250 \"Ok: queued as BD2\" x=\"BD2\"\n"
	    "COMMAND #9 BDAT \"x\"\n"
	    "ANOMALY invalid_bdat_command \"x\"\n"
	    "COMMAND #10 BDAT \"99999999999999999999999 LAST\"\n"
	    "ANOMALY huge_bdat_chunk \"99999999999999999999999 LAST\"\n"
	    "REPLY #9 501 BDAT \"bad\"\n"
	    "REPLY #10 501 BDAT \"bad\"\n"
	    "SESSION_END 5 none n=224,280,0,0\n" },
	{ "auth", auth, N(auth), MD_TLS_NONE,
	    EHLO_EXPECT
	    "COMMAND #2 AUTH \"PLAIN AGFsaWNlAHMzY3JldA==\"\n"
	    "REPLY #2 535 AUTH \"5.7.8 Error: authentication failed\"\n"
	    "AUTH #2 535 PLAIN \"alice\" x=\"s3cret\" n=2,0,0,0\n"
	    "COMMAND #3 AUTH \"LOGIN\"\n"
	    "REPLY #3 235 AUTH \"2.7.0 Authentication successful\"\n"
	    "AUTH #3 235 LOGIN \"bob\" x=\"hunter2\" n=1,0,0,0\n"
	    "COMMAND #4 AUTH \"CRAM-MD5\"\n"
	    "REPLY #4 235 AUTH \"ok\"\n"
	    "AUTH #4 235 CRAM-MD5 \"tim\" a=\"<1896.697170952@postoffice.reston.mci.net>\" p=\"b913a602c7eda7a495b4e6e7334d3890\" n=1,0,0,0\n"
	    "COMMAND #5 AUTH \"PLAIN\"\n"
	    "REPLY #5 501 AUTH \"5.7.0 Authentication aborted\"\n"
	    "AUTH #5 501 PLAIN n=3,0,0,0\n"
	    "COMMAND #6 AUTH \"XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\"\n"
	    "REPLY #6 235 AUTH \"2.7.0 Accepted\"\n"
	    "AUTH #6 235 XOAUTH2 \"someuser@example.com\" p=\"ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\" n=1,0,0,0\n"
	    "SESSION_END 5 none n=301,391,0,0\n" },
	{ "client_only", client_only, N(client_only), MD_TLS_NONE,
	    "SESSION_BEGIN smtp\n"
	    "COMMAND #1 EHLO \"c\"\n"
	    "HELO #1 EHLO \"c\"\n"
	    "COMMAND #2 AUTH \"LOGIN\"\n"
	    "COMMAND #3 MAIL \"FROM:<a@b>\"\n"
	    "TX_BEGIN #3 tx=1 \"a@b\"\n"
	    "COMMAND #4 RCPT \"TO:<c@d>\"\n"
	    "RCPT #4 tx=1 \"c@d\"\n"
	    "COMMAND #5 DATA\n"
	    "MSG_BEGIN tx=1 DATA\n"
	    "MSG_DATA tx=1 \"Subject: x\\r\\n\\r\\nhello\\r\\n\"\n"
	    "MSG_END tx=1 1 n=21,0,0,0\n"
	    "COMMAND #6 QUIT\n"
	    "AUTH #2 LOGIN \"user\" x=\"pass\"\n"
	    "SESSION_END 1 none n=108,0,0,0\n" },
	{ "starttls", starttls, N(starttls), MD_TLS_NONE,
	    EHLO_EXPECT "COMMAND #2 STARTTLS\n"
			"REPLY #2 220 STARTTLS \"2.0.0 Ready to start TLS\"\n"
			"STARTTLS #2 220\n"
			"ANOMALY tls_handshake_too_long\n"
			"ANOMALY tls_malformed \"not a TLS record\"\n"
			"TLS_END n=0,0,2,1\n"
			"SESSION_END 5 starttls n=56,197,21,19\n" },
	{ "starttls_inject", starttls_inject, N(starttls_inject), MD_TLS_NONE,
	    EHLO_EXPECT "COMMAND #2 STARTTLS\n"
			"ANOMALY plaintext_after_starttls \"RSET\"\n"
			"COMMAND #3 RSET\n"
			"REPLY #2 220 STARTTLS \"2.0.0 Ready to start TLS\"\n"
			"STARTTLS #2 220\n"
			"TLS_END n=0,0,1,0\n"
			"SESSION_END 5 starttls n=47,178,6,0\n" },
	{ "cut_data", cut_data, N(cut_data), MD_TLS_NONE,
	    EHLO_EXPECT
	    "COMMAND #2 MAIL \"FROM:<a@b>\"\n"
	    "TX_BEGIN #2 tx=1 \"a@b\"\n"
	    "COMMAND #3 RCPT \"TO:<c@d>\"\n"
	    "RCPT #3 tx=1 \"c@d\"\n"
	    "COMMAND #4 DATA\n"
	    "REPLY #2 tx=1 250 MAIL \"Ok\"\n"
	    "REPLY #3 tx=1 250 RCPT \"Ok\"\n"
	    "REPLY #4 tx=1 354 DATA \"Go\"\n"
	    "MSG_BEGIN tx=1 DATA\n"
	    "MSG_DATA tx=1 \"Subject: cut\\r\\n\\r\\npart one\\r\\npart t\"\n"
	    "MSG_END tx=1 n=32,0,0,0\n"
	    "SESSION_END 5 none n=95,172,0,0\n" },
	{ "data_refused", data_refused, N(data_refused), MD_TLS_NONE,
	    "SESSION_BEGIN smtp\n"
	    "GREETING 220 \"mx ESMTP\"\n"
	    "COMMAND #1 HELO \"c\"\n"
	    "HELO #1 HELO \"c\"\n"
	    "REPLY #1 250 HELO \"mx\"\n"
	    "COMMAND #2 DATA\n"
	    "ANOMALY data_without_mail\n"
	    "REPLY #2 503 DATA \"5.5.1 Error: need RCPT command\"\n"
	    "COMMAND #3 SUBJECT: \"x\"\n"
	    "REPLY #3 500 SUBJECT: \"5.5.2 Error: command not recognized\"\n"
	    "COMMAND #4 MAIL \"FROM:<a@b>\"\n"
	    "TX_BEGIN #4 tx=1 \"a@b\"\n"
	    "COMMAND #5 MAIL \"FROM:<a@b>\"\n"
	    "TX_BEGIN #5 tx=2 \"a@b\"\n"
	    "REPLY #4 tx=1 250 MAIL \"Ok\"\n"
	    "REPLY #5 tx=2 503 MAIL \"5.5.1 Error: nested MAIL command\"\n"
	    "COMMAND #6 XFOO \"bar baz\"\n"
	    "COMMAND #7 QUIT\n"
	    "REPLY #6 tx=1 502 XFOO \"5.5.2 Error: command not recognized\"\n"
	    "REPLY #7 tx=1 221 QUIT \"Bye\"\n"
	    "SESSION_END 1 none n=80,195,0,0\n" },
	{ "odd", odd, N(odd), MD_TLS_NONE,
	    "SESSION_BEGIN smtp\n"
	    "ANOMALY bare_lf \"220 mx\"\n"
	    "GREETING 220 \"mx\"\n"
	    "ANOMALY bare_lf \"HELO c\"\n"
	    "COMMAND #1 HELO \"c\"\n"
	    "HELO #1 HELO \"c\"\n"
	    "REPLY #1 250 HELO \"mx\"\n"
	    "ANOMALY malformed_reply \"not a reply\"\n"
	    "COMMAND #2 MAIL \"FROM:<a@b>\"\n"
	    "TX_BEGIN #2 tx=1 \"a@b\"\n"
	    "COMMAND #3 RCPT \"TO:<c@d>\"\n"
	    "RCPT #3 tx=1 \"c@d\"\n"
	    "COMMAND #4 DATA\n"
	    "REPLY #2 tx=1 250 MAIL \"Ok\"\n"
	    "REPLY #3 tx=1 250 RCPT \"Ok\"\n"
	    "REPLY #4 tx=1 354 DATA \"Go\"\n"
	    "MSG_BEGIN tx=1 DATA\n"
	    "MSG_DATA tx=1 \"line\\n\"\n"
	    "ANOMALY bare_lf_end_of_data\n"
	    "MSG_END tx=1 1 n=5,0,0,0\n"
	    "ANOMALY nul_byte\n"
	    "COMMAND #5 NOOP\\x00X\n"
	    "TX_REPLY tx=1 250 \"Ok\"\n"
	    "REPLY #5 250 NOOP\\x00X \"Ok\"\n"
	    "ANOMALY reply_without_command \"extra\"\n"
	    "REPLY 250 \"extra\"\n"
	    "SESSION_END 5 none n=61,79,0,0\n" },
	{ "implicit", implicit, N(implicit), MD_TLS_IMPLICIT,
	    "SESSION_BEGIN 2 smtp\n"
	    "TLS_END n=0,0,1,1\n"
	    "SESSION_END 5 implicit n=7,6,7,6\n" },
};

/* Every answer's verdict follows its reply class, so that a sink need
 * not know SMTP's numbers (the records show the number only). */
struct verdicts {
	int	       n;
	enum md_ev     type[10];
	enum md_status status[10];
};

static int
verdict_emit(void *arg, const struct md_event *ev)
{
	struct verdicts *v = arg;

	if (ev->code < 100 || v->n == 10)
		return 0;
	v->type[v->n] = ev->type;
	v->status[v->n++] = ev->status;
	return 0;
}

static void
test_status(void **state)
{
	static const struct md_flow flow = { .id = 1 };
	static const char	    c2s[] = "EHLO c\r\nAUTH PLAIN AGFAYg==\r\n"
					    "STARTTLS\r\nMAIL FROM:<a@b>\r\nDATA\r\n";
	static const char	s2c[] = "220 mx\r\n250 mx\r\n535 5.7.8 no\r\n"
					"454 4.7.0 later\r\n250 ok\r\n354 go\r\n";
	static const enum md_ev type[] = { MD_EV_GREETING, MD_EV_REPLY,
		MD_EV_REPLY, MD_EV_AUTH, MD_EV_REPLY, MD_EV_STARTTLS,
		MD_EV_REPLY, MD_EV_REPLY };
	static const enum md_status want[] = { MD_ST_OK, MD_ST_OK, MD_ST_NO,
		MD_ST_NO, MD_ST_NO, MD_ST_NO, MD_ST_OK, MD_ST_OK };
	struct verdicts		    v = { 0 };
	struct md_sink		    sink = { verdict_emit, &v };
	struct md_env		    env;
	void			   *st;

	(void)state;
	md_env_default(&env);
	st = md_proto_smtp.open(&sink, &env, &flow, MD_TLS_NONE, 0);
	md_proto_smtp.feed(st, MD_S2C, (const uint8_t *)s2c, 8, 1);
	md_proto_smtp.feed(st, MD_C2S, (const uint8_t *)c2s, sizeof(c2s) - 1,
	    2);
	md_proto_smtp.feed(st, MD_S2C, (const uint8_t *)s2c + 8,
	    sizeof(s2c) - 9, 3);
	md_proto_smtp.close(st, MD_END_CAPTURE_END, 4);
	assert_int_equal(v.n, N(want));
	for (int i = 0; i < v.n; i++) {
		assert_int_equal(v.type[i], type[i]);
		assert_int_equal(v.status[i], want[i]);
	}
	assert_int_equal(md_smtp_status(199), MD_ST_NONE);
	assert_int_equal(md_smtp_status(399), MD_ST_OK);
	assert_int_equal(md_smtp_status(400), MD_ST_NO);
	assert_int_equal(md_smtp_status(600), MD_ST_NONE);
}

int
main(void)
{
	static const struct CMUnitTest status[] = {
		cmocka_unit_test(test_status),
	};
	int failed =
	    cmocka_run_group_tests_name("smtp_status", status, NULL, NULL);

	return failed +
	    transcript_suite("smtp", &md_proto_smtp, cases, N(cases));
}
