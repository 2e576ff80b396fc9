#include <sqlite3.h>
#include <string.h>

/*
 * A VFS for the writer connection that hands each commit's WAL frames to the kernel in a few large
 * writes instead of two small ones per page.
 *
 * SQLite writes every WAL frame as two `pwrite` calls: its 24-byte header, then the 4 KB page,
 * at offsets that are never page-aligned (frame i starts at 32 + i * 4120). A commit of ~200
 * pages is ~400 system calls, each taking the file's page-cache folios through ext4's
 * write_begin / write_end; profiled, that was a quarter of the writer thread's time. This VFS
 * gathers consecutive writes to a `-wal` file in memory and writes them out together when the
 * commit's last frame is complete, in pieces of 120 KiB (the most the unix VFS takes in one
 * call), so the kernel copies the batch in large runs.
 *
 * Why this keeps every guarantee:
 * - The buffer is written before SQLite publishes the commit. SQLite writes all of a commit's
 *   frames (the last one has a nonzero "database size" field in its header) and only then updates
 *   the shared wal-index that makes them visible to other connections. The buffer is written out
 *   right after the page that follows a commit frame's header, inside that same `xWrite` call, so
 *   by the time `sqlite3_step` returns COMMIT, the bytes are where they were before: in the
 *   kernel's page cache (and, with synchronous=FULL, synced: `xSync` writes the buffer first).
 * - Anything else that touches the WAL file (a read, a write elsewhere, a size query, a
 *   truncate, a sync, a file control, a lock, closing it) writes the buffer out first, so the
 *   file never looks different from what SQLite wrote. Writes that are not to a WAL file pass
 *   straight through.
 * - The buffer is bounded (`CSQLITE_WAL_BUFFER_MAX`): a transaction larger than that (a cache
 *   spill during a long replay) is written in pieces of that size, as SQLite would have.
 */

#define CSQLITE_WAL_BUFFER_VFS "inboxlite-wal-buffer"
#define CSQLITE_WAL_BUFFER_MAX (8 << 20)

typedef struct csqlite_wal_file {
    sqlite3_file base;
    sqlite3_file *real;
    unsigned char *buffer;
    sqlite3_int64 bufferStart;
    int bufferLength;
    int bufferCapacity;
    /* The last write was a commit frame's header: its page completes the commit. */
    int commitPageNext;
} csqlite_wal_file;

static sqlite3_vfs *csqlite_wal_buffer_base(sqlite3_vfs *vfs) { return (sqlite3_vfs *)vfs->pAppData; }

/* The unix VFS writes at most 128 KiB - 1 bytes per call (its write count is masked with 0x1ffff:
   a larger write was seen to come back short, which SQLite reports as SQLITE_FULL). */
#define CSQLITE_WAL_WRITE_CHUNK (120 << 10)

static int csqlite_wal_flush(csqlite_wal_file *file) {
    int rc = SQLITE_OK;
    for (int done = 0; done < file->bufferLength && rc == SQLITE_OK; done += CSQLITE_WAL_WRITE_CHUNK) {
        int amount = file->bufferLength - done;
        if (amount > CSQLITE_WAL_WRITE_CHUNK) amount = CSQLITE_WAL_WRITE_CHUNK;
        rc = file->real->pMethods->xWrite(file->real, file->buffer + done, amount, file->bufferStart + done);
    }
    file->bufferLength = 0;
    return rc;
}

/* --- Every method: write the buffer out, then do what the real file does. --- */

#define CSQLITE_WAL_FLUSH_FIRST(file) \
    do { int flushed = csqlite_wal_flush(file); if (flushed != SQLITE_OK) return flushed; } while (0)

static int csqlite_wal_close(sqlite3_file *f) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    int rc = csqlite_wal_flush(file);
    int closed = file->real->pMethods->xClose(file->real);
    sqlite3_free(file->buffer);
    file->buffer = 0;
    file->bufferCapacity = 0;
    return rc != SQLITE_OK ? rc : closed;
}

static int csqlite_wal_read(sqlite3_file *f, void *out, int amount, sqlite3_int64 offset) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    CSQLITE_WAL_FLUSH_FIRST(file);
    return file->real->pMethods->xRead(file->real, out, amount, offset);
}

/* Whether this write completes a commit (what is buffered must go out now), and whether the next
   one will. A frame header is 24 bytes; bytes 4-7 (big-endian "database size after commit") are
   nonzero only on the last frame of a transaction, whose page is the next write. SQLite writes the
   header and its page as two calls; should a later version write a frame as one (24 + a
   power-of-two page size), that frame is recognised too. (WALBufferTests fails if a commit is ever
   left buffered.) */
static int csqlite_wal_completes_commit(csqlite_wal_file *file, const void *data, int amount) {
    if (file->commitPageNext) {
        file->commitPageNext = 0;
        return 1;
    }
    const unsigned char *header = (const unsigned char *)data;
    int isCommitFrame = amount >= 24 && (header[4] | header[5] | header[6] | header[7]) != 0;
    if (amount == 24) {
        file->commitPageNext = isCommitFrame;
        return 0;
    }
    return isCommitFrame && amount - 24 >= 512 && ((amount - 24) & (amount - 25)) == 0;
}

/* Writes as SQLite would have without this VFS (after what is buffered): for a write larger than
   the buffer, or when the buffer cannot grow. It still counts towards the commit in progress. */
static int csqlite_wal_write_through(csqlite_wal_file *file, const void *data, int amount, sqlite3_int64 offset) {
    CSQLITE_WAL_FLUSH_FIRST(file);
    (void)csqlite_wal_completes_commit(file, data, amount);
    return file->real->pMethods->xWrite(file->real, data, amount, offset);
}

static int csqlite_wal_write(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    if (file->bufferLength > 0 && offset != file->bufferStart + file->bufferLength) {
        CSQLITE_WAL_FLUSH_FIRST(file);
    }
    if (file->bufferLength + amount > CSQLITE_WAL_BUFFER_MAX) {
        if (amount > CSQLITE_WAL_BUFFER_MAX) return csqlite_wal_write_through(file, data, amount, offset);
        CSQLITE_WAL_FLUSH_FIRST(file);
    }
    if (file->bufferLength + amount > file->bufferCapacity) {
        int capacity = file->bufferCapacity ? file->bufferCapacity : 1 << 20;
        while (capacity < file->bufferLength + amount) capacity *= 2;
        if (capacity > CSQLITE_WAL_BUFFER_MAX) capacity = CSQLITE_WAL_BUFFER_MAX;
        unsigned char *grown = (unsigned char *)sqlite3_realloc(file->buffer, capacity);
        if (grown == 0) return csqlite_wal_write_through(file, data, amount, offset);  /* no memory */
        file->buffer = grown;
        file->bufferCapacity = capacity;
    }
    if (file->bufferLength == 0) file->bufferStart = offset;
    memcpy(file->buffer + file->bufferLength, data, (size_t)amount);
    file->bufferLength += amount;

    return csqlite_wal_completes_commit(file, data, amount) ? csqlite_wal_flush(file) : SQLITE_OK;
}

static int csqlite_wal_truncate(sqlite3_file *f, sqlite3_int64 size) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    CSQLITE_WAL_FLUSH_FIRST(file);
    return file->real->pMethods->xTruncate(file->real, size);
}

static int csqlite_wal_sync(sqlite3_file *f, int flags) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    CSQLITE_WAL_FLUSH_FIRST(file);
    return file->real->pMethods->xSync(file->real, flags);
}

static int csqlite_wal_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    CSQLITE_WAL_FLUSH_FIRST(file);
    return file->real->pMethods->xFileSize(file->real, size);
}

static int csqlite_wal_lock(sqlite3_file *f, int level) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    CSQLITE_WAL_FLUSH_FIRST(file);
    return file->real->pMethods->xLock(file->real, level);
}

static int csqlite_wal_unlock(sqlite3_file *f, int level) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    CSQLITE_WAL_FLUSH_FIRST(file);
    return file->real->pMethods->xUnlock(file->real, level);
}

static int csqlite_wal_check_reserved(sqlite3_file *f, int *out) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    return file->real->pMethods->xCheckReservedLock(file->real, out);
}

static int csqlite_wal_file_control(sqlite3_file *f, int op, void *arg) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    CSQLITE_WAL_FLUSH_FIRST(file);
    return file->real->pMethods->xFileControl(file->real, op, arg);
}

static int csqlite_wal_sector_size(sqlite3_file *f) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    return file->real->pMethods->xSectorSize(file->real);
}

static int csqlite_wal_device_characteristics(sqlite3_file *f) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

static int csqlite_wal_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    return file->real->pMethods->xShmMap(file->real, region, size, extend, out);
}

static int csqlite_wal_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    return file->real->pMethods->xShmLock(file->real, offset, n, flags);
}

static void csqlite_wal_shm_barrier(sqlite3_file *f) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    file->real->pMethods->xShmBarrier(file->real);
}

static int csqlite_wal_shm_unmap(sqlite3_file *f, int deleteFlag) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    return file->real->pMethods->xShmUnmap(file->real, deleteFlag);
}

static int csqlite_wal_fetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    CSQLITE_WAL_FLUSH_FIRST(file);
    return file->real->pMethods->xFetch(file->real, offset, amount, out);
}

static int csqlite_wal_unfetch(sqlite3_file *f, sqlite3_int64 offset, void *page) {
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    return file->real->pMethods->xUnfetch(file->real, offset, page);
}

static const sqlite3_io_methods csqlite_wal_methods = {
    3,
    csqlite_wal_close, csqlite_wal_read, csqlite_wal_write, csqlite_wal_truncate, csqlite_wal_sync,
    csqlite_wal_file_size, csqlite_wal_lock, csqlite_wal_unlock, csqlite_wal_check_reserved,
    csqlite_wal_file_control, csqlite_wal_sector_size, csqlite_wal_device_characteristics,
    csqlite_wal_shm_map, csqlite_wal_shm_lock, csqlite_wal_shm_barrier, csqlite_wal_shm_unmap,
    csqlite_wal_fetch, csqlite_wal_unfetch,
};

/* --- The VFS: the base VFS's methods, with WAL files opened through the buffer. --- */

static int csqlite_wal_vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    if (!(flags & SQLITE_OPEN_WAL)) {
        /* Not a WAL file: the base VFS's file itself (szOsFile leaves room for the wrapper). */
        return base->xOpen(base, name, f, flags, outFlags);
    }
    csqlite_wal_file *file = (csqlite_wal_file *)f;
    memset(file, 0, sizeof(*file));
    file->real = (sqlite3_file *)&file[1];
    int rc = base->xOpen(base, name, file->real, flags, outFlags);
    /* SQLite calls xClose on a file whose open set pMethods, even if the open failed. */
    if (file->real->pMethods == 0) {
        file->base.pMethods = 0;
        return rc;
    }
    if (file->real->pMethods->iVersion < 3) {
        /* Methods this wrapper would have to forward do not exist: do not wrap. The real file
           was opened in place after the header, so close it and open it unwrapped. */
        file->real->pMethods->xClose(file->real);
        return base->xOpen(base, name, f, flags, outFlags);
    }
    file->base.pMethods = &csqlite_wal_methods;
    return rc;
}

static int csqlite_wal_vfs_delete(sqlite3_vfs *vfs, const char *name, int syncDir) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xDelete(base, name, syncDir);
}
static int csqlite_wal_vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xAccess(base, name, flags, out);
}
static int csqlite_wal_vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xFullPathname(base, name, size, out);
}
static void *csqlite_wal_vfs_dlopen(sqlite3_vfs *vfs, const char *name) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xDlOpen(base, name);
}
static void csqlite_wal_vfs_dlerror(sqlite3_vfs *vfs, int size, char *out) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    base->xDlError(base, size, out);
}
static void (*csqlite_wal_vfs_dlsym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xDlSym(base, handle, symbol);
}
static void csqlite_wal_vfs_dlclose(sqlite3_vfs *vfs, void *handle) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    base->xDlClose(base, handle);
}
static int csqlite_wal_vfs_randomness(sqlite3_vfs *vfs, int size, char *out) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xRandomness(base, size, out);
}
static int csqlite_wal_vfs_sleep(sqlite3_vfs *vfs, int microseconds) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xSleep(base, microseconds);
}
static int csqlite_wal_vfs_current_time(sqlite3_vfs *vfs, double *out) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xCurrentTime(base, out);
}
static int csqlite_wal_vfs_last_error(sqlite3_vfs *vfs, int size, char *out) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xGetLastError(base, size, out);
}
static int csqlite_wal_vfs_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    sqlite3_vfs *base = csqlite_wal_buffer_base(vfs);
    return base->xCurrentTimeInt64(base, out);
}

/// Registers the WAL-buffering VFS (not as the default) under `CSQLITE_WAL_BUFFER_VFS`, on top
/// of the default VFS. Call once, before the writer connection opens with that VFS name.
static inline int csqlite_register_wal_buffer_vfs(void) {
    static sqlite3_vfs vfs;
    if (sqlite3_vfs_find(CSQLITE_WAL_BUFFER_VFS) != 0) return SQLITE_OK;
    sqlite3_vfs *base = sqlite3_vfs_find(0);
    if (base == 0 || base->iVersion < 2) return SQLITE_ERROR;
    memset(&vfs, 0, sizeof(vfs));
    vfs.iVersion = 2;
    vfs.szOsFile = (int)sizeof(csqlite_wal_file) + base->szOsFile;
    vfs.mxPathname = base->mxPathname;
    vfs.zName = CSQLITE_WAL_BUFFER_VFS;
    vfs.pAppData = base;
    vfs.xOpen = csqlite_wal_vfs_open;
    vfs.xDelete = csqlite_wal_vfs_delete;
    vfs.xAccess = csqlite_wal_vfs_access;
    vfs.xFullPathname = csqlite_wal_vfs_full_pathname;
    vfs.xDlOpen = csqlite_wal_vfs_dlopen;
    vfs.xDlError = csqlite_wal_vfs_dlerror;
    vfs.xDlSym = csqlite_wal_vfs_dlsym;
    vfs.xDlClose = csqlite_wal_vfs_dlclose;
    vfs.xRandomness = csqlite_wal_vfs_randomness;
    vfs.xSleep = csqlite_wal_vfs_sleep;
    vfs.xCurrentTime = csqlite_wal_vfs_current_time;
    vfs.xGetLastError = csqlite_wal_vfs_last_error;
    vfs.xCurrentTimeInt64 = csqlite_wal_vfs_current_time_int64;
    return sqlite3_vfs_register(&vfs, 0);
}
