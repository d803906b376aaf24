// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iproute2-style print_* helpers: one code path for text and JSON output.
 * In text mode they printf(); in JSON mode they build the document with
 * jansson and print it when its top-level object or array is closed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "json_print.h"

#define MAX_DEPTH 32

static bool json_mode, json_pretty;
static int depth;
static json_t *stack[MAX_DEPTH];
static int overflow; /* containers opened beyond MAX_DEPTH */

void json_init(bool json, bool pretty)
{
	json_mode = json;
	json_pretty = pretty;
	depth = 0;
	overflow = 0;
}

bool is_json_context(void)
{
	return json_mode;
}

static void emit(json_t *v)
{
	size_t flags = JSON_ENCODE_ANY | (json_pretty ? JSON_INDENT(4) : JSON_COMPACT);

	json_dumpf(v, stdout, flags);
	putchar('\n');
	fflush(stdout);
}

/* Attach v (a new reference, may be NULL) under key to the open container,
 * or print it if there is none. */
static void add(const char *key, json_t *v)
{
	json_t *parent;

	if (!v)
		return;
	if (overflow) {
		json_decref(v);
		return;
	}
	if (depth == 0) {
		emit(v);
		json_decref(v);
		return;
	}
	parent = stack[depth - 1];
	if (json_is_array(parent))
		json_array_append_new(parent, v);
	else
		json_object_set_new(parent, key ? key : "", v);
}

static void open_container(const char *key, json_t *c)
{
	if (!c)
		return;
	if (depth >= MAX_DEPTH || overflow) {
		overflow++;
		json_decref(c);
		return;
	}
	if (depth > 0)
		add(key, json_incref(c));
	stack[depth++] = c;
}

static void close_container(void)
{
	json_t *c;

	if (overflow) {
		overflow--;
		return;
	}
	if (depth == 0)
		return;
	c = stack[--depth];
	if (depth == 0)
		emit(c);
	json_decref(c);
}

void open_json_object(const char *key)
{
	if (json_mode)
		open_container(key, json_object());
}

void close_json_object(void)
{
	if (json_mode)
		close_container();
}

void open_json_array(enum output_type t, const char *key)
{
	if (json_mode && (t & PRINT_JSON))
		open_container(key, json_array());
}

void close_json_array(enum output_type t, const char *str)
{
	if (json_mode) {
		if (t & PRINT_JSON)
			close_container();
	} else if ((t & PRINT_FP) && str) {
		fputs(str, stdout);
	}
}

/* jansson takes UTF-8 only; everything printed here is ASCII, but never
 * lose a value over it. */
static json_t *string_value(const char *s)
{
	char buf[256];
	json_t *v;
	size_t i;

	if (!s)
		s = "";
	v = json_string(s);
	if (v)
		return v;
	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	buf[i] = 0;
	return json_string(buf);
}

void print_string(enum output_type t, const char *key, const char *fmt, const char *value)
{
	if (json_mode) {
		if (t & PRINT_JSON)
			add(key, string_value(value));
	} else if (t & PRINT_FP) {
		printf(fmt ? fmt : "%s", value);
	}
}

void print_uint(enum output_type t, const char *key, const char *fmt, unsigned int value)
{
	if (json_mode) {
		if (t & PRINT_JSON)
			add(key, json_integer((json_int_t)value));
	} else if (t & PRINT_FP) {
		printf(fmt ? fmt : "%u", value);
	}
}

void print_u64(enum output_type t, const char *key, const char *fmt, uint64_t value)
{
	if (json_mode) {
		if (!(t & PRINT_JSON))
			return;
		/* json_int_t is signed: above its range, a (rounded) number
		 * rather than a negative one. */
		if (value > (uint64_t)INT64_MAX)
			add(key, json_real((double)value));
		else
			add(key, json_integer((json_int_t)value));
	} else if (t & PRINT_FP) {
		printf(fmt ? fmt : "%llu", (unsigned long long)value);
	}
}

void print_bool(enum output_type t, const char *key, const char *fmt, bool value)
{
	if (json_mode) {
		if (t & PRINT_JSON)
			add(key, json_boolean(value));
	} else if (t & PRINT_FP) {
		printf(fmt ? fmt : "%s", value ? "true" : "false");
	}
}

void print_null(enum output_type t, const char *key, const char *fmt, const char *text)
{
	if (json_mode) {
		if (t & PRINT_JSON)
			add(key, json_null());
	} else if ((t & PRINT_FP) && text) {
		printf(fmt ? fmt : "%s", text);
	}
}

void print_nl(void)
{
	if (!json_mode)
		putchar('\n');
}
