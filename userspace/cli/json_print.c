// SPDX-License-Identifier: GPL-2.0-or-later
/* Minimal streaming JSON writer plus iproute2-style print_* helpers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json_print.h"

#define MAX_DEPTH 32

static bool json_mode, json_pretty;
static int depth;
static bool first[MAX_DEPTH];

void json_init(bool json, bool pretty)
{
	json_mode = json;
	json_pretty = pretty;
	depth = 0;
}

bool is_json_context(void)
{
	return json_mode;
}

static void indent(void)
{
	int i;

	if (!json_pretty)
		return;
	putchar('\n');
	for (i = 0; i < depth; i++)
		fputs("    ", stdout);
}

static void put_escaped(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\b': fputs("\\b", stdout); break;
		case '\f': fputs("\\f", stdout); break;
		default:
			if (c < 0x20)
				printf("\\u%04x", c);
			else
				putchar(c);
		}
	}
	putchar('"');
}

/* Separator and key before a value. */
static void value_prefix(const char *key)
{
	if (depth > 0) {
		if (!first[depth])
			putchar(',');
		first[depth] = false;
		indent();
	}
	if (key && depth > 0) {
		put_escaped(key);
		fputs(json_pretty ? ": " : ":", stdout);
	}
}

static void open_container(const char *key, char c)
{
	value_prefix(key);
	putchar(c);
	if (depth + 1 < MAX_DEPTH)
		depth++;
	first[depth] = true;
}

static void close_container(char c)
{
	bool empty = first[depth];

	if (depth > 0)
		depth--;
	if (!empty)
		indent();
	putchar(c);
	if (depth == 0)
		json_end_doc();
}

void json_end_doc(void)
{
	if (!json_mode)
		return;
	putchar('\n');
	fflush(stdout);
}

void open_json_object(const char *key)
{
	if (json_mode)
		open_container(key, '{');
}

void close_json_object(void)
{
	if (json_mode)
		close_container('}');
}

void open_json_array(enum output_type t, const char *key)
{
	if (json_mode) {
		if (t & PRINT_JSON)
			open_container(key, '[');
	}
}

void close_json_array(enum output_type t, const char *str)
{
	if (json_mode) {
		if (t & PRINT_JSON)
			close_container(']');
	} else if ((t & PRINT_FP) && str) {
		fputs(str, stdout);
	}
}

void print_string(enum output_type t, const char *key, const char *fmt, const char *value)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			value_prefix(key);
			put_escaped(value);
		}
	} else if (t & PRINT_FP) {
		printf(fmt ? fmt : "%s", value);
	}
}

void print_uint(enum output_type t, const char *key, const char *fmt, unsigned int value)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			value_prefix(key);
			printf("%u", value);
		}
	} else if (t & PRINT_FP) {
		printf(fmt ? fmt : "%u", value);
	}
}

void print_u64(enum output_type t, const char *key, const char *fmt, uint64_t value)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			value_prefix(key);
			printf("%" PRIu64, value);
		}
	} else if (t & PRINT_FP) {
		printf(fmt ? fmt : "%llu", (unsigned long long)value);
	}
}

void print_bool(enum output_type t, const char *key, const char *fmt, bool value)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			value_prefix(key);
			fputs(value ? "true" : "false", stdout);
		}
	} else if (t & PRINT_FP) {
		printf(fmt ? fmt : "%s", value ? "true" : "false");
	}
}

void print_null(enum output_type t, const char *key, const char *fmt, const char *text)
{
	if (json_mode) {
		if (t & PRINT_JSON) {
			value_prefix(key);
			fputs("null", stdout);
		}
	} else if ((t & PRINT_FP) && text) {
		printf(fmt ? fmt : "%s", text);
	}
}

void print_nl(void)
{
	if (!json_mode)
		putchar('\n');
}
