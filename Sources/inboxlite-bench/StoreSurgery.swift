import InboxStore

/// Benchmark-only changes to a scratch database.
enum StoreSurgery {
    /// Removes the triggers that keep `messages_fts` in sync, so ingest can be measured without FTS.
    static func dropFullTextTriggers(_ store: StoreConfiguration) throws {
        let db = try InboxDatabase.openWriter(store)
        try db.execute("""
            DROP TRIGGER IF EXISTS messages_fts_insert; DROP TRIGGER IF EXISTS messages_fts_update;
            DROP TRIGGER IF EXISTS messages_fts_delete;
            """)
    }
}
