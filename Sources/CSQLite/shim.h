#include <sqlite3.h>
#include <stdlib.h>

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

/// fdatasyncs the connection's main database file through SQLite's own handle of it. (Opening and
/// closing the file by path instead would drop every POSIX lock this process holds on it: the
/// locks of the writer and of every reader.)
static inline int csqlite_sync_database_file(sqlite3 *db) {
    sqlite3_file *file = 0;
    int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file);
    if (rc != SQLITE_OK) return rc;
    if (file == 0 || file->pMethods == 0) return SQLITE_OK;
    return file->pMethods->xSync(file, SQLITE_SYNC_NORMAL | SQLITE_SYNC_DATAONLY);
}

/// Gives SQLite `count` preallocated page buffers for `pageSize`-byte pages, used before malloc
/// (see `InboxDatabase.pageBuffers`). Must run before SQLite initialises: before any connection,
/// and before any sqlite3_malloc (which initialises it), hence plain malloc here.
static inline int csqlite_configure_page_buffers(int pageSize, int count) {
    int header = 0;
    int rc = sqlite3_config(SQLITE_CONFIG_PCACHE_HDRSZ, &header);
    if (rc != SQLITE_OK) return rc;
    int size = (pageSize + header + 7) & ~7;
    void *buffer = malloc((size_t)size * (size_t)count);
    if (buffer == 0) return SQLITE_NOMEM;
    rc = sqlite3_config(SQLITE_CONFIG_PAGECACHE, buffer, size, count);
    if (rc != SQLITE_OK) free(buffer);
    return rc;
}
