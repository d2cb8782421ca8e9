/*
 * owner.h - which process writes a log: "HOST/BOOT/PID/START", kept in
 * runs.owner, so that a later run can tell a run that was killed (its
 * rows never finished) from one still writing.  BOOT is the kernel's
 * boot id and START the process's start time in clock ticks: a pid used
 * again after a reboot or by another process is not taken for the writer.
 */
#ifndef MAILSIFT_OWNER_H
#define MAILSIFT_OWNER_H

#include <stddef.h>

/* This process, as runs.owner says it. */
void owner_self(char *out, size_t len);

/* 0: the owner is gone for sure (this host, and its process no longer
 * runs); 1: it runs, or it is not ours to judge (another host, a form
 * we do not read). */
int owner_alive(const char *owner);

/* The wall clock as runs.started and runs.finished have it (UTC, ISO
 * 8601 to the second), for every backend. */
void owner_clock(char *out, size_t len);

#endif
