"""LAION-like caption metadata: stream the caption column out of parquet files and find the names in it.

**Engine.** The files are split into units (row groups, or whole files) from their footers (``parquet``).
Worker threads (default: one per core) each take a unit at a time and read its caption column with their own
single-threaded DuckDB connection, applying the optional score threshold in SQL (``reading``); each record
batch goes through :class:`helpers.captions.Matcher`, which normalises the batch's bytes with numpy lookup
tables and finds every name at once with Hyperscan, neither holding the GIL for long (``scan``). Counts are
summed over units; URL samples (of captions that credit the artist as author) are merged in file and row order (``mentions``), so neither depends on the
number of workers.
"""

from .mentions import DROP_COLUMNS, RealWorkSample, count_mentions, sample_real_work_urls
from .parquet import metadata_files

__all__ = ["count_mentions", "sample_real_work_urls", "RealWorkSample", "DROP_COLUMNS", "metadata_files"]
