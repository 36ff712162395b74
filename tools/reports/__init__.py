"""Analysis and reports over stored results: the seed's tables and claims, release comparisons."""
