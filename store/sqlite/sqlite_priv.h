/*
 * sqlite_priv.h - inside the SQLite store: shared by sqlite.c (the log,
 * its statements and commits), sqlite_events.c (the event switch),
 * sqlite_msgs.c (messages whose bytes are arriving) and sqlite_rotate.c.
 * Nothing outside store/ includes it.
 */
#ifndef MAILSIFT_SQLITE_PRIV_H
#define MAILSIFT_SQLITE_PRIV_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect/dissect.h"
#include "store/analyse/analyse.h"
#include "dissect/txtable.h"
#include "store/store.h"

#define BLOB_BUF	     (32 * 1024) /* kept bytes written at a time */
#define BLOB_INLINE_MAX	     (16 * 1024) /* kept inside the log up to */
#define STORE_COMMIT_EVENTS  200000	 /* events between commits */
#define STORE_COMMIT_WALL_US 1000000	 /* or this much wall time */
#define WAL_CHECKPOINT_BYTES (40 << 20)	 /* the WAL copied back past */

enum stmt_id {
	ST_SESSION,
	ST_GREETING,
	ST_HELO,
	ST_SESSION_END,
	ST_SESSION_END_HELLO,
	ST_HELLO,
	ST_EXTENSIONS,
	ST_COMMAND,
	ST_REPLY,
	ST_AUTH,
	ST_TX,
	ST_TX_IMPLICIT,
	ST_TX_REPLY,
	ST_RCPT,
	ST_DELIVERY,
	ST_MSG,
	ST_MSG_META,
	ST_MSG_HEAD,
	ST_MSG_END,
	ST_MSG_END_HEAD,
	ST_BLOB_INLINE,
	ST_ITEM,
	ST_DELETION,
	ST_MAILBOX,
	ST_RESPONSE,
	ST_USER,
	ST_STATE,
	ST_SELECTED,
	ST_CLIENT_ID,
	ST_SERVER_ID,
	ST_COMPRESSION,
	ST_HEADER,
	ST_PART,
	ST_PART_END,
	ST_PART_WHOLE,
	ST_URL,
	ST_ARCHIVE_ENTRY,
	ST_YARA,
	ST_MSG_AUTH,
	ST_MSG_AUTH_CHECK,
	ST_TEXT,
	ST_ANOMALY,
	ST_SESSION_GAP,
	ST_SESSION_COUNTS,
	ST_SENT_OUTCOMES,
	ST_CAPTURE,
	ST_TLS_CLIENT,
	ST_TLS_SERVER,
	ST_TLS_CERT,
	ST_TLS_ALERT,
	ST_TLS_CHAIN,
	ST_TLS_NAMES,
	ST_TLS_END,
	ST_BEGIN,
	ST_COMMIT,
	ST_ADDRS_ROW,
	ST_ADDRS, /* last: a spool has no addresses' index */
	ST_COUNT
};

extern const char *const stmt_sql[ST_COUNT];

/* The messages columns header fields fill (ST_MSG_HEAD's ?1 to ?13,
 * in this order): the first field of each kind wins. */
enum msg_col {
	COL_SUBJECT,
	COL_FROM,
	COL_TO,
	COL_CC,
	COL_BCC,
	COL_REPLY_TO,
	COL_DATE,
	COL_MSG_ID,
	COL_IN_REPLY_TO,
	COL_REFS,
	COL_MAILER,
	COL_RETURN_PATH,
	COL_DATE_UTC,
	NCOLS
};

/*
 * A part's row while its results are worked out: the columns known at
 * its start, copied, so that its end makes the row whole in one INSERT
 * rather than an INSERT at its start and an UPDATE at its end (which
 * moved its sha256 index entry, a part's dearest statement on small
 * mail).  Written as it is at each commit, as the rows a reader could
 * see then; its end UPDATEs it after that.
 */
struct part_row {
	struct part_row *next,
	    **prev; /* s->parts_waiting; prev NULL: written */
	int64_t		msg_row;
	uint64_t	gen; /* its message's (sqlite_lost.c) */
	uint32_t	no;
	const char     *disposition; /* static; NULL: none */
	struct md_bytes path, type, charset, encoding, filename;
	uint8_t		bytes[]; /* what the five point into */
};

/* The MIME part of a message whose decoded bytes are arriving. */
struct open_part {
	uint32_t	 no;
	struct part_row *row; /* NULL: its row is in the log */
	struct an_part	*an;  /* its analysis (NULL: out of memory) */
	FILE		*out;
	char		*path;
};

/* A message whose bytes are still arriving. */
struct open_msg {
	struct md_txnode node; /* first: its place in the open table */
	int64_t		 row;
	int64_t		 sid;
	struct an_msg	*an; /* its analysis */
	FILE		*out;
	char		*path;
	/*
	 * Kept bytes: in blob_buf while they are BLOB_INLINE_MAX or fewer,
	 * then in a file (blob, blob_buf its stdio buffer of BLOB_BUF)
	 * named by their hash at the end; a message that ends within
	 * BLOB_INLINE_MAX is kept inside the log (blob_bytes), no file made
	 * (a spool's always go to files: its receiver moves files)
	 */
	enum { KEEP_NONE, KEEP_MEM, KEEP_FILE, KEEP_LOST } keep;
	FILE	   *blob;
	char	   *blob_tmp;
	char	   *blob_buf;
	size_t	    blob_len; /* bytes in blob_buf, while KEEP_MEM */
	uint64_t    size;
	enum md_dir dir;
	uint64_t    first_frame; /* the packet of its first bytes */
	int64_t	    first_offset;
	const char *capture_file;
	uint64_t    gap;     /* bytes the capture lost inside it */
	int	    partial; /* a part, TOP: no body identity */
	/* one open of each kind (md_part_kind): a forwarded message stays
	 * open around its parts, a part around the files inside it */
	struct open_part part[MD_PART_KINDS];
	char		*parts_dir; /* --extract: where its attachments go */
	char		*text;	    /* for the full-text index */
	size_t		 tlen, tcap;
	/*
	 * Its header columns and counts, gathered and written in one
	 * UPDATE (msg_head_write) at its first part and at its end, not
	 * one a field: col[COL_SUBJECT] is also the index's subject
	 */
	char	*col[NCOLS]; /* NUL-terminated; NULL: none yet */
	size_t	 col_len[NCOLS];
	unsigned col_unwritten; /* bits of col not in the row yet */
	int	 dkim, auth_results;
	uint32_t parts_unwritten, attachments_unwritten;
	uint32_t nurls; /* links told: urls.n */
	/* its end, kept while its results are worked out */
	uint64_t end_ts_us, end_frame;
	int64_t	 end_offset;
	int	 complete;
	uint64_t gen; /* the transaction its row went in (sqlite_lost.c) */
	/* in s->msgs_held from its row's INSERT until freed: its head
	 * columns wait for its end's UPDATE or the next commit */
	struct open_msg *held_next, **held_prev;
};

/*
 * A part whose bytes are all in, as it was when it ended: its row waits
 * for the analysis stage's results, which come in the order the ends
 * were given (messages' and parts' alike), so that the capture does not
 * wait at each end.
 */
struct part_end {
	struct open_part part;
	int64_t		 msg_row;
	uint64_t	 gen; /* its message's (lost.c) */
	int		 complete;
	uint64_t	 enc, dec;
};

#define LOST_GENS 64

/*
 * A command whose reply has not come: its row waits, so that the reply
 * makes it whole in one INSERT rather than an INSERT and an UPDATE (a
 * fifth of small mail's statements).  Written as it is at each commit,
 * and when CMDS_WAITING wait.  A NULL field is bound as NULL.  Sized for
 * the sessions at once of a busy capture: at 32, the 20,000 small
 * sessions of the tiny bench (some fifty at a time) wrote two replies in
 * five by an UPDATE of a command the bound had pushed out.
 */
#define CMDS_WAITING 256

/*
 * A message's text waits for the full-text index until the commit: FTS5
 * keeps what it is given in memory until then, but every statement that
 * opens a savepoint (a write whose triggers may fail half done, as the
 * hosts' sums' do) makes it write that out as a segment of its own, so a
 * text indexed at its message's end was written out once a message.  The
 * texts of a commit go together, at most TEXTS_WAITING_BYTES of them (a
 * run of large texts goes in more than one batch).
 */
struct waiting_text {
	int64_t	 row;
	uint64_t gen; /* the transaction its message's row began in */
	char	*subject, *text;
	size_t	 len;
};
#define TEXTS_WAITING_BYTES (16u << 20)
/*
 * The addresses' index (FTS5 too) waits the same way: a message's row
 * id, its addresses read from its row just before the commit (its
 * header columns are written by then).  Indexed at once, each message's
 * addresses were a segment of their own, merged again and again: 77,000
 * instructions a message of the writer's.  At most ADDRS_WAITING wait.
 */
struct waiting_addrs {
	int64_t	 row;
	uint64_t gen;
};
#define ADDRS_WAITING 65536
/*
 * A session's banner and HELO wait for its end's UPDATE, or the next
 * commit: on small mail a session's row was written four times (its
 * INSERT, banner, HELO, end).  At most HELLOS_WAITING sessions wait;
 * past that one is written (as CMDS_WAITING, sized for the sessions a
 * busy capture has at once).
 */
#define HELLOS_WAITING 256
struct waiting_hello {
	int64_t	 sid;
	int	 banner_set, helo_set, code_set;
	int	 code;
	uint64_t frame;
	char	*banner, *helo; /* NULL: none (bound as NULL) */
	size_t	 banner_len, helo_len;
};
/*
 * A reply's keywords (EHLO, CAPA, CAPABILITY) come as events one after
 * another.  Each is bound into the next row of ST_EXTENSIONS (SQLite
 * keeps its own copy), and the rows go in one statement when another
 * event comes, EXTS_WAITING are bound, or a commit: a statement a
 * keyword was 1.3% of the writer's work on small mail (seven a session).
 */
#define EXTS_WAITING 8
struct waiting_cmd {
	int64_t	 sid;
	uint32_t seq;
	double	 ts;
	uint64_t frame;
	int64_t	 offset;
	char	*verb, *args, *tag;
	size_t	 verb_len, args_len, tag_len;
};

/* Session ids noted in a transaction for its commit (sqlite_findsums.c,
 * sqlite_counts.c): added (-1: no memory), sorted, looked up sorted. */
struct session_ids {
	int64_t *id;
	size_t	 n, cap;
};
int  session_ids_add(struct session_ids *, int64_t id);
void session_ids_sort(struct session_ids *);
int  session_ids_has(const struct session_ids *, int64_t id);

struct sqlite_store {
	sqlite3	     *db;
	sqlite3_stmt *st[ST_COUNT];
	int64_t	      run_id;
	int64_t	      id_base;
	const char   *capture_file;
	int	      redact;
	const char   *command;
	char	      path[4096];
	char	     *extract_dir;
	char	     *blob_dir; /* LOG.blobs: message bytes by SHA-256 */
	int	      blob_fd;	/* blob_dir, open since before its first
				 * file (syncfs reports errors since) */
	int blobs_unsynced;	/* files kept since the last commit */
	int commit_unsynced;	/* a COMMIT since the last syncfs */
	/* names the kept bytes' temporary files: not the message's row,
	 * which a rotated log numbers again while the old file's messages
	 * are still open */
	uint64_t blob_seq;
	int	 storage_fail_in_txn; /* since the last COMMIT */
	int	 disk_failed;	      /* an I/O error: no checkpoint */
	uint64_t msgs_committed_mark; /* stats.messages at the
				       * last COMMIT's end */
	int is_spool;
	int spool_blob_bytes; /* store_opts' */
	int keep;	      /* message bytes kept (not --no-keep) */
	/* --json-dir: the sessions ended, in order, each with the rows
	 * queued for digests before it ended (fin_in then): streamed once
	 * those are written (fin_out) and committed */
	struct ended_session {
		int64_t	 id;
		uint64_t seq;
	} * ended;
	size_t	 nended, ended_cap, ended_committed;
	int	 track_ended;
	uint64_t fin_in, fin_out,
	    fin_out_committed; /* a spool's: runs.blobs stays NULL */
	char *blob_base;       /* --rotate: the store every file of
				* the sensor shares (NULL: LOG.blobs) */
	/* what a full or failing disk lost (sqlite_lost.c): the
	 * transactions rolled back, the sessions begun in them */
	uint64_t	  gen; /* the transaction open now */
	uint64_t	  lost_gen[LOST_GENS];
	unsigned	  nlost_gen;
	uint64_t	 *begun; /* flow ids begun in gen */
	size_t		  nbegun, begun_cap;
	struct md_txtable lost; /* of struct md_txnode, tx LOST_TX */
	size_t		  nlost;
	uint64_t	  flow_floor; /* flows below: begun with no log */
	uint64_t last_commit_wall;    /* wall_now_us() at the last commit */
	uint64_t events_since_commit;
	struct md_txtable    msgs; /* of struct open_msg */
	struct waiting_cmd   cmds[CMDS_WAITING];
	struct waiting_hello hellos[HELLOS_WAITING];
	size_t		     nhellos;
	size_t		     nexts;	    /* keywords bound, EXTS_WAITING */
	struct part_row	    *parts_waiting; /* rows not written yet */
	struct open_msg	    *msgs_held;	    /* whose rows are written to */
	size_t		     ncmds;
	/* messages' text for the full-text index, written just before
	 * each commit (sqlite_msgs.c: texts_write_waiting) */
	struct waiting_text *texts;
	size_t		     ntexts, texts_cap, texts_bytes;
	/* messages whose addresses the index waits for (addrs_write_waiting) */
	struct waiting_addrs *addrs;
	size_t		      naddrs, addrs_cap;
	/* sessions whose commands, replies, logins, transactions,
	 * recipients or messages changed in the transaction open: their
	 * sent messages' outcomes are written at its commit, and their
	 * counts unless they ended in it (sqlite_counts.c) */
	struct session_ids counted, counts_ended;
	struct analysis	  *an;	     /* digests, types, rules, verdicts */
	struct part_end	   part_now; /* an end written at once: no memory */
	struct store_stats stats;
	char		   error[4400];
	/* a log's hosts' sums added up by the writer (sqlite_hosts.c);
	 * NULL: its triggers keep them (a spool has none) */
	struct host_sums *sums;
	/* ... and its stats' sums (sqlite_statsums.c); NULL likewise */
	struct stat_sums *tally;
	/* ... and the sessions its findings' sums wait for (sqlite_
	 * findings.c); NULL likewise */
	struct finding_sums *findsums;
};

static inline double
ts_sec(uint64_t us)
{
	return (double)us / 1e6;
}

/* Session ids are the run's flow ids above the log's largest id. */
static inline int64_t
session_id(const struct sqlite_store *s, const struct md_event *ev)
{
	return s->id_base + (int64_t)ev->flow->id;
}

/* sqlite_lost.c: the rows a full or failing disk refused or rolled
 * back, and the later rows that would name them (not written). */
void lost_session_begun(struct sqlite_store *, uint64_t flow_id, int ok);
void lost_committed(struct sqlite_store *, int rolled_back);
void lost_log_reopened(struct sqlite_store *);
int  lost_event(struct sqlite_store *, const struct md_event *);
int  lost_gen(const struct sqlite_store *, uint64_t gen);
void lost_free(struct sqlite_store *);

/* sqlite.c: errors, binding, statements, commits, the log's file */
void db_fail(struct sqlite_store *, const char *what);
/* A file of the store could not be written: counted, and the disk
 * said full or failing when errno tells so. */
void io_fail(struct sqlite_store *);
/* An I/O error (not a full disk): the log is no longer checkpointed. */
void disk_failed(struct sqlite_store *);
/* Closes s->db (NULL after), checkpointed unless the disk failed. */
int  db_close_file(struct sqlite_store *);
void db_bind_bytes(sqlite3_stmt *, int i, struct md_bytes);
/* The same, not copied: only for a statement db_run runs (and unbinds)
 * before b's bytes go. */
void db_bind_bytes_now(sqlite3_stmt *, int i, struct md_bytes);
void db_bind_text(sqlite3_stmt *, int i, struct md_bytes); /* "": NULL */
/* b copied (NULs and all, a NUL after) to bind later with db_bind_copy:
 * *p NULL when b.p is, or b is empty and empty_null (db_bind_text's
 * NULL); -1 when out of memory (*p NULL then too). */
int db_copy_bytes(struct md_bytes b, int empty_null, char **p, size_t *len);
/* A copy's bytes on st's parameter i, kept by the caller until the
 * statement runs; NULL leaves it unbound (NULL). */
void db_bind_copy(sqlite3_stmt *, int i, const char *p, size_t len);
void db_bind_frame(sqlite3_stmt *, int i, uint64_t frame);
void db_bind_offset(sqlite3_stmt *, int i, uint64_t frame, int64_t);
void db_bind_u64(sqlite3_stmt *, int i, uint64_t v, uint64_t none);
/* 0, or -1 when the statement failed (counted, said) */
int  db_run(struct sqlite_store *, enum stmt_id);
void db_commit(struct sqlite_store *);
/* The last COMMIT of a file (at its close or rotation): its kept bytes
 * made durable first, as db_commit does; no BEGIN after. */
void db_commit_last(struct sqlite_store *);
void db_maybe_commit(struct sqlite_store *);
/* The commands still waiting for a reply, written without it (before a
 * commit); their memory freed. */
void cmds_write_waiting(struct sqlite_store *);
void hellos_write_waiting(struct sqlite_store *);
void exts_write_waiting(struct sqlite_store *);
/* The messages' text waiting for the full-text index, written (before a
 * commit), or, with no log, freed. */
void texts_write_waiting(struct sqlite_store *);
/* The messages' addresses waiting for their index, written (before a
 * commit), or, with no log, forgotten. */
void addrs_write_waiting(struct sqlite_store *);
void parts_write_waiting(struct sqlite_store *);
void heads_write_waiting(struct sqlite_store *);
int  db_open(struct sqlite_store *, const char *path, int force, int keep,
     const char *command, char *err, size_t errlen);
void finalize_all(struct sqlite_store *);
/* n statements of sql into st (persistent); 0, or -1 with err said and
 * those made left for db_finalize_each */
int  db_prepare_each(sqlite3 *, const char *const sql[], sqlite3_stmt *st[],
     int n, char *err, size_t errlen);
void db_finalize_each(sqlite3_stmt *st[], int n);
int  create_private(const char *path, int force, char *err, size_t errlen);
/* Makes path a log with its schema (no run in it) and closes it, before
 * a rotation lets go of the log in use; a file it made is removed when
 * it could not be made whole (a full disk).  0, or -1 with err said. */
int db_make_file(const char *path, char *err, size_t errlen);
/* The number a PRAGMA (or any one-value query) answers; none when it
 * answers nothing. */
int64_t db_pragma(sqlite3 *, const char *sql, int64_t none);
/* A new row of runs (its start, version and command): its id, or -1. */
int64_t	 run_started(sqlite3 *, const char *command);
void	 run_finished(sqlite3 *, int64_t run_id, int status);
int	 runs_mark_killed(sqlite3 *);
int	 sqlite_take_over(const char *path, int64_t *last_session, char *err,
	 size_t errlen);
void	 run_end_killed(sqlite3 *, int64_t run_id, const char *now);
sqlite3 *sqlite_log_open(const char *path, int create, int *fdp, char *err,
    size_t errlen);

/* sqlite_events.c */
int db_emit(void *store, const struct md_event *);

/* sqlite_msgs.c */
void		 msgs_begin(struct sqlite_store *, const struct md_event *);
void		 msgs_data(struct sqlite_store *, const struct md_event *);
void		 msgs_end(struct sqlite_store *, const struct md_event *);
struct open_msg *msgs_find(struct sqlite_store *, const struct md_event *);
void		 msgs_header(struct sqlite_store *, const struct md_event *);
void msgs_part_begin(struct sqlite_store *, const struct md_event *);
void msgs_part_data(struct sqlite_store *, const struct md_event *);
void msgs_part_end(struct sqlite_store *, const struct md_event *);
void msgs_text(struct sqlite_store *, const struct md_event *);
void msgs_url(struct sqlite_store *, const struct md_event *);
/* sqlite_auth.c: a message's DKIM, ARC and SPF rows as the analysis
 * stage reads them from its header, and at its end the DKIM body
 * verdicts and the signs of impersonation (messages.findings) */
void auth_header(struct sqlite_store *, struct open_msg *,
    const struct md_event *);
void auth_finished(struct sqlite_store *, int64_t msg_row,
    const struct an_result *);
/* The findings, path and originating IP onto st: ST_MSG_END or
 * ST_MSG_END_HEAD (14 to 16). */
void auth_bind_findings(sqlite3_stmt *, const struct an_result *);
void msgs_gap(struct sqlite_store *, uint64_t flow_id, enum md_dir,
    uint64_t missing);
void msgs_free_all(struct sqlite_store *);
/* The analysis stage's an_result_fn: an end's rows get its results. */
void msgs_result(void *store, const struct an_result *);
/* Rows of ended messages and parts whose results are ready are written;
 * with wait, all of them (before a rotation or the close). */
void msgs_settle(struct sqlite_store *, int wait);

/* sqlite_query.c */
struct query *sqlite_query_open(const char *path, char *err, size_t errlen);

/* sqlite_tls.c: TLS_HELLO, TLS_CERT, TLS_ALERT, TLS_END */
void db_tls_event(struct sqlite_store *, const struct md_event *);

/* Every connection that writes rows of a log: a row INSERT OR REPLACE
 * displaces takes its share of the hosts' sums away (sqlite_hosts.c) */
#define SQLITE_HOSTS_PRAGMA "PRAGMA recursive_triggers=ON;"
/* sqlite_hosts.c: whether the log has a table or view of that name (1,
 * 0; -1: it could not be asked) */
int sqlite_has_table(sqlite3 *, const char *name);
/* ... and whether its table or view of that name has that column (the
 * same answers) */
int sqlite_has_column(sqlite3 *, const char *table, const char *column);
/* The n statements of schema, then fill where had (the table they make
 * was there: 1, 0; -1: unknown, failed) is 0; 0, or -1 with *msg said. */
int sqlite_schema_filled(sqlite3 *, const char *const *schema, size_t n,
    int had, const char *fill, char **msg);
/* A log's sums made all or nothing (a savepoint) by make, which says
 * what failed in *msg; 0, or -1 with err said (what, the failure). */
int sqlite_sums_schema(sqlite3 *, int (*make)(sqlite3 *, char **),
    const char *what, char *err, size_t errlen);
/* sqlite_hosts.c: host_stats and the triggers that keep it, made in a
 * log (filled from its rows when it had none); 0, or -1 with err said */
int sqlite_hosts_schema(sqlite3 *, char *err, size_t errlen);
/* the trigram index of the messages' addresses (sqlite_addrs.c) */
int sqlite_addrs_schema(sqlite3 *, char *err, size_t errlen);
/* For a log read that predates them: v_hosts summed as it is asked, a
 * view of the connection (TEMP), of sqlite_hosts_asked.  0, or -1. */
int		  sqlite_hosts_view(sqlite3 *);
extern const char sqlite_hosts_asked[];

/* sqlite_stats.c: the stat_ tables, views and triggers made in a log
 * (filled from its rows when it had none); 0, or -1 with err said */
int sqlite_stats_schema(sqlite3 *, char *err, size_t errlen);
/* An hour of a time as the stat_ tables key it: '' where none. */
#define SQLITE_STATS_HOUR(ts) \
	"coalesce(substr(datetime(" ts ", 'unixepoch'), 1, 13), '')"
/* The same made by C, into out; -1 where C cannot (ask SQLite). */
int sqlite_stats_hour(double ts, char *out, size_t len);
/* Each v_stat_ view summed as it is asked. */
struct stats_asked {
	const char *view, *sql;
};
extern const struct stats_asked sqlite_stats_asked[];
extern const size_t		nsqlite_stats_asked;
/* For a log read that predates them: the v_stat_ views summed as asked,
 * views of the connection (TEMP).  0, or -1. */
int sqlite_stats_views(sqlite3 *);

/* sqlite_statsums.c: the writer's stats' sums, as its hosts' below.  A
 * session's share from what its INSERT wrote, and its TLS changed by
 * (-1, 0, 1) at its end; a message's row made (its INSERT), or touched
 * before a statement changes it, or each of a session's tx before a
 * REPLACE or a piece's UPDATE (the number of them that are whole
 * messages, not pieces: the hosts' sums count those). */
int  stats_writer_open(struct sqlite_store *, char *err, size_t errlen);
void stats_writer_close(struct sqlite_store *);
void stats_writer_free(struct sqlite_store *);
void stats_write_waiting(struct sqlite_store *);
void stats_forget(struct sqlite_store *);
/* what a statement outside any transaction changed, written now */
void stats_at_once(struct sqlite_store *);
void stats_session_begun(struct sqlite_store *, struct md_bytes proto, int tls,
    int midstream, const char *srv, int port, double start);
void stats_session_tls(struct sqlite_store *, int64_t sid, int by);
void stats_message_made(struct sqlite_store *, int64_t id);
void stats_message_touch(struct sqlite_store *, int64_t id);
int64_t stats_messages_touch(struct sqlite_store *, int64_t sid, int64_t tx);
/* a login or an anomaly the writer has just inserted */
void stats_auth_added(struct sqlite_store *, int64_t id);
void stats_anomaly_added(struct sqlite_store *, int64_t id);

/* The writer's own sums (its connection's triggers off): made with its
 * statements, before prepare_all, and closed with them. */
int  hosts_writer_open(struct sqlite_store *, char *err, size_t errlen);
void hosts_writer_close(struct sqlite_store *);
void hosts_writer_free(struct sqlite_store *);
/* The log's triggers on again (1) for rows that come another way (a
 * rotation's carried sessions), or off (0) after. */
void hosts_triggers(struct sqlite_store *, int on);
/* What waits for the commit, written in its transaction; or forgotten
 * with a transaction rolled back. */
void hosts_write_waiting(struct sqlite_store *);
void hosts_forget(struct sqlite_store *);
/* What each of the writer's rows gives both ends of its session, once
 * the row is written.  A session's TLS and user as they were (read
 * before the UPDATE that changes them; then *_now frees it). */
struct hosts_was {
	int    known, tls;
	char  *user;
	size_t ulen;
};
void hosts_session_begun(struct sqlite_store *, const char *cli,
    const char *srv, double start, int tls);
void hosts_session_was(struct sqlite_store *, int64_t sid, struct hosts_was *);
void hosts_tls_now(struct sqlite_store *, const struct md_flow *,
    struct hosts_was *, int tls);
void hosts_user_now(struct sqlite_store *, const struct md_flow *,
    struct hosts_was *was, struct hosts_was *now);
void hosts_msgs_add(struct sqlite_store *, const struct md_flow *, int64_t by);
void hosts_auths_add(struct sqlite_store *, const struct md_flow *);
/* sqlite_events.c: an address of the flow as the log writes it */
void db_addr_str(const struct md_flow *, const uint8_t *a, char *buf,
    size_t len);

/* sqlite_findings.c: v_tls_findings made anew in a log written; 0, or
 * -1 with err said */
int sqlite_findings_schema(sqlite3 *, char *err, size_t errlen);
/* For a log read whose v_tls_findings predates the session columns the
 * findings listing filters on: the view of this version, a view of the
 * connection (TEMP).  0, or -1. */
int sqlite_findings_view(sqlite3 *);
/* The findings' sums (stat_findings, stat_findings_open, v_stat_findings
 * and their triggers) made, or filled from the rows of a log that had
 * none; 0, or -1 with err said */
int sqlite_findings_sums_schema(sqlite3 *, char *err, size_t errlen);
/* A connection that wrote rows another way (a receiver's ship): its
 * ended sessions, still open, summed; 0, or -1 */
int sqlite_findings_settle(sqlite3 *);
/* The sessions of temp.findings_ended summed: each probes the checks'
 * indexes, where a bound session id made one statement of the eight
 * checks a session (60,000 instructions each) */
#define ENDED_TABLE \
	"CREATE TEMP TABLE IF NOT EXISTS findings_ended (id INTEGER PRIMARY KEY)"
#define ENDED_ADDED                                                         \
	"INSERT INTO stat_findings SELECT * FROM (SELECT finding, proto,"   \
	" count(*) FROM v_tls_findings WHERE session_id IN (SELECT id FROM" \
	" temp.findings_ended) GROUP BY 1, 2) WHERE 1 ON CONFLICT"          \
	" (finding, proto) DO UPDATE SET n = n + excluded.n"

/* sqlite_msgs.c: qsort's and bsearch's order of int64_t ids, or of
 * structs that lead with one */
int by_row(const void *a, const void *b);

/* sqlite_findsums.c, the writer's: its statements (before prepare_all, closed
 * with them); a session begun or ended, summed or made open at the commit
 * (findings_write_waiting); forgotten with a transaction rolled back. */
int  findings_writer_open(struct sqlite_store *, char *err, size_t errlen);
void findings_writer_close(struct sqlite_store *);
void findings_writer_free(struct sqlite_store *);
void findings_write_waiting(struct sqlite_store *);
void findings_forget(struct sqlite_store *);
void findings_session_begun(struct sqlite_store *, int64_t id);
void findings_session_ended(struct sqlite_store *, int64_t id);

/* sqlite_counts.c: the session's counts (sessions.n_commands,
 * n_messages, n_auths) to be written at the commit, or by its end's
 * statement; written (before the commit, after the waiting commands);
 * the list's memory freed. */
void counts_touch(struct sqlite_store *, int64_t sid);
void counts_session_ends(struct sqlite_store *, int64_t sid);
void counts_write_waiting(struct sqlite_store *);
void counts_free(struct sqlite_store *);

/* sqlite_rotate.c */
int sqlite_rotate(void *store, const char *path, char *err, size_t errlen);

#endif
