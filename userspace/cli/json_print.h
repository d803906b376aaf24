/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One code path for text and JSON output, after iproute2's json_print;
 * the JSON side is built with jansson. */
#ifndef ROSTER_JSON_PRINT_H
#define ROSTER_JSON_PRINT_H

#include <stdbool.h>
#include <stdint.h>

enum output_type {
	PRINT_FP = 1,	/* text only */
	PRINT_JSON = 2,	/* JSON only */
	PRINT_ANY = 3,	/* both */
};

/* Global mode; set once from the command line. */
void json_init(bool json, bool pretty);
bool is_json_context(void);

/* A document: one top-level JSON value (object or array), printed on one
 * line (indented with -p) when it is closed. In text mode these do
 * nothing. */
void open_json_object(const char *key);
void close_json_object(void);
void open_json_array(enum output_type t, const char *key);
void close_json_array(enum output_type t, const char *str);

/* key is used in JSON (NULL inside arrays), fmt in text mode. */
void print_string(enum output_type t, const char *key, const char *fmt, const char *value);
void print_uint(enum output_type t, const char *key, const char *fmt, unsigned int value);
void print_u64(enum output_type t, const char *key, const char *fmt, uint64_t value);
void print_bool(enum output_type t, const char *key, const char *fmt, bool value);
void print_null(enum output_type t, const char *key, const char *fmt, const char *text);
/* Text-mode newline; nothing in JSON mode. */
void print_nl(void);

#endif
