# mailsift - mail protocol traffic analyzer
#
#   make demo    install what is missing, build, analyse the shipped capture
#   make test    every test: unit (plain and ASan+UBSan), end to end,
#                and the public corpus conformance run when ../shared exists
#   make         build ./mailsift
#
# Missing Debian packages are installed on first use (as root, or through
# sudo); nothing else is downloaded.

CC	?= cc
PREFIX	?= /usr/local
BUILD	:= build

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
	   -Wformat=2 -Wvla
VERSION	:= 0.1.0
CSTD	:= -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -DMAILSIFT_VERSION='"$(VERSION)"'
INC	:= -I . -I $(BUILD)/gen -I /usr/include/postgresql
CFLAGS	?= -g -O2
HARDEN	:= -fstack-protector-strong -D_FORTIFY_SOURCE=2
SAN_CC	:= clang
SAN	:= -fsanitize=address,undefined,float-divide-by-zero,unsigned-shift-base \
	   -fno-omit-frame-pointer -fno-sanitize-recover=all
LIBS	:= -lnids -lpcap -lsqlite3 -lpq -lmagic -larchive -lyara -lmicrohttpd -ljansson -lseccomp -lcrypto -lz -lm -pthread

DISSECT_SRC := dissect/util.c dissect/common.c dissect/line.c dissect/sasl.c dissect/assemble.c \
	       dissect/smtp.c dissect/pop3.c dissect/imap.c dissect/detect.c \
	       dissect/mime.c dissect/mimehdr.c dissect/uu.c dissect/tnef.c dissect/registry.c \
	       dissect/txtable.c dissect/imapsyn.c dissect/urls.c \
	       dissect/tls.c dissect/tlsnames.c \
	       dissect/tlskeys.c
CORE_SRC    := $(DISSECT_SRC) capture/capture.c capture/flow.c capture/madeup.c capture/source.c capture/dumpfile.c capture/decap.c store/safename.c store/analyse/hasher.c \
	       store/analyse/bodynorm.c store/analyse/hbsplit.c store/analyse/content.c store/analyse/rules.c store/analyse/msgauth.c capture/v6map.c store/store.c store/handoff.c store/query.c \
	       store/keep.c store/owner.c store/tables.c store/sqlite/sqlite.c store/sqlite/sqlite_events.c \
	       store/sqlite/sqlite_msgs.c store/sqlite/sqlite_lost.c store/sqlite/sqlite_rotate.c store/sqlite/sqlite_hosts.c store/sqlite/sqlite_addrs.c store/sqlite/sqlite_hostsums.c store/sqlite/sqlite_stats.c store/sqlite/sqlite_statsums.c store/sqlite/sqlite_findings.c store/sqlite/sqlite_findsums.c store/sqlite/sqlite_query.c \
	       store/sqlite/sqlite_tls.c store/sqlite/sqlite_spool.c store/sqlite/sqlite_ship.c store/sqlite/sqlite_auth.c store/sqlite/sqlite_counts.c store/analyse/x509.c store/analyse/analyse.c \
	       store/spool/spooled.c store/pg/pg.c store/pg/pg_query.c
CLI_SRC     := cli/main.c cli/args.c cli/pipeline.c cli/cmd_read.c cli/read_jobs.c cli/cmd_live.c cli/live_names.c cli/live_files.c cli/live_health.c cli/cmd_search.c cli/cmd_query.c cli/listings.c cli/cmd_serve.c cli/serve_cache.c cli/serve_guard.c cli/serve_html.c cli/serve_assets.c cli/termsafe.c \
	       cli/cmd_export.c cli/cmd_extract.c cli/cmd_case.c cli/case_iocs.c cli/case_tar.c cli/table.c cli/cmdline.c cli/search.c cli/sandbox.c
TEST_NAMES  := test_line test_util test_smtp test_pop3 test_imap test_imapsyn test_tls test_tlskeys test_detect test_mime \
	       test_capture test_safename test_bodynorm test_hasher test_urls test_content test_msgauth \
	       test_termsafe test_cmdline test_livenames test_analyse test_sandbox test_handoff test_hosts test_stats
TOOL_NAMES  := pcapgen

BUILD_PKGS := gcc libc6-dev make libpcap-dev libnids-dev libsqlite3-dev libpq-dev libssl-dev zlib1g-dev libmagic-dev libarchive-dev libyara-dev libmicrohttpd-dev libjansson-dev libseccomp-dev
DEMO_PKGS  := sqlite3
TEST_PKGS  := libcmocka-dev sqlite3 tshark logrotate libcap2-bin dovecot-imapd dovecot-pop3d dovecot-lmtpd fetchmail isync getmail6 offlineimap3 exim4-daemon-light tnef clang libclang-rt-14-dev systemd \
	      tcpdump curl python3 python3-yaml python3-dkim iproute2 time postgresql tcpreplay file p7zip-full yara chromium openssl python3-jsonschema \
	      e2fsprogs mount

# Installs the Debian packages of $(1) that are missing.
define ensure_pkgs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "mailsift: installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
	  { echo "mailsift: could not install:$$missing" >&2; exit 1; }; \
	fi
endef

.PHONY: all deps test-deps demo test unit unit-asan e2e dovecot live record conformance asan \
	fuzz fuzz-regress \
	check-deps clean install format format-check bench bench-stores bench-live bench-serve unitfile fuzz-short memory postgres serve-test console case scale \
	print-demo-pkgs print-demo-programs

all: deps
	@$(MAKE) --no-print-directory mailsift

deps:
	$(call ensure_pkgs,$(BUILD_PKGS))

# Installing dovecot enables and may start a system-wide server on
# 110/143/993/995; the tests start their own.  When this installs it, the
# system's is stopped and disabled again, so nothing is left behind.
# The servers the tests run themselves (dovecot, exim, PostgreSQL) must
# not stay running as system services when this installed them.
SERVICES_OF_TESTS := dovecot-core:dovecot exim4-base:exim4 postgresql:postgresql
test-deps: deps
	@mkdir -p $(BUILD); for ps in $(SERVICES_OF_TESTS); do \
	  dpkg-query -W -f='$${Status}' $${ps%%:*} 2>/dev/null | grep -q "ok installed" || \
	    touch $(BUILD)/.fresh-$${ps#*:}; done
	$(call ensure_pkgs,$(TEST_PKGS))
	@for ps in $(SERVICES_OF_TESTS); do s=$${ps#*:}; \
	  [ -e $(BUILD)/.fresh-$$s ] || continue; \
	  echo "mailsift: stopping and disabling the system's $$s (the tests run their own)"; \
	  systemctl disable $$s.service >/dev/null 2>&1 || update-rc.d $$s disable >/dev/null 2>&1; \
	  systemctl disable $$s.socket >/dev/null 2>&1; \
	  systemctl stop $$s.service $$s.socket >/dev/null 2>&1 || invoke-rc.d $$s stop >/dev/null 2>&1; \
	  rm -f $(BUILD)/.fresh-$$s; done

# ---------------------------------------------------------------- builds
# Each flavour compiles every source into its own folder.

obj = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(CFLAGS) $(HARDEN) $(WARN) $(INC) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(@D)
	$(SAN_CC) $(CSTD) -g -O1 $(SAN) $(WARN) $(INC) -MMD -MP -c $< -o $@

mailsift: $(call obj,rel,$(CORE_SRC) $(CLI_SRC))
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/san/mailsift: $(call obj,san,$(CORE_SRC) $(CLI_SRC))
	$(SAN_CC) $(SAN) -o $@ $^ $(LIBS)

asan: deps
	@$(MAKE) --no-print-directory $(BUILD)/san/mailsift

# The schema lives in store/sqlite/schema.sql and is compiled in as a string.
$(BUILD)/gen/schema.h: store/sqlite/schema.sql
	@mkdir -p $(@D)
	@{ echo '#define STORE_SCHEMA_SQL \\'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n" \\/' $<; \
	  echo '""'; } > $@

$(BUILD)/rel/store/sqlite/sqlite.o $(BUILD)/san/store/sqlite/sqlite.o: $(BUILD)/gen/schema.h

# PostgreSQL's schema likewise, in store/pg/pg_schema.sql.
$(BUILD)/gen/pg_schema.h: store/pg/pg_schema.sql
	@mkdir -p $(@D)
	@{ echo '#define PG_SCHEMA_SQL \\'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n" \\/' $<; \
	  echo '""'; } > $@

$(BUILD)/rel/store/pg/pg.o $(BUILD)/san/store/pg/pg.o: $(BUILD)/gen/pg_schema.h

# Unit tests link the dissectors only: no libpcap, libnids or SQLite.
# The capture layer's pure parts are tested without libpcap or libnids.
CAPTURE_PURE := capture/decap.c capture/v6map.c
$(BUILD)/rel/tests/test_capture: $(call obj,rel,tests/test_capture.c $(CAPTURE_PURE))
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka
$(BUILD)/san/tests/test_capture: $(call obj,san,tests/test_capture.c $(CAPTURE_PURE))
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka

$(BUILD)/rel/tests/test_urls: $(call obj,rel,tests/test_urls.c dissect/urls.c dissect/util.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka
$(BUILD)/san/tests/test_urls: $(call obj,san,tests/test_urls.c dissect/urls.c dissect/util.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka

$(BUILD)/rel/tests/test_content: $(call obj,rel,tests/test_content.c store/analyse/content.c store/analyse/rules.c dissect/util.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka -lmagic -larchive -lyara -lcrypto
$(BUILD)/san/tests/test_content: $(call obj,san,tests/test_content.c store/analyse/content.c store/analyse/rules.c dissect/util.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka -lmagic -larchive -lyara -lcrypto

$(BUILD)/rel/tests/test_msgauth: $(call obj,rel,tests/test_msgauth.c store/analyse/msgauth.c store/analyse/hbsplit.c dissect/util.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka
$(BUILD)/san/tests/test_msgauth: $(call obj,san,tests/test_msgauth.c store/analyse/msgauth.c store/analyse/hbsplit.c dissect/util.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka

$(BUILD)/rel/tests/test_safename: $(call obj,rel,tests/test_safename.c store/safename.c dissect/util.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka
$(BUILD)/san/tests/test_safename: $(call obj,san,tests/test_safename.c store/safename.c dissect/util.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka

$(BUILD)/rel/tests/test_cmdline: $(call obj,rel,tests/test_cmdline.c cli/cmdline.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka
$(BUILD)/san/tests/test_cmdline: $(call obj,san,tests/test_cmdline.c cli/cmdline.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka

$(BUILD)/rel/tests/test_livenames: $(call obj,rel,tests/test_livenames.c cli/live_names.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka
$(BUILD)/san/tests/test_livenames: $(call obj,san,tests/test_livenames.c cli/live_names.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka

$(BUILD)/rel/tests/test_termsafe: $(call obj,rel,tests/test_termsafe.c cli/termsafe.c dissect/util.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka
$(BUILD)/san/tests/test_termsafe: $(call obj,san,tests/test_termsafe.c cli/termsafe.c dissect/util.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka

ANALYSE_SRC := store/analyse/analyse.c store/analyse/hasher.c store/analyse/bodynorm.c store/analyse/hbsplit.c \
	       store/analyse/content.c store/analyse/rules.c store/analyse/msgauth.c store/analyse/x509.c dissect/util.c
ANALYSE_LIBS := -lmagic -larchive -lyara -lcrypto -pthread
$(BUILD)/rel/tests/test_analyse: $(call obj,rel,tests/test_analyse.c $(ANALYSE_SRC))
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(ANALYSE_LIBS)
$(BUILD)/san/tests/test_analyse: $(call obj,san,tests/test_analyse.c $(ANALYSE_SRC))
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka $(ANALYSE_LIBS)

$(BUILD)/rel/tests/test_sandbox: $(call obj,rel,tests/test_sandbox.c cli/sandbox.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka -lseccomp -pthread
$(BUILD)/san/tests/test_sandbox: $(call obj,san,tests/test_sandbox.c cli/sandbox.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka -lseccomp -pthread

$(BUILD)/rel/tests/test_handoff: $(call obj,rel,tests/test_handoff.c store/handoff.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka -pthread
$(BUILD)/san/tests/test_handoff: $(call obj,san,tests/test_handoff.c store/handoff.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka -pthread

$(BUILD)/rel/tests/test_hosts.o $(BUILD)/san/tests/test_hosts.o: $(BUILD)/gen/schema.h
$(BUILD)/rel/tests/test_hosts: $(call obj,rel,tests/test_hosts.c store/sqlite/sqlite_hosts.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka -lsqlite3
$(BUILD)/san/tests/test_hosts: $(call obj,san,tests/test_hosts.c store/sqlite/sqlite_hosts.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka -lsqlite3

$(BUILD)/rel/tests/test_stats.o $(BUILD)/san/tests/test_stats.o: $(BUILD)/gen/schema.h
$(BUILD)/rel/tests/test_stats: $(call obj,rel,tests/test_stats.c store/sqlite/sqlite_hosts.c store/sqlite/sqlite_stats.c store/sqlite/sqlite_findings.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka -lsqlite3
$(BUILD)/san/tests/test_stats: $(call obj,san,tests/test_stats.c store/sqlite/sqlite_hosts.c store/sqlite/sqlite_stats.c store/sqlite/sqlite_findings.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka -lsqlite3

HASHER_WRAP := -Wl,--wrap=malloc,--wrap=EVP_DigestUpdate
$(BUILD)/rel/tests/test_hasher: $(call obj,rel,tests/test_hasher.c store/analyse/hasher.c store/analyse/bodynorm.c store/analyse/hbsplit.c dissect/util.c)
	$(CC) $(CFLAGS) $(HASHER_WRAP) -o $@ $^ -lcmocka -lcrypto -pthread
$(BUILD)/san/tests/test_hasher: $(call obj,san,tests/test_hasher.c store/analyse/hasher.c store/analyse/bodynorm.c store/analyse/hbsplit.c dissect/util.c)
	$(SAN_CC) $(SAN) $(HASHER_WRAP) -o $@ $^ -lcmocka -lcrypto -pthread

$(BUILD)/rel/tests/test_bodynorm: $(call obj,rel,tests/test_bodynorm.c store/analyse/bodynorm.c store/analyse/hbsplit.c)
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka
$(BUILD)/san/tests/test_bodynorm: $(call obj,san,tests/test_bodynorm.c store/analyse/bodynorm.c store/analyse/hbsplit.c)
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka

$(BUILD)/rel/tests/%: $(call obj,rel,tests/%.c tests/recsink.c $(DISSECT_SRC))
	$(CC) $(CFLAGS) -o $@ $^ -lcmocka -lz -lcrypto

$(BUILD)/san/tests/%: $(call obj,san,tests/%.c tests/recsink.c $(DISSECT_SRC))
	$(SAN_CC) $(SAN) -o $@ $^ -lcmocka -lz -lcrypto

$(BUILD)/rel/tools/pcapgen: $(call obj,rel,tests/tools/pcapgen.c)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ -lm

.SECONDARY:

# ----------------------------------------------------------------- tests

UNIT_REL := $(addprefix $(BUILD)/rel/tests/,$(TEST_NAMES))
UNIT_SAN := $(addprefix $(BUILD)/san/tests/,$(TEST_NAMES))

test: test-deps
	@$(MAKE) --no-print-directory check-deps format-check unit unit-asan fuzz-regress \
	  e2e console case memory serve-test scale dovecot live unitfile postgres conformance fuzz-short

unit: $(UNIT_REL)
	@for t in $(UNIT_REL); do echo "== $$t"; $$t || exit 1; done

unit-asan: $(UNIT_SAN)
	@for t in $(UNIT_SAN); do echo "== $$t (asan)"; \
	  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $$t || exit 1; done

e2e: mailsift $(BUILD)/san/mailsift $(BUILD)/rel/tools/pcapgen
	@tests/e2e.sh

# mailsift case export / verify: bundles checked from the captures alone.
case: mailsift $(BUILD)/san/mailsift $(BUILD)/rel/tools/pcapgen
	@tests/case.sh

# The analyst's console on the public captures: outcomes, one capture one
# answer, counts, search, filters, whole output, transcripts, help = man.
console: mailsift
	@tests/console.sh

# mailsift serve on the loopback (the sanitizer build): answers, headers,
# refusals, malformed HTTP, many clients.
serve-test: mailsift $(BUILD)/san/mailsift $(BUILD)/rel/tools/pcapgen
	@tests/serve.sh

# Every answer of serve does the same work on a log ten times the size
# (SQLite's own count of its steps), but for the few listed with why.
scale: mailsift $(BUILD)/rel/tools/pcapgen
	@tests/scale.sh

# mailsift live on the loopback of a network namespace of its own.
live: mailsift $(BUILD)/san/mailsift $(BUILD)/rel/tools/pcapgen
	@tests/live.sh

# Peak RSS under traffic built to exhaust memory stays under a bound.
memory: mailsift
	@tests/memory.sh

# The PostgreSQL backend against a private server started by the test.
postgres: mailsift $(BUILD)/san/mailsift $(BUILD)/rel/tools/pcapgen
	@tests/postgres.sh

# The systemd unit for mailsift live passes systemd-analyze verify.
# mailsift live for weeks, in SOAK_S seconds (default 600): rotation,
# SIGHUP, SIGKILL, a full disk; not in make test (ten minutes).
soak: mailsift $(BUILD)/rel/tools/pcapgen
	@tests/soak.sh

unitfile: mailsift
	@tests/unitfile.sh

# POP3 and IMAP from a real dovecot: shipped recordings, and a live one.
dovecot: mailsift $(BUILD)/san/mailsift
	@tests/dovecot.sh

# ------------------------------------------------------------------ fuzz

FUZZ_PKGS    := clang libclang-rt-14-dev
FUZZ_TARGETS := fuzz_smtp fuzz_pop3 fuzz_imap fuzz_mime fuzz_mimehdr \
		fuzz_files fuzz_tls fuzz_pipeline fuzz_content fuzz_html fuzz_search fuzz_filters fuzz_serve
FUZZ_SECONDS ?= 60
FUZZ_CC      := clang -g -O1 -fsanitize=fuzzer,address,undefined,float-divide-by-zero,unsigned-shift-base \
		-fno-sanitize-recover=all -std=c11 -D_DEFAULT_SOURCE \
		-D_GNU_SOURCE $(INC)
CAPTURE_SRC  := capture/capture.c capture/flow.c capture/madeup.c capture/source.c capture/dumpfile.c capture/decap.c capture/v6map.c

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_proto.c $(DISSECT_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) -DFUZZ_PROTO=md_proto_$* -o $@ $^ -lz -lcrypto
$(BUILD)/fuzz/fuzz_mime: tests/fuzz/fuzz_mime.c $(DISSECT_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $^ -lz -lcrypto
$(BUILD)/fuzz/fuzz_html: tests/fuzz/fuzz_html.c cli/serve_html.c dissect/util.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $^
$(BUILD)/fuzz/fuzz_search: tests/fuzz/fuzz_search.c cli/search.c cli/listings.c cli/cmdline.c $(filter-out $(CAPTURE_SRC),$(CORE_SRC)) | $(BUILD)/gen/schema.h $(BUILD)/gen/pg_schema.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -DMAILSIFT_VERSION='"fuzz"' -o $@ $^ $(filter-out -lnids -lpcap,$(LIBS))
$(BUILD)/fuzz/fuzz_filters: tests/fuzz/fuzz_filters.c cli/search.c cli/listings.c cli/cmdline.c $(filter-out $(CAPTURE_SRC),$(CORE_SRC)) | $(BUILD)/gen/schema.h $(BUILD)/gen/pg_schema.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -DMAILSIFT_VERSION='"fuzz"' -o $@ $^ $(filter-out -lnids -lpcap,$(LIBS))
# serve's request handling: the whole CLI but its main, and every library
$(BUILD)/fuzz/fuzz_serve: tests/fuzz/fuzz_serve.c $(filter-out cli/main.c,$(CLI_SRC)) $(CORE_SRC) | $(BUILD)/gen/schema.h $(BUILD)/gen/pg_schema.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -DMAILSIFT_VERSION='"fuzz"' -o $@ $^ $(LIBS)
$(BUILD)/fuzz/fuzz_mimehdr: tests/fuzz/fuzz_mimehdr.c $(DISSECT_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $^ -lz -lcrypto
$(BUILD)/fuzz/fuzz_files: tests/fuzz/fuzz_files.c $(DISSECT_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $^ -lz -lcrypto
$(BUILD)/fuzz/fuzz_tls: tests/fuzz/fuzz_tls.c $(DISSECT_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $^ -lz -lcrypto
$(BUILD)/fuzz/fuzz_content: tests/fuzz/fuzz_content.c store/analyse/content.c store/analyse/rules.c dissect/util.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $^ -lmagic -larchive -lyara -lcrypto
$(BUILD)/fuzz/fuzz_pipeline: tests/fuzz/fuzz_pipeline.c $(DISSECT_SRC) $(CAPTURE_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $^ -lnids -lpcap -lz -lcrypto

# Bounded runs of every target from seeds made of the project's own
# captures, messages and transcripts; crashes land in build/fuzz/crashes.
fuzz: deps
	$(call ensure_pkgs,$(FUZZ_PKGS) tshark)
	@$(MAKE) --no-print-directory $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# make test: every target for FUZZ_SHORT seconds (35 each, thirteen
# targets: CI stays near 20 minutes) from the seeds and regressions; a
# crash fails the run.  make fuzz for longer.
FUZZ_SHORT ?= 35
fuzz-short: deps
	$(call ensure_pkgs,$(FUZZ_PKGS) tshark)
	@$(MAKE) --no-print-directory $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@tests/fuzz/run.sh $(FUZZ_SHORT) $(FUZZ_TARGETS)

# Every input that once crashed a target is replayed under ASan+UBSan.
REPLAY := $(addprefix $(BUILD)/san/replay/,$(FUZZ_TARGETS))
$(BUILD)/san/replay/fuzz_%: $(call obj,san,tests/fuzz/replay.c $(DISSECT_SRC)) tests/fuzz/fuzz_proto.c
	@mkdir -p $(@D)
	$(SAN_CC) $(CSTD) -g -O1 $(SAN) $(WARN) $(INC) -DFUZZ_PROTO=md_proto_$* -o $@ \
	    tests/fuzz/fuzz_proto.c $(filter %.o,$^) -lz -lcrypto
$(BUILD)/san/replay/fuzz_mime: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_mime.c $(DISSECT_SRC))
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^ -lz -lcrypto
$(BUILD)/san/replay/fuzz_html: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_html.c cli/serve_html.c dissect/util.c)
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^
$(BUILD)/san/replay/fuzz_search: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_search.c cli/search.c cli/listings.c cli/cmdline.c $(filter-out $(CAPTURE_SRC),$(CORE_SRC)))
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^ $(filter-out -lnids -lpcap,$(LIBS))
$(BUILD)/san/replay/fuzz_filters: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_filters.c cli/search.c cli/listings.c cli/cmdline.c $(filter-out $(CAPTURE_SRC),$(CORE_SRC)))
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^ $(filter-out -lnids -lpcap,$(LIBS))
$(BUILD)/san/replay/fuzz_serve: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_serve.c $(filter-out cli/main.c,$(CLI_SRC)) $(CORE_SRC))
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^ $(LIBS)
$(BUILD)/san/replay/fuzz_mimehdr: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_mimehdr.c $(DISSECT_SRC))
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^ -lz -lcrypto
$(BUILD)/san/replay/fuzz_files: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_files.c $(DISSECT_SRC))
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^ -lz -lcrypto
$(BUILD)/san/replay/fuzz_tls: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_tls.c $(DISSECT_SRC))
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^ -lz -lcrypto
$(BUILD)/san/replay/fuzz_content: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_content.c store/analyse/content.c store/analyse/rules.c dissect/util.c)
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^ -lmagic -larchive -lyara -lcrypto
$(BUILD)/san/replay/fuzz_pipeline: $(call obj,san,tests/fuzz/replay.c tests/fuzz/fuzz_pipeline.c $(DISSECT_SRC) $(CAPTURE_SRC))
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN) -o $@ $^ -lnids -lpcap -lz -lcrypto

fuzz-regress: $(REPLAY)
	@for t in $(FUZZ_TARGETS); do d=tests/fuzz/regress/$$t; \
	  [ -d $$d ] && [ -n "$$(ls $$d)" ] || continue; \
	  echo "== $$t regressions"; \
	  leaks=1; [ $$t = fuzz_pipeline ] && leaks=0; \
	  ASAN_OPTIONS=halt_on_error=1:detect_leaks=$$leaks $(BUILD)/san/replay/$$t $$d/* || exit 1; done

# ----------------------------------------------------------------- bench

BENCH_PKGS := time dsniff tshark tcpflow openssl sqlite3
BENCH_MB   ?= 500
BENCH_MIX  ?= 4000
BENCH_TINY ?= 20000
BENCH_GROWN ?= 200000
BENCH_LIVE_MB ?= 100
BENCH_LIVE_RATES ?= 500 1000 1500 2000 top

$(BUILD)/bench/floor: bench/floor.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $< -lnids -lpcap

bench: deps mailsift $(BUILD)/bench/floor $(BUILD)/rel/tools/pcapgen
	$(call ensure_pkgs,$(BENCH_PKGS))
	@bench/run.sh $(BENCH_MB)
	@bench/mail.sh $(BENCH_MIX) $(BENCH_TINY) $(BENCH_GROWN)

# mailsift live under tcpreplay over a veth pair, 1 and 2 workers.
bench-live: deps mailsift $(BUILD)/rel/tools/pcapgen
	$(call ensure_pkgs,$(BENCH_PKGS) tcpreplay sqlite3 iproute2)
	@bench/live.sh $(BENCH_LIVE_MB) "$(BENCH_LIVE_RATES)"

# The workbench at scale: every answer serve's pages ask for, timed on
# a log of BENCH_SERVE_MESSAGES (default a million) notifications.
BENCH_SERVE_MESSAGES ?= 1000000
bench-serve: deps mailsift $(BUILD)/rel/tools/pcapgen
	$(call ensure_pkgs,$(BENCH_PKGS) sqlite3 curl)
	@bench/serve.sh $(BENCH_SERVE_MESSAGES)

# SQLite against PostgreSQL, one job against two, several writers.
bench-stores: deps mailsift $(BUILD)/rel/tools/pcapgen
	$(call ensure_pkgs,$(BENCH_PKGS) postgresql sqlite3 bc)
	@bench/stores.sh $(BENCH_STORES_MB)

# Records tests/recorded/ afresh (root: a network namespace of its own).
record:
	tests/tools/record-dovecot.sh tests/recorded
	tests/tools/record-tls.sh tests/recorded
	CURL=1 tests/tools/record-tls.sh tests/recorded

conformance: mailsift $(BUILD)/san/mailsift
	@tests/conformance.sh

# Layers depend one way: the dissectors know no capture or storage
# library, the capture layer no SQLite, the store no libpcap or libnids;
# the CLI reaches the log through the backend interface only.
check-deps:
	@if grep -nE '#include *[<"](pcap|nids|sqlite3)' dissect/*.c dissect/*.h; then \
	  echo "check-deps: dissect/ must not include pcap, nids or sqlite3" >&2; exit 1; fi
	@if grep -nE '#include *[<"]sqlite3' capture/*.c capture/*.h; then \
	  echo "check-deps: capture/ must not include sqlite3" >&2; exit 1; fi
	@if grep -nE '#include *[<"](pcap|nids)' store/*.[ch] store/*/*.[ch]; then \
	  echo "check-deps: store/ must not include pcap or nids" >&2; exit 1; fi
	@if grep -nE '#include *"(capture/)?(capture_priv|wire|decap|v6map)\.h"' dissect/* store/*.[ch] store/*/*.[ch] cli/*; then \
	  echo "check-deps: capture/'s private headers are for capture/ only" >&2; exit 1; fi
	@if grep -nE '#include *[<"](pcap|nids)' cli/*.c cli/*.h; then \
	  echo "check-deps: cli/ reaches libpcap and libnids through capture.h" >&2; exit 1; fi
	@if grep -nE '#include *[<"](store/)?(sqlite3|sqlite_priv|backend)\.h' cli/*.c cli/*.h; then \
	  echo "check-deps: cli/ reaches the log through store.h and query.h" >&2; exit 1; fi
	@if grep -lE '#include *[<"]sqlite3' store/*.[ch] store/*/*.[ch] | grep -v '^store/sqlite/'; then \
	  echo "check-deps: only the SQLite backend (store/sqlite/) includes sqlite3.h" >&2; exit 1; fi
	@if grep -lE '#include *[<"](store/pg/)?(libpq-fe|pg_priv)\.h' dissect/* capture/* cli/* store/*.[ch] store/*/*.[ch] | grep -v '^store/pg/'; then \
	  echo "check-deps: only the PostgreSQL backend (store/pg/) includes libpq" >&2; exit 1; fi
	@if grep -lE '#include *[<"](magic|archive|archive_entry)\.h' dissect/* capture/* cli/* store/*.[ch] store/*/*.[ch] | grep -v '^store/analyse/content\.c\|^cli/case_tar\.c'; then \
	  echo "check-deps: only store/analyse/content.c (attachments) and cli/case_tar.c (case bundles) include libmagic and libarchive" >&2; exit 1; fi
	@if grep -lE '#include *[<"]yara\.h' dissect/* capture/* cli/* store/*.[ch] store/*/*.[ch] | grep -v '^store/analyse/rules\.c'; then \
	  echo "check-deps: only store/analyse/rules.c includes libyara" >&2; exit 1; fi
	@if grep -lE '#include *<openssl/(x509|x509v3|x509_vfy)\.h' dissect/* capture/* cli/* store/*.[ch] store/*/*.[ch] | grep -v '^store/analyse/x509\.c'; then \
	  echo "check-deps: only store/analyse/x509.c includes libcrypto's X.509" >&2; exit 1; fi
	@if grep -nE '#include *[<"](sqlite3|libpq-fe|store/[a-z_]+|store/(sqlite|pg|spool)/[a-z_]+)\.h' store/analyse/*; then \
	  echo "check-deps: the analysis stage (store/analyse/) knows no log: no SQLite, PostgreSQL or writer" >&2; exit 1; fi
	@if grep -nE '#include *"store/analyse/' dissect/* capture/* cli/* store/*.[ch] store/sqlite/* store/pg/* store/spool/* | grep -v '"store/analyse/analyse\.h"'; then \
	  echo "check-deps: outside store/analyse/, the stage is reached through store/analyse/analyse.h" >&2; exit 1; fi
	@if grep -nE '#include *"[a-z0-9_]+\.h"' dissect/* capture/* store/*.[ch] store/*/*.[ch] cli/* tests/*.c tests/*.h tests/fuzz/*.c | grep -vE '"(pg_)?schema\.h"'; then \
	  echo "check-deps: include project headers by folder (\"dissect/util.h\"): grep finds who reaches where" >&2; exit 1; fi
	@def=$$(sed -n 's/^TABLE(\([a-z_]*\),.*/\1/p' store/tables.def | sort); \
	sq=$$(sed -n 's/^CREATE \(VIRTUAL \)\{0,1\}TABLE IF NOT EXISTS \([a-z_]*\) .*/\2/p' store/sqlite/schema.sql | grep -vx 'blob_bytes' | sort); \
	pg=$$(sed -n 's/^CREATE TABLE IF NOT EXISTS \([a-z_]*\) (.*/\1/p' store/pg/pg_schema.sql | grep -vx 'blobs\|mailsift_schema' | sort); \
	if [ "$$def" != "$$sq" ] || [ "$$def" != "$$pg" ]; then \
	  echo "check-deps: store/tables.def, schema.sql and pg_schema.sql name different tables:" >&2; \
	  echo "  tables.def: $$def" | tr '\n' ' ' >&2; echo >&2; echo "  schema.sql: $$sq" | tr '\n' ' ' >&2; echo >&2; \
	  echo "  pg_schema.sql: $$pg" | tr '\n' ' ' >&2; echo >&2; exit 1; fi
	@echo "check-deps: ok"

# ------------------------------------------------------------------ demo

demo: all
	$(call ensure_pkgs,$(DEMO_PKGS))
	@./mailsift read --replace -o $(BUILD)/demo.db tests/pcap/demo.pcap \
	  tests/recorded/dovecot-imap.pcap tests/recorded/dovecot-pop3.pcap
	@echo
	@echo "Who sent what to whom over SMTP:"
	@sqlite3 -header -column $(BUILD)/demo.db \
	  "SELECT session_id, mail_from, rcpt_to, size, substr(sha256,1,16) AS sha256 FROM v_smtp_messages;"
	@echo
	@echo "Every message, however it travelled:"
	@sqlite3 -header -column $(BUILD)/demo.db \
	  "SELECT message_id, proto, method, direction, user, mailbox, msgno, uid, section, size, substr(sha256,1,16) AS sha256 FROM v_messages;"
	@echo
	@echo "Credentials that crossed in clear:"
	@sqlite3 -header -column $(BUILD)/demo.db \
	  "SELECT session_id, proto, command, mechanism, username, password, outcome FROM v_credentials;"
	@echo
	@echo "The log is $(BUILD)/demo.db; try: sqlite3 $(BUILD)/demo.db .schema"

# What the demo installs and runs, for tests/tools/demo-deps.sh.
print-demo-pkgs:
	@echo $(BUILD_PKGS) $(DEMO_PKGS)
print-demo-programs:
	@echo cc sqlite3

# ------------------------------------------------------------- the rest

SYSTEMD_DIR ?= /etc/systemd/system
SYSUSERS_DIR ?= /usr/lib/sysusers.d

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 mailsift $(DESTDIR)$(PREFIX)/bin/mailsift
	install -m 0644 mailsift.1 $(DESTDIR)$(PREFIX)/share/man/man1/mailsift.1
	install -d $(DESTDIR)$(SYSTEMD_DIR) $(DESTDIR)$(SYSUSERS_DIR)
	sed 's|/usr/local/bin/mailsift|$(PREFIX)/bin/mailsift|' \
	  dist/mailsift-live@.service > $(DESTDIR)$(SYSTEMD_DIR)/mailsift-live@.service
	install -m 0644 dist/mailsift.sysusers $(DESTDIR)$(SYSUSERS_DIR)/mailsift.conf

# The C sources, held to .clang-format (KNF: tabs, 80 columns).
FORMAT_SRC = $(wildcard capture/*.[ch] dissect/*.[ch] store/*.[ch] store/*/*.[ch] cli/*.[ch] \
	     tests/*.[ch] tests/fuzz/*.[ch] tests/tools/*.c bench/*.c)

format:
	clang-format -i $(FORMAT_SRC)

format-check:
	$(call ensure_pkgs,clang-format)
	@clang-format --dry-run --Werror $(FORMAT_SRC) && echo "format-check: ok"

clean:
	rm -rf $(BUILD) mailsift

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
