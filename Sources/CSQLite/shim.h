#include <sqlite3.h>

/// `SQLITE_TRANSIENT` is a macro around a cast that Swift cannot import: SQLite copies the bound
/// bytes before the bind call returns, so Swift buffers may be released right after.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return (sqlite3_destructor_type)-1;
}

/// Turns off SQLite's global allocation statistics. They take a process-wide mutex on every
/// malloc, which the single writer pays thousands of times per batch. Must run before the
/// first connection opens; returns SQLITE_MISUSE if it is too late.
static inline int csqlite_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
