"""Reading stored asv results: one row per case, result files, and which releases made them."""
