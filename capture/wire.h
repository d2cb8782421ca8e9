/*
 * wire.h - reading and writing the big-endian numbers of packet headers,
 * and the IPv4 header checksum (RFC 791, RFC 1071), for the capture
 * layer's files.  p must hold the bytes read or written.
 */
#ifndef MAILSIFT_WIRE_H
#define MAILSIFT_WIRE_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Whether the IPv4 header at ip is a fragment's: more fragments follow,
 * or it starts past the packet's first byte. */
static inline int
ipv4_fragment(const uint8_t *ip)
{
	return (be16(ip + 6) & 0x3fff) != 0;
}

/* The one's-complement sum of the header's 16-bit words, complemented:
 * 0 over a header whose checksum field is right. */
static inline uint16_t
ipv4_checksum(const uint8_t *h, size_t hlen)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < hlen; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif
