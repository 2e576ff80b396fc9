#include <sqlite3.h>

/// `SQLITE_TRANSIENT` is a macro around a cast that Swift cannot import: SQLite copies the bound
/// bytes before the bind call returns, so Swift buffers may be released right after.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return (sqlite3_destructor_type)-1;
}
