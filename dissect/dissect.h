/*
 * dissect.h - the contract between the capture layer, the protocol
 * dissectors and the sinks.
 *
 * Bytes of one TCP connection arrive per direction, in any split, and are
 * pushed into a dissector with feed().  The dissector rebuilds the protocol
 * session and reports what it understood as a flat sequence of events to a
 * sink.  Dissectors never see libpcap, libnids or SQLite: a unit test feeds
 * them string literals, a fuzzer feeds them anything.
 *
 * Event pointers are borrowed: they are valid only during the emit() call.
 */
#ifndef MAILSIFT_DISSECT_H
#define MAILSIFT_DISSECT_H

#include <stddef.h>
#include <stdint.h>

enum md_dir {
	MD_C2S = 0, /* client to server */
	MD_S2C = 1  /* server to client */
};

/* A borrowed run of bytes; not NUL-terminated. */
struct md_bytes {
	const uint8_t *p;
	size_t	       len;
};

/*
 * What the capture layer knows of a connection.  Dissectors only copy the
 * pointer into their events; sinks read the addresses from it.
 */
/* The protocols dissected; MD_PROTO_NONE until detection decides. */
enum md_proto_id {
	MD_PROTO_NONE = 0,
	MD_PROTO_SMTP, /* and LMTP, its sibling (RFC 2033) */
	MD_PROTO_POP3,
	MD_PROTO_IMAP,
	MD_PROTOS
};

struct md_flow {
	uint64_t	 id;	/* unique within one run, from 1 */
	enum md_proto_id proto; /* set by the capture layer when detection
				 * decides, before the dissector opens */
	int	 family;	/* AF_INET or AF_INET6 */
	uint8_t	 cli_addr[16];	/* network byte order */
	uint8_t	 srv_addr[16];
	uint16_t cli_port;
	uint16_t srv_port;
	int	 midstream; /* picked up without its handshake: the
			     * capture began after the connection */
	/*
	 * Provenance, kept current by the capture layer: the packet whose
	 * bytes are being processed, as its number in its capture file
	 * (from 1) and the byte offset in that file where its record
	 * begins (-1: not known, as on a pipe); and the same for the packet
	 * that completed the handshake.  0 frames: no capture file (tests).
	 */
	uint64_t frame;
	int64_t	 offset;
	uint64_t first_frame;
	int64_t	 first_offset;
	/* capture time of the connection's first packet (its SYN when the
	 * capture has it), microseconds; 0: not known (tests) */
	uint64_t first_ts;
};

/*
 * Event types.  The meaning of the generic event fields per type:
 *
 *   SESSION_BEGIN  name=protocol ("smtp", "pop3", "imap"),
 *                  tls=mode at start, num[0]=1 when picked up
 *                  mid-stream (md_flow.midstream)
 *   GREETING       code=reply code (SMTP), status, arg=banner text,
 *                  extra=status word (POP3 "+OK", IMAP "OK"/"PREAUTH")
 *   COMMAND        seq, name=verb (upper case), arg=arguments,
 *                  extra=IMAP tag
 *   REPLY          seq=command answered (0: none), name=its verb,
 *                  code=reply code (SMTP), status,
 *                  arg=text (lines joined with '\n'), extra=status word
 *   HELO           seq, name=HELO/EHLO/LHLO, arg=client's host name
 *   EXTENSION      name=keyword (upper case), arg=parameters: the EHLO
 *                  reply, POP3 CAPA, IMAP CAPABILITY
 *   AUTH           seq, name=mechanism (SASL name, or USER, APOP, LOGIN
 *                  for the protocols' own commands), arg=user,
 *                  extra=password when it crossed in clear,
 *                  aux=server challenge (CRAM-MD5, APOP timestamp),
 *                  proof=client's proof (digest, OAuth token),
 *                  code=final reply code (SMTP), status of the final
 *                  reply, num[0]=MD_AUTH_*
 *   STARTTLS       seq, code=reply code (SMTP), status; TLS follows
 *                  when ok
 *   TX_BEGIN       tx, seq, arg=reverse-path, extra=MAIL parameters
 *   RCPT           tx, seq, arg=forward-path, extra=RCPT parameters
 *   MSG_BEGIN      tx, seq, dir=who sent the message, name=method
 *                  ("DATA", "BDAT", "RETR", "TOP", "FETCH", "APPEND"),
 *                  extra=the pieces it was rebuilt from (assembler),
 *                  num[0]=1 when the message opens SMTP transaction tx
 *                  itself: no TX_BEGIN came for it (its MAIL was not
 *                  captured, or the server took DATA without one)
 *   MSG_DATA       tx, arg=message bytes, exact, in order
 *   MSG_END        tx, code=1 complete / 0 cut short, num[0]=size,
 *                  num[1]=bytes known missing from it that the capture
 *                  did not lose (pieces never fetched: assembler)
 *   MSG_META       tx, what the protocol says of a message, any time
 *                  after its MSG_BEGIN: arg=mailbox, extra=flags,
 *                  aux=section when only a part of the message crossed
 *                  (IMAP "HEADER", "2", "<0.1024>"; POP3 TOP "n lines"),
 *                  num[0]=message sequence number, num[1]=UID,
 *                  num[2]=RFC822.SIZE when num[3] & 1 (IMAP),
 *                  code=1 when partial (a part, TOP)
 *   TX_REPLY       tx, code=final reply code, status, arg=text,
 *                  extra=queue id
 *   DELIVERY       LMTP (RFC 2033 4.2): tx, seq=the RCPT it answers for,
 *                  code=reply code, status, arg=text; one per accepted
 *                  recipient
 *                  after the end of data (the first is also TX_REPLY)
 *   ITEM           seq, a fact about one message of the maildrop or
 *                  mailbox: name=MD_ITEM_*, num[0]=sequence number,
 *                  num[1]=size, arg=unique id (POP3) / UID set (IMAP
 *                  VANISHED), extra=flags (IMAP STORE)
 *   MAILBOX        seq, IMAP SELECT/EXAMINE: name=verb, arg=mailbox,
 *                  status, num[0]=EXISTS, num[1]=UIDVALIDITY,
 *                  num[2]=UIDNEXT, num[3]=RECENT (UINT64_MAX: not sent)
 *   RESPONSE       seq=command it answers (0: unsolicited), an IMAP
 *                  untagged response or continuation: name=keyword
 *                  ("EXISTS", "FETCH", "+"), arg=text (literals shown
 *                  as {n}), code=1 when num[0] holds its number
 *                  ("* 3 EXPUNGE") or SEARCH's count of results
 *   IDENT          IMAP ID (RFC 2971): dir says whose, arg=the list
 *   STATE          name=protocol state entered (POP3 "TRANSACTION",
 *                  IMAP "SELECTED", ...)
 *   COMPRESS       seq, name=algorithm, status; when ok, both
 *                  directions are inflated from there on
 *   HEADER         tx, a field of the message's top-level header, in
 *                  order: name=field name, arg=value unfolded as sent,
 *                  extra=value decoded to UTF-8 (RFC 2047), aux=for Date
 *                  the time in UTC ("YYYY-MM-DD HH:MM:SS"), num[0]=its
 *                  place in the header from 0
 *   PART_BEGIN     tx, a MIME entity: name=path ("1", "2.1"), arg=content
 *                  type, extra=file name (decoded), aux=charset,
 *                  proof=transfer encoding, code=MD_DISP_*, num[0]=part
 *                  number in the message from 1; num[1]=md_part_kind:
 *                  MD_PART_CONTAINER for a message/rfc822 part whose raw
 *                  bytes (the forwarded message) follow as its
 *                  PART_DATA, interleaved with its own parts' events,
 *                  until its PART_END; MD_PART_FILE for a file found
 *                  inside the part at hand (a uuencoded block in its
 *                  text, an attachment of a TNEF part), path "P/n",
 *                  whose events come between that part's own
 *   PART_DATA      tx, num[0]=part number, arg=decoded bytes, in order
 *   PART_END       tx, num[0]=part number, num[1]=bytes as sent (encoded),
 *                  num[2]=decoded bytes, code=1 complete / 0 cut short
 *   TEXT           tx, readable text of the message for searching:
 *                  UTF-8, HTML tags removed, in order
 *   URL            tx, a link in a text part (urls.h): num[0]=part
 *                  number, name=the URL (entities decoded), arg=its
 *                  host (lower case; empty: none), extra=the text an
 *                  HTML link shows, aux=where it was ("text", "href",
 *                  "src", "action", ..., "mailto"), code=URL_F_*
 *                  findings, num[1]=1 when cut at URL_MAX bytes
 *   ANOMALY        name=anomaly code (MD_ANOM_*), arg=detail; for
 *                  stream_gap code=MD_ANOM_IS_GAP (a sink tests that,
 *                  not the name) and num[0]=bytes the capture lost
 *   TLS_HELLO      dir C2S a ClientHello, S2C a ServerHello, read without
 *                  keys: hello=all it said (struct md_tls_hello);
 *                  name=version ("TLSv13": negotiated, or the highest
 *                  offered), arg=SNI (client) or suite (server),
 *                  extra=JA3 / JA3S hash, aux=JA4 (client),
 *                  num[0]=version, num[1]=suite (server)
 *   TLS_CERT       a certificate in clear (TLS 1.2 and older): dir says
 *                  whose, arg=its DER bytes, num[0]=place in the chain
 *                  from 0 (the sender's own), num[1]=certificates in it
 *   TLS_ALERT      an alert in clear: name=description ("bad_certificate"),
 *                  num[0]=level (1 warning, 2 fatal), num[1]=description
 *   TLS_END        before SESSION_END of a session that spoke TLS:
 *                  code=1 when the handshake completed, num[0]=1 when it
 *                  resumed a session, num[1]=key exchange group (0: not
 *                  seen), num[2..3]=TLS records C2S/S2C
 *   SESSION_END    code=MD_END_*, tls=final mode, name=md_tls_str(tls),
 *                  num[0..1]=bytes C2S/S2C,
 *                  num[2..3]=of those, bytes after TLS began
 *
 * status is the verdict of a server's answer in every protocol: POP3
 * +OK/-ERR, IMAP OK/NO/BAD/BYE, SMTP 2xx and 3xx ok, 4xx and 5xx no
 * (md_smtp_status); code keeps SMTP's number, which says more.
 *
 * seq numbers the commands of a session from 1; tx numbers its mail
 * transactions (SMTP) or messages (POP3, IMAP) from 1.  Both let a sink
 * join events without keeping state.
 */
enum md_ev {
#define EVENT(name, scope) MD_EV_##name,
#include "dissect/events.def"
#undef EVENT
	MD_EV_COUNT
};

/* What a PART_BEGIN opens (num[1]), so that a sink can keep one of each
 * open at once. */
enum md_part_kind {
	MD_PART_LEAF = 0,      /* an entity with content */
	MD_PART_CONTAINER = 1, /* message/rfc822: its parts come inside */
	MD_PART_FILE = 2,      /* a file inside the leaf (uuencode, TNEF) */
	MD_PART_KINDS
};

enum md_tls {
	MD_TLS_NONE = 0,
	MD_TLS_STARTTLS = 1, /* upgraded in band */
	MD_TLS_IMPLICIT = 2  /* TLS from the first byte (465, 993, 995) */
};

enum md_auth_outcome {
	MD_AUTH_UNKNOWN = 0, /* no verdict seen (session cut, one side) */
	MD_AUTH_OK = 1,
	MD_AUTH_FAILED = 2,
	MD_AUTH_CANCELLED = 3 /* client sent "*" */
};

/* The verdict of a server's answer, in every protocol. */
enum md_status {
	MD_ST_NONE = 0,
	MD_ST_OK = 1,  /* +OK, OK, PREAUTH; SMTP 2xx, 3xx */
	MD_ST_NO = 2,  /* -ERR, NO; SMTP 4xx, 5xx */
	MD_ST_BAD = 3, /* BAD */
	MD_ST_BYE = 4  /* BYE */
};

/* How a MIME part asks to be shown (RFC 2183). */
enum md_disposition {
	MD_DISP_NONE = 0,
	MD_DISP_INLINE = 1,
	MD_DISP_ATTACHMENT = 2
};

/* ITEM names: what happened to one message of a maildrop or mailbox. */
#define MD_ITEM_LIST	 "list"	    /* POP3 LIST: num[1]=size */
#define MD_ITEM_UIDL	 "uidl"	    /* POP3 UIDL: arg=unique id */
#define MD_ITEM_DELE	 "dele"	    /* POP3 DELE accepted: marked */
#define MD_ITEM_RESET	 "reset"    /* POP3 RSET: every mark undone */
#define MD_ITEM_COMMIT	 "commit"   /* POP3 QUIT entered UPDATE: marks done */
#define MD_ITEM_EXPUNGE	 "expunge"  /* IMAP EXPUNGE response */
#define MD_ITEM_VANISHED "vanished" /* IMAP VANISHED (RFC 7162) */
#define MD_ITEM_FLAGS	 "flags"    /* IMAP FETCH FLAGS during STORE */

/* How a session ended, as far as the capture tells. */
enum md_end {
	MD_END_UNKNOWN = 0,
	MD_END_QUIT,	    /* protocol-level goodbye */
	MD_END_CLOSE,	    /* TCP FIN both ways without goodbye */
	MD_END_RESET,	    /* TCP RST */
	MD_END_TIMEOUT,	    /* evicted or idle too long */
	MD_END_CAPTURE_END, /* still open when the capture ended */
	MD_END_ERROR	    /* dissector gave up on the flow */
};

/*
 * What a ClientHello or a ServerHello said, for TLS_HELLO.  Lists are
 * comma-separated 4-digit lower-case hex code points in the order sent
 * (GREASE values kept, as sent); a list longer than its buffer is cut
 * and ends in "...".  Strings are NUL-terminated, control bytes of the
 * wire replaced by '?'.
 */
struct md_tls_hello {
	uint16_t legacy_version; /* the hello's version field */
	uint16_t version;	 /* server: negotiated; client: highest
				  * offered (supported_versions) */
	uint16_t cipher;	 /* server: the suite chosen */
	uint16_t group;		 /* server, TLS 1.3: key_share group */
	uint8_t	 hrr;		 /* server: a HelloRetryRequest */
	uint8_t	 ticket;	 /* session_ticket extension sent */
	uint8_t	 ticket_data;	 /* client: ... with a ticket in it */
	uint8_t	 psk;		 /* pre_shared_key extension sent */
	char	 session_id[65]; /* hex; "" when empty */
	char	 sni[256];
	char	 alpn[256];	/* protocols, comma-separated */
	char	 versions[64];	/* supported_versions */
	char	 ciphers[1024]; /* client: offered */
	char	 groups[256];	/* client: supported_groups */
	char	 exts[512];	/* extension types */
	char	 sig_algs[512]; /* client: signature_algorithms */
	char	 ja3[1280];	/* the JA3 (client) or JA3S string */
	char	 ja3_hash[33];	/* its MD5, hex */
	char	 ja4[40];	/* client: JA4 */
};

struct md_event {
	enum md_ev		   type;
	enum md_dir		   dir;
	uint64_t		   ts_us; /* capture time, microseconds */
	const struct md_flow	  *flow;
	uint32_t		   seq;
	uint32_t		   tx;
	int			   code;
	enum md_status		   status;
	enum md_tls		   tls;
	struct md_bytes		   name;
	struct md_bytes		   arg;
	struct md_bytes		   extra;
	struct md_bytes		   aux;
	struct md_bytes		   proof;
	uint64_t		   num[4];
	const struct md_tls_hello *hello; /* TLS_HELLO only */
};

/*
 * A sink consumes events.  A nonzero return asks the dissector to stop
 * sending message bytes for this flow (MSG_DATA); other events go on.
 */
struct md_sink {
	int (*emit)(void *arg, const struct md_event *ev);
	void *arg;
};

/* Resource caps.  Every cap that is hit raises an ANOMALY event. */
#define MD_LINE_MAX	   8192	  /* command/reply line; RFC 5321: 512 */
#define MD_REPLY_MAX	   65536  /* multi-line reply text kept */
#define MD_PENDING_MAX	   128	  /* commands awaiting a reply */
#define MD_DETECT_MAX	   16384  /* bytes inspected to find the protocol */
#define MD_LITERAL_KEEP	   1024	  /* IMAP literal kept as text (names) */
#define MD_RESPONSES_MAX   100000 /* IMAP untagged responses told per command */
#define MD_MIME_DEPTH_MAX  32	  /* nested multiparts and messages */
#define MD_MIME_PARTS_MAX  1000	  /* MIME parts per message */
#define MD_MIME_HEADER_MAX 16384  /* one header field, unfolded */
#define MD_MIME_TEXT_MAX   (1u << 20) /* text per message for searching */
#define MD_MIME_URLS_MAX   1000	      /* links told per message */

struct tls_keyring;

/* Memory that all connections share, counted as they take and give it
 * back (one capture, one thread).  Past max, what wanted it is refused
 * and an anomaly says so. */
struct md_budget {
	size_t held, max;
};

/* The bounds a dissector keeps to, the same for every flow of a run. */
struct md_limits {
	size_t	 line_max;
	size_t	 reply_max;
	size_t	 pending_max;
	uint32_t responses_max;
};

void md_limits_default(struct md_limits *);

/*
 * What a dissector is opened with: its bounds, and the run's state that
 * is not a bound (secrets, and memory every flow shares and counts).
 */
struct md_env {
	struct md_limits	  lim;
	const struct tls_keyring *keys; /* TLS secrets (tlskeys.h), or
					 * NULL */
	struct md_budget *tls_budget;	/* TLS buffers of every session
					 * together (handshakes being put
					 * together, records to decrypt,
					 * records waiting for their key);
					 * NULL: no shared cap */
};

/* Default bounds, no secrets, no shared cap. */
void md_env_default(struct md_env *);

/*
 * Anomaly codes, in the spirit of Zeek's weird.log: stable short names
 * that a sink stores and an analyst can query.
 */
#define MD_ANOM_LINE_TOO_LONG	       "line_too_long"
#define MD_ANOM_REPLY_TOO_LONG	       "reply_too_long"
#define MD_ANOM_BARE_LF		       "bare_lf"
#define MD_ANOM_NUL_BYTE	       "nul_byte"
#define MD_ANOM_PENDING_OVERFLOW       "too_many_pending_commands"
#define MD_ANOM_REPLY_WITHOUT_CMD      "reply_without_command"
#define MD_ANOM_BAD_REPLY	       "malformed_reply"
#define MD_ANOM_BAD_BDAT	       "invalid_bdat_command"
#define MD_ANOM_HUGE_BDAT	       "huge_bdat_chunk"
#define MD_ANOM_RCPT_WITHOUT_MAIL      "rcpt_without_mail"
#define MD_ANOM_DATA_WITHOUT_MAIL      "data_without_mail"
#define MD_ANOM_BARE_LF_END_OF_DATA    "bare_lf_end_of_data"
#define MD_ANOM_DATA_AFTER_QUIT	       "data_after_quit"
#define MD_ANOM_CMD_BEFORE_GREETING    "command_before_greeting"
#define MD_ANOM_BAD_SASL	       "malformed_sasl_response"
#define MD_ANOM_CLEAR_AFTER_TLS	       "plaintext_after_starttls"
#define MD_ANOM_GAP		       "stream_gap"
#define MD_ANOM_IS_GAP		       1 /* ANOMALY's code for stream_gap */
#define MD_ANOM_TLS_WITHOUT_STARTTLS   "tls_without_starttls"
#define MD_ANOM_BAD_LITERAL	       "malformed_literal"
#define MD_ANOM_HUGE_LITERAL	       "huge_literal"
#define MD_ANOM_INFLATE		       "inflate_error"
#define MD_ANOM_BAD_TAG		       "unknown_tag"
#define MD_ANOM_TOO_MANY_RESPONSES     "too_many_responses"
#define MD_ANOM_AUTH_AFTER_TLS_REFUSED "auth_after_failed_starttls"
#define MD_ANOM_MIME_BOUNDARY	       "mime_missing_boundary"
#define MD_ANOM_MIME_BASE64	       "mime_bad_base64"
#define MD_ANOM_MIME_QP		       "mime_bad_quoted_printable"
#define MD_ANOM_MIME_DEPTH	       "mime_too_deep"
#define MD_ANOM_MIME_PARTS	       "mime_too_many_parts"
#define MD_ANOM_MIME_HEADER	       "mime_header_too_long"
#define MD_ANOM_MIME_TRUNCATED	       "mime_truncated"
#define MD_ANOM_MIME_TEXT_BUDGET       "mime_text_budget" /* all open messages */
#define MD_ANOM_MIME_URLS	       "mime_urls" /* over MD_MIME_URLS_MAX */
#define MD_ANOM_MIME_UNFOLDED	       "mime_unfolded_parameter" /* mime.c */
#define MD_ANOM_TNEF_BUDGET	       "tnef_budget" /* files not listed */
#define MD_ANOM_TNEF_MALFORMED	       "tnef_malformed"
#define MD_ANOM_TLS_MALFORMED	       "tls_malformed" /* records not followed */
#define MD_ANOM_TLS_HANDSHAKE_LONG     "tls_handshake_too_long"
#define MD_ANOM_TLS_BUDGET	       "tls_budget" /* all sessions' buffers */
#define MD_ANOM_TLS_OLD		       "tls_below_1_2"
#define MD_ANOM_TLS_WEAK	       "tls_weak_cipher"
/* raised by the store when it validates a server's certificate chain */
#define MD_ANOM_TLS_CERT_INVALID "tls_cert_invalid" /* detail: why */
#define MD_ANOM_TLS_CERT_NAME	 "tls_cert_name_mismatch"
/* raised by the capture layer when it ends a connection itself */
#define MD_ANOM_TLS_ANSWERED_CLEAR "tls_answered_in_clear" /* 465 */
#define MD_ANOM_RESYNC		   "resync_after_gap"	   /* lines skipped */
#define MD_ANOM_LOST_COMMAND_REPLY "reply_to_lost_command"
#define MD_ANOM_ASSEMBLY_BUDGET	   "assembly_budget" /* pieces not kept */
#define MD_ANOM_IDLE_TIMEOUT	   "idle_timeout"
#define MD_ANOM_TOO_MANY_STREAMS   "too_many_streams"
#define MD_ANOM_STREAM_TOO_LONG	   "stream_too_long" /* 2 GiB one way */

/* A protocol dissector: one state object per connection, both ways. */
struct md_proto {
	const char	*name;
	enum md_proto_id id;
	void *(*open)(const struct md_sink *, const struct md_env *,
	    const struct md_flow *, enum md_tls, uint64_t ts_us);
	/* Consumes all of len.  Returns 0, or -1 when the flow is hopeless. */
	int (*feed)(void *st, enum md_dir, const uint8_t *p, size_t len,
	    uint64_t ts_us);
	/* Bytes the capture lost in one direction. */
	void (*gap)(void *st, enum md_dir, size_t missing, uint64_t ts_us);
	/* Flushes what is pending, emits SESSION_END, frees st. */
	void (*close)(void *st, enum md_end, uint64_t ts_us);
};

extern const struct md_proto md_proto_smtp;
extern const struct md_proto md_proto_pop3;
extern const struct md_proto md_proto_imap;

/*
 * Protocol detection by content.  The capture layer shows the first bytes
 * of each direction (and the ports, as hints) until a verdict comes.
 */
enum md_verdict {
	MD_DETECT_MORE = 0, /* not enough bytes yet */
	MD_DETECT_NO,	    /* not a protocol we dissect */
	MD_DETECT_YES	    /* see *proto and *tls */
};

struct md_detect_in {
	const uint8_t *c2s;
	size_t	       c2s_len;
	const uint8_t *s2c;
	size_t	       s2c_len;
	uint16_t       srv_port;
	int	       midstream; /* no greeting will come: see md_flow */
};

struct md_detect_out {
	const struct md_proto *proto;
	enum md_tls	       tls;
	size_t		       c2s_skip; /* bytes before the protocol starts */
	size_t		       s2c_skip;
};

enum md_verdict md_detect(const struct md_detect_in *, struct md_detect_out *);

/* The names sinks store for the contract's values: stable, lower case. */
const char    *md_end_str(enum md_end);
const char    *md_tls_str(enum md_tls);
const char    *md_auth_outcome_str(enum md_auth_outcome);
const char    *md_status_str(enum md_status);
enum md_status md_smtp_status(int code);
const char    *md_ev_str(enum md_ev);
const char    *md_disposition_str(enum md_disposition);

#endif /* MAILSIFT_DISSECT_H */
