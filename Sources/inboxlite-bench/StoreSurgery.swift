import InboxStore

/// Benchmark-only changes to a scratch database.
enum StoreSurgery {
    /// Removes the triggers that keep `messages_fts` in sync, so ingest can be measured without FTS.
    static func dropFullTextTriggers(_ owner: StoreOwner) throws {
        try owner.execute("""
            DROP TRIGGER IF EXISTS messages_fts_insert; DROP TRIGGER IF EXISTS messages_fts_update;
            DROP TRIGGER IF EXISTS messages_fts_delete;
            """)
    }
}
