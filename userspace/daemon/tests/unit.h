/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd's unit test programs (tests/NAME-test.c): one TAP line per test,
 * EXPECT() marks the running test failed and says where, and the count of
 * failed tests is the program's exit status. Each program includes this
 * once (it defines the counters).
 */
#ifndef RD_TESTS_UNIT_H
#define RD_TESTS_UNIT_H

#include <stdio.h>

static int test_no, failed, cur_fail;

#define EXPECT(cond) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
		cur_fail = 1;						\
	}								\
} while (0)

/* Flushed after every line: a test that crashes (the store's crash test
 * forks) leaves the lines before it. */
static inline void run(const char *name, void (*fn)(void))
{
	cur_fail = 0;
	fn();
	test_no++;
	printf("%s %d - %s\n", cur_fail ? "not ok" : "ok", test_no, name);
	fflush(stdout);
	failed += cur_fail;
}

#endif /* RD_TESTS_UNIT_H */
