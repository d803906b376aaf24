/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rosterd: what only the SQLite store has (store-sqlite.c). The manager
 * uses store.h alone, so that another engine can replace this one; the
 * unit tests and the benchmark reach the connection through here.
 */
#ifndef RD_STORE_SQLITE_H
#define RD_STORE_SQLITE_H

#include "store.h"

/* The schema this rosterd writes; a store with a newer one is refused. */
#define RD_STORE_SCHEMA 3

struct sqlite3;

/* The store's connection: for tests (integrity checks, tampering) and
 * the benchmark (synchronous=OFF). Not for the manager. */
struct sqlite3 *rd_store_sqlite(struct rd_store *s);

#endif /* RD_STORE_SQLITE_H */
