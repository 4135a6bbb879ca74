"""Raw response archive: WARC writing during crawls and reading for reparse."""
