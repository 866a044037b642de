"""Table declarations by domain; `lakehouse.catalog.CATALOG` collects them."""
