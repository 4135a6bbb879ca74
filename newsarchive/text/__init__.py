"""Pure text helpers: body cleaning, date and media/tag normalization."""
