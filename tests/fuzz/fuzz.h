/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd's libFuzzer harnesses (tests/fuzz/fuzz-*.c): what they share. An
 * oracle that fails calls FUZZ_ASSERT, which aborts: libFuzzer saves the
 * input as a crash, and tests/host/fuzz fails.
 */
#ifndef RD_FUZZ_H
#define RD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz: %s:%d: oracle failed: %s\n",	\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

/* The daemon's log costs more than the code under test: off, unless
 * FUZZ_LOG=1 (to read what an input does). */
static inline void fuzz_quiet(void)
{
	const char *v = getenv("FUZZ_LOG");

	rd_log_level = v && *v == '1' ? RD_LOG_DEBUG : -1;
}

/* Input framing of the harnesses that take a sequence of messages: each
 * record is [u8 op][u16 big-endian length][length bytes]. */
struct fuzz_rec {
	uint8_t op;
	const uint8_t *data;
	size_t len;
};

static inline int fuzz_next(const uint8_t **p, size_t *left, struct fuzz_rec *r)
{
	size_t len;

	if (*left < 3)
		return 0;
	r->op = (*p)[0];
	len = (size_t)(*p)[1] << 8 | (*p)[2];
	*p += 3;
	*left -= 3;
	if (len > *left)
		len = *left;
	r->data = *p;
	r->len = len;
	*p += len;
	*left -= len;
	return 1;
}

#endif /* RD_FUZZ_H */
