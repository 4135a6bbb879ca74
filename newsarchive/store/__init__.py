"""The crawl's store: its configuration (:mod:`.config`), the per-crawl owner of the database
(:mod:`.owner`), the batches it writes (:mod:`.batches`) and feed claims (:mod:`.claims`)."""
