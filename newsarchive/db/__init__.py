"""Database: typed models, engine factory with schema checks, repository functions, migrations."""
