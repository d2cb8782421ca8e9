/*
 * test_capture.c - the capture layer's pure parts: link layers and
 * encapsulations down to the IP packet (decap.c), and IPv6 rewritten for
 * libnids and mapped back (v6map.c).  Every frame is fed from an
 * exact-size heap block, and every shorter prefix of it must be refused
 * or parsed without reading past its end (ASan watches).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcap/dlt.h>

#include "capture/decap.h"
#include "capture/v6map.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* An IPv4 TCP header (20 bytes) and an IPv6 one (40), addresses aside. */
#define IP4                                                \
	"\x45\x00\x00\x28\x00\x01\x00\x00\x40\x06\x00\x00" \
	"\xc0\x00\x02\x01\xc0\x00\x02\x02"
#define IP6                                                                \
	"\x60\x00\x00\x00\x00\x14\x06\x40"                                 \
	"\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" \
	"\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02"
#define TCP                                                        \
	"\x00\x19\xc0\x00\x00\x00\x00\x01\x00\x00\x00\x01\x50\x10" \
	"\xff\xff\x00\x00\x00\x00"
#define MACS "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"
#define OUTER4(proto)                                \
	"\x45\x00\x00\x00\x00\x00\x00\x00\x40" proto \
	"\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02"

struct frame {
	const char *name;
	int	    dlt;
	const char *bytes;
	size_t	    len;    /* sizeof - 1 */
	size_t	    ip_off; /* where the innermost IP header starts */
	int	    version;
	int	    tunnels;
};

#define F(name, dlt, b, off, v, t)                     \
	{                                              \
		name, dlt, b, sizeof(b) - 1, off, v, t \
	}

static const struct frame frames[] = {
	F("ethernet", DLT_EN10MB, MACS "\x08\x00" IP4 TCP, 14, 4, 0),
	F("ethernet ipv6", DLT_EN10MB, MACS "\x86\xdd" IP6 TCP, 14, 6, 0),
	F("qinq", DLT_EN10MB,
	    MACS "\x88\xa8\x00\x64\x81\x00\x00\xc8\x08\x00" IP4 TCP, 22, 4, 0),
	F("mpls", DLT_EN10MB,
	    MACS "\x88\x47\x00\x01\x00\x40\x00\x01\x11\x40" IP4 TCP, 22, 4, 0),
	F("pppoe", DLT_EN10MB,
	    MACS "\x88\x64\x11\x00\x12\x34\x00\x2a\x00\x57" IP6 TCP, 22, 6, 0),
	F("gre", DLT_EN10MB,
	    MACS "\x08\x00" OUTER4("\x2f") "\x00\x00\x08\x00" IP4 TCP, 38, 4,
	    1),
	F("gre key seq ipv6", DLT_EN10MB,
	    MACS "\x08\x00" OUTER4(
		"\x2f") "\x30\x00\x86\xdd\x00\x00\x00\x07\x00\x00\x00\x09" IP6
		TCP,
	    46, 6, 1),
	F("erspan ii", DLT_EN10MB,
	    MACS
	    "\x08\x00" OUTER4("\x2f") "\x10\x00\x88\xbe\x00\x00\x00\x07"
				      "\x10\x00\x00\x00\x00\x00\x00\x00" MACS
				      "\x08\x00" IP4 TCP,
	    64, 4, 1),
	F("erspan iii", DLT_EN10MB,
	    MACS "\x08\x00" OUTER4(
		"\x2f") "\x10\x00\x22\xeb\x00\x00\x00\x09"
			"\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
			"\x00\x00\x00\x00\x00\x00\x00\x00" MACS
			"\x08\x00" IP4 TCP,
	    76, 4, 1),
	F("vxlan", DLT_EN10MB,
	    MACS
	    "\x08\x00" OUTER4("\x11") "\xc0\x00\x12\xb5\x00\x00\x00\x00"
				      "\x08\x00\x00\x00\x00\x01\x00\x00" MACS
				      "\x08\x00" IP4 TCP,
	    64, 4, 1),
	F("ip in ip", DLT_EN10MB, MACS "\x08\x00" OUTER4("\x04") IP4 TCP, 34, 4,
	    1),
	F("ipv6 in ipv4", DLT_EN10MB, MACS "\x08\x00" OUTER4("\x29") IP6 TCP,
	    34, 6, 1),
	F("sll", DLT_LINUX_SLL,
	    "\x00\x04\x00\x01\x00\x06"
	    "\x02\x00\x00\x00"
	    "\x00\x01\x00\x00\x08\x00" IP4 TCP,
	    16, 4, 0),
	F("sll2", DLT_LINUX_SLL2,
	    "\x86\xdd\x00\x00\x00\x00\x00\x02\x00\x01"
	    "\x04\x06\x02\x00\x00\x00\x00\x01\x00\x00" IP6 TCP,
	    20, 6, 0),
	F("null darwin ipv6", DLT_NULL, "\x1e\x00\x00\x00" IP6 TCP, 4, 6, 0),
	F("null big-endian ipv4", DLT_NULL, "\x00\x00\x00\x02" IP4 TCP, 4, 4,
	    0),
	F("raw", DLT_RAW, IP4 TCP, 0, 4, 0),
	F("ppp", DLT_PPP, "\xff\x03\x00\x21" IP4 TCP, 4, 4, 0),
};

static uint8_t *
heap_copy(const char *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	assert_non_null(c);
	memcpy(c, p, n);
	return c;
}

static void
test_frames(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(frames); i++) {
		const struct frame *f = &frames[i];
		uint8_t		   *b = heap_copy(f->bytes, f->len);
		struct decap	    d;

		assert_int_equal(decap_frame(f->dlt, b, f->len, &d), DECAP_IP);
		assert_ptr_equal(d.ip, b + f->ip_off);
		assert_int_equal(d.len, f->len - f->ip_off);
		assert_int_equal(d.version, f->version);
		assert_int_equal(d.tunnels, f->tunnels);
		free(b);
		/*
		 * Cut anywhere before the IP header, a frame is refused or
		 * gives at most an outer IP packet (a UDP one is not VXLAN
		 * when its header is cut), always within the bytes given.
		 */
		for (size_t k = 0; k < f->ip_off; k++) {
			b = heap_copy(f->bytes, k);
			if (decap_frame(f->dlt, b, k, &d) == DECAP_IP) {
				assert_true(d.ip < b + f->ip_off);
				assert_true(d.ip + d.len <= b + k);
				assert_int_equal(d.tunnels, 0);
			}
			free(b);
		}
	}
}

static void
test_not_ip_and_depth(void **state)
{
	static const char arp[] = MACS "\x08\x06"
				       "\x00\x01\x08\x00";
	uint8_t		  nest[14 + 9 * 24 + 40], *b;
	struct decap	  d;
	size_t		  o;

	(void)state;
	b = heap_copy(arp, sizeof(arp) - 1);
	assert_int_equal(decap_frame(DLT_EN10MB, b, sizeof(arp) - 1, &d),
	    DECAP_NOT_IP);
	free(b);
	assert_false(decap_link_supported(105)); /* 802.11 */
	/* GRE in GRE, nine deep: bounded, given up, not followed forever */
	memcpy(nest, MACS "\x08\x00", 14);
	for (o = 14; o < 14 + 9 * 24; o += 24) {
		memcpy(nest + o, OUTER4("\x2f"), 20);
		memcpy(nest + o + 20, "\x00\x00\x08\x00", 4);
	}
	memcpy(nest + o, IP4 TCP, 40);
	assert_int_equal(decap_frame(DLT_EN10MB, nest, sizeof(nest), &d),
	    DECAP_NOT_IP);
}

static void
test_v6map(void **state)
{
	/* hop-by-hop header, then a fragment header, then TCP data */
	static const char frag[] =
	    "\x60\x00\x00\x00\x00\x28\x00\x40"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02"
	    "\x2c\x00\x01\x04\x00\x00\x00\x00" /* HBH: next 44, PadN */
	    "\x06\x00\x00\x11\x5e\xed\x00\x01" /* offset 2, M, id */
	    "0123456789abcdefghijklmn";
	struct v6map m = { 0 };
	uint8_t	     out[128], v6[16], *b;
	size_t	     len;

	(void)state;
	b = heap_copy(IP6 TCP, 60);
	assert_int_equal(v6map_packet(&m, b, 60, out, sizeof(out), &len),
	    V6_OK);
	assert_int_equal(len, 40);
	assert_int_equal(out[0], 0x45);
	assert_int_equal(out[9], 6);
	assert_int_equal(out[12] & 0xf0, 0xf0); /* 240.0.0.0/4 */
	assert_true(v6map_lookup(&m, out + 12, v6));
	assert_memory_equal(v6, b + 8, 16);
	assert_true(v6map_lookup(&m, out + 16, v6));
	assert_memory_equal(v6, b + 24, 16);
	assert_memory_equal(out + 20, b + 40, 20);
	free(b);

	b = heap_copy(frag, sizeof(frag) - 1);
	assert_int_equal(
	    v6map_packet(&m, b, sizeof(frag) - 1, out, sizeof(out), &len),
	    V6_OK);
	assert_int_equal(len, 20 + 24);
	assert_int_equal(out[6], 0x20); /* MF */
	assert_int_equal(out[7], 2);	/* offset 2 units */
	assert_memory_equal(out + 20, "0123456789abcdefghijklmn", 24);
	for (size_t k = 0; k < 56; k++) /* cut headers: refused */
		assert_int_not_equal(
		    v6map_packet(&m, b, k, out, sizeof(out), &len), V6_OK);
	free(b);

	/* IPv4 addresses that are not stand-ins are not mapped back */
	assert_false(v6map_lookup(&m, (const uint8_t *)"\xc0\x00\x02\x01", v6));
	assert_false(v6map_lookup(&m, (const uint8_t *)"\xf0\x00\x00\x09", v6));
	v6map_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_not_ip_and_depth),
		cmocka_unit_test(test_v6map),
	};
	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
