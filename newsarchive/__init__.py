"""newsarchive: archive Chinese financial news into a deduplicated database, WARC files and exports."""

__version__ = "0.1.0"
