// SPDX-License-Identifier: GPL-2.0-or-later
/* Host unit tests for the CLI's print_* facade (cli/json_print.c): the
 * same calls print text, or JSON that jansson parses back. Prints KTAP. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "json_print.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

static char out[65536];
static FILE *cap;
static int saved_fd = -1;

/* Send stdout to a temporary file until end_capture(). */
static void begin_capture(bool json, bool pretty)
{
	fflush(stdout);
	cap = tmpfile();
	saved_fd = dup(STDOUT_FILENO);
	dup2(fileno(cap), STDOUT_FILENO);
	json_init(json, pretty);
}

static const char *end_capture(void)
{
	size_t n;

	fflush(stdout);
	dup2(saved_fd, STDOUT_FILENO);
	close(saved_fd);
	rewind(cap);
	n = fread(out, 1, sizeof(out) - 1, cap);
	out[n] = 0;
	fclose(cap);
	return out;
}

/* The calls a "member show" line makes, with awkward values. */
static void print_record(void)
{
	open_json_object(NULL);
	print_uint(PRINT_ANY, "vpn_id", "vpn %u ", 7);
	print_string(PRINT_ANY, "id", "id %s", "10.0.0.1");
	print_string(PRINT_JSON, "note", NULL, "quote \" backslash \\ tab \t nl \n ctl \x01");
	print_string(PRINT_FP, NULL, " %s", "text-only");
	print_null(PRINT_JSON, "endpoint", NULL, NULL);
	print_bool(PRINT_JSON, "stamped", NULL, true);
	open_json_array(PRINT_JSON, "allowed_ips");
	print_string(PRINT_ANY, NULL, " allowed %s", "10.1.0.0/24");
	print_string(PRINT_ANY, NULL, ",%s", "2001:db8::/32");
	close_json_array(PRINT_JSON, NULL);
	open_json_array(PRINT_JSON, "flags");
	close_json_array(PRINT_JSON, NULL);
	print_u64(PRINT_ANY, "generation", " generation %llu", 12345678901234ULL);
	print_u64(PRINT_JSON, "big", NULL, UINT64_MAX);
	close_json_object();
	print_nl();
}

static void test_text(void)
{
	const char *s;

	begin_capture(false, false);
	print_record();
	s = end_capture();
	CHECK(!strcmp(s, "vpn 7 id 10.0.0.1 text-only allowed 10.1.0.0/24,2001:db8::/32 "
			 "generation 12345678901234\n"));
}

static void check_record(json_t *o)
{
	json_t *a;

	CHECK(json_is_object(o));
	CHECK(json_integer_value(json_object_get(o, "vpn_id")) == 7);
	CHECK(!strcmp(json_string_value(json_object_get(o, "id")), "10.0.0.1"));
	CHECK(!strcmp(json_string_value(json_object_get(o, "note")),
		      "quote \" backslash \\ tab \t nl \n ctl \x01"));
	CHECK(json_is_null(json_object_get(o, "endpoint")));
	CHECK(json_is_true(json_object_get(o, "stamped")));
	a = json_object_get(o, "allowed_ips");
	CHECK(json_is_array(a) && json_array_size(a) == 2);
	CHECK(!strcmp(json_string_value(json_array_get(a, 1)), "2001:db8::/32"));
	a = json_object_get(o, "flags");
	CHECK(json_is_array(a) && json_array_size(a) == 0);
	CHECK(json_integer_value(json_object_get(o, "generation")) == 12345678901234LL);
	/* beyond json_int_t: a positive number, never a negative one */
	CHECK(json_is_real(json_object_get(o, "big")) &&
	      json_real_value(json_object_get(o, "big")) > 1.8e19);
	CHECK(json_object_get(o, "text-only") == NULL);
	CHECK(json_object_size(o) == 9);
}

static void test_json_object(void)
{
	json_error_t e;
	const char *s;
	json_t *o;

	begin_capture(true, false);
	print_record();
	s = end_capture();
	/* one line, keys in the order printed */
	CHECK(strchr(s, '\n') == s + strlen(s) - 1);
	CHECK(!strncmp(s, "{\"vpn_id\":7,\"id\":\"10.0.0.1\",\"note\":", 35));
	o = json_loads(s, 0, &e);
	if (!o)
		printf("# %s: %s\n", e.text, s);
	CHECK(o != NULL);
	if (o)
		check_record(o);
	json_decref(o);
}

static void test_json_pretty_array(void)
{
	json_error_t e;
	const char *s;
	json_t *a;
	int i, lines = 0;

	begin_capture(true, true);
	open_json_array(PRINT_JSON, NULL);
	for (i = 0; i < 3; i++) {
		print_record();
	}
	close_json_array(PRINT_JSON, NULL);
	s = end_capture();
	for (i = 0; s[i]; i++)
		lines += s[i] == '\n';
	CHECK(lines > 3);
	a = json_loads(s, 0, &e);
	CHECK(json_is_array(a) && json_array_size(a) == 3);
	if (json_is_array(a))
		check_record(json_array_get(a, 2));
	json_decref(a);
}

/* Several documents in a row (batch, monitor): one per line. */
static void test_json_stream(void)
{
	json_error_t e;
	const char *s, *nl;
	json_t *v;

	begin_capture(true, false);
	open_json_array(PRINT_JSON, NULL);
	close_json_array(PRINT_JSON, NULL);
	print_record();
	open_json_object(NULL);
	open_json_object("member");
	print_string(PRINT_ANY, "id", "id %s", "2001:db8::1");
	close_json_object();
	close_json_object();
	s = end_capture();
	CHECK(!strncmp(s, "[]\n{", 4));
	nl = strchr(s + 3, '\n');
	CHECK(nl != NULL);
	if (!nl)
		return;
	v = json_loadb(s + 3, nl - s - 3, 0, &e);
	CHECK(json_is_object(v));
	json_decref(v);
	CHECK(!strcmp(nl + 1, "{\"member\":{\"id\":\"2001:db8::1\"}}\n"));
}

static const struct test {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "text_mode", test_text },
	{ "json_object_values", test_json_object },
	{ "json_pretty_array", test_json_pretty_array },
	{ "json_documents_one_per_line", test_json_stream },
};

int main(void)
{
	size_t i, n = sizeof(tests) / sizeof(tests[0]);
	int failed = 0;

	printf("TAP version 13\n1..%zu\n", n);
	for (i = 0; i < n; i++) {
		failures = 0;
		tests[i].fn();
		printf("%sok %zu - %s\n", failures ? "not " : "", i + 1, tests[i].name);
		if (failures)
			failed++;
	}
	printf("# %zu passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
