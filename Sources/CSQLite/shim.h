#ifndef VIDEOSTACK_CSQLITE_SHIM_H
#define VIDEOSTACK_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: it tells SQLite to copy bound data.
static inline sqlite3_destructor_type videostack_sqlite_transient(void) { return SQLITE_TRANSIENT; }
// SQLITE_STATIC: the bound data outlives the statement's use of it.
static inline sqlite3_destructor_type videostack_sqlite_static(void) { return SQLITE_STATIC; }
#endif
