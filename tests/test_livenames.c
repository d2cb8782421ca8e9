/*
 * test_livenames.c - the names of live --rotate's files, the clock's
 * boundaries it rotates on, and the current link (cli/live_names.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/live.h"

static void
test_stamped(void **state)
{
	char out[256];

	(void)state;
	/* 2026-12-04 21:05:09 UTC */
	live_stamped("/var/lib/mailsift/eth1.db", ".db", 1796418309, out,
	    sizeof(out));
	assert_string_equal(out, "/var/lib/mailsift/eth1-20261204T210509.db");
	live_stamped("eth1", ".db", 1796418309, out, sizeof(out));
	assert_string_equal(out, "eth1-20261204T210509.db");
	/* a dot in a folder's name is not the file's extension */
	live_stamped("/srv/v1.2/log", ".pcap", 0, out, sizeof(out));
	assert_string_equal(out, "/srv/v1.2/log-19700101T000000.pcap");
	live_stamped_worker("cap/eth1.pcap", "-w3.pcap", out, sizeof(out));
	assert_string_equal(out, "cap/eth1-w3.pcap");
}

static void
test_parse_stamp(void **state)
{
	(void)state;
	assert_int_equal(live_parse_stamp("-20261204T210509.db"), 1796418309);
	assert_int_equal(live_parse_stamp("-19700101T000000"), 0);
	assert_int_equal(live_parse_stamp("-2026120T210509.db"), -1);
	assert_int_equal(live_parse_stamp("20261204T210509"), -1);
	assert_int_equal(live_parse_stamp("-20261204X210509"), -1);
	assert_int_equal(live_parse_stamp("-2026120aT210509"), -1);
	assert_int_equal(live_parse_stamp(""), -1);
}

/* Boundaries in local time: checked in UTC and in a zone an hour and a
 * half off it (a day's boundary is that zone's midnight). */
static void
test_boundaries(void **state)
{
	time_t t = 1796418309; /* 21:05:09 UTC */

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(live_next_boundary(t, 60), 1796418360);
	assert_int_equal(live_next_boundary(t, 3600), 1796421600);
	assert_int_equal(live_next_boundary(t, 900), 1796418900);
	assert_int_equal(live_next_boundary(t, 86400), 1796428800);
	/* on a boundary: the next one, not this one */
	assert_int_equal(live_next_boundary(1796418360, 60), 1796418420);
	setenv("TZ", "XST-01:30", 1); /* UTC+1:30 */
	tzset();
	/* 22:35:09 there: midnight there is 22:30 UTC */
	assert_int_equal(live_next_boundary(t, 86400), 1796423400);
	assert_int_equal(live_next_boundary(t, 3600), 1796419800);
	unsetenv("TZ");
	tzset();
}

/* LOG.db becomes a relative link to the file in use, replaced as the
 * files rotate; a log of its own at that name is never replaced. */
static void
test_point_current(void **state)
{
	char	dir[] = "/tmp/livenamesXXXXXX", link[64], target[128], err[256];
	char	got[128];
	ssize_t n;
	FILE   *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/eth1.db", dir);
	snprintf(target, sizeof(target), "%s/eth1-20261204T000000.db", dir);
	assert_int_equal(live_point_current(link, target, err, sizeof(err)), 0);
	n = readlink(link, got, sizeof(got) - 1);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, "eth1-20261204T000000.db");
	snprintf(target, sizeof(target), "%s/eth1-20261205T000000.db", dir);
	assert_int_equal(live_point_current(link, target, err, sizeof(err)), 0);
	n = readlink(link, got, sizeof(got) - 1);
	got[n] = '\0';
	assert_string_equal(got, "eth1-20261205T000000.db");
	unlink(link);
	assert_non_null(f = fopen(link, "w")); /* an earlier log */
	fclose(f);
	assert_int_equal(live_point_current(link, target, err, sizeof(err)), 1);
	assert_int_equal(readlink(link, got, sizeof(got)), -1);
	unlink(link);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamped),
		cmocka_unit_test(test_parse_stamp),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_point_current),
	};

	return cmocka_run_group_tests_name("livenames", tests, NULL, NULL);
}
