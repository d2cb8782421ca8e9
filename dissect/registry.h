/*
 * registry.h - the protocols mailsift dissects, in one table: name,
 * dissector, and the ports servers use.  Detection, the capture layer
 * (which side of a connection picked up mid-stream is the server) and
 * the live capture's default filter all ask here, so a protocol or a
 * port is added in one place.  Ports only hint: detection decides by
 * what each side says, except for TLS from the first byte.
 */
#ifndef MAILSIFT_REGISTRY_H
#define MAILSIFT_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"

struct md_registry_entry {
	const char	      *name; /* as in sessions.proto */
	const struct md_proto *ops;
	const uint16_t	      *ports;	  /* clear text or STARTTLS; 0 ends */
	const uint16_t	      *tls_ports; /* TLS from the first byte; 0 ends */
};

extern const struct md_registry_entry md_registry[];
extern const size_t		      md_registry_len;

/* The protocol whose server usually listens on port, or NULL; *tls (when
 * not NULL) says whether that port speaks TLS from the first byte. */
const struct md_proto *md_proto_of_port(uint16_t port, int *tls);

/* "port 25 or port 465 or ...": every port of the table, as a BPF
 * expression.  Returns its length (cut to cap - 1). */
size_t md_ports_bpf(char *out, size_t cap);

#endif
