"""The relational adapter: SQLite for the embedded profile, MariaDB/MySQL in production."""
