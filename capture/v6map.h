/*
 * v6map.h - lets libnids, which reassembles IPv4 only, reassemble IPv6.
 *
 * Each IPv6 address seen is given a stand-in IPv4 address in 240.0.0.0/4
 * (reserved, never routed), and each IPv6 packet is rewritten as the IPv4
 * packet libnids expects: same TCP segment, same fragmentation (the IPv6
 * fragment header becomes IPv4 fragment fields, so libnids' own
 * defragmentation reassembles it).  When a connection reaches the sink,
 * its stand-in addresses are turned back into the real IPv6 ones.  One
 * reassembly engine, no second TCP implementation.
 */
#ifndef MAILSIFT_V6MAP_H
#define MAILSIFT_V6MAP_H

#include <stddef.h>
#include <stdint.h>

#define V6MAP_PREFIX 0xf0000000u /* 240.0.0.0/4 */
#define V6MAP_MAX    (1u << 22)	 /* distinct IPv6 addresses kept */

struct v6map {
	uint8_t (*addr)[16]; /* stand-in index -> IPv6 address */
	uint32_t *slot;	     /* open addressing: index + 1, 0 empty */
	uint32_t  n, cap;    /* addresses held, slots */
};

enum v6_result {
	V6_OK = 0,
	V6_NOT_TCP,   /* another upper protocol */
	V6_MALFORMED, /* cut headers, lengths that do not add up */
	V6_FULL	      /* V6MAP_MAX addresses already held */
};

void	       v6map_free(struct v6map *);
enum v6_result v6map_packet(struct v6map *, const uint8_t *ip6, size_t n,
    uint8_t *out, size_t cap, size_t *outlen);
int v6map_lookup(const struct v6map *, const uint8_t v4[4], uint8_t v6[16]);

#endif
