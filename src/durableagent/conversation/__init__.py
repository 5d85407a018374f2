"""Where transcripts and the request ledger live (memory, SQLite, Azure Table storage)."""
