"""Pure page parsers, one module per site: text and URL in, plain data out (no Scrapy imports)."""
