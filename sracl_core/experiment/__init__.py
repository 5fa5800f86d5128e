"""Grids of pipeline runs (variants x seeds) and their aggregated comparison."""
