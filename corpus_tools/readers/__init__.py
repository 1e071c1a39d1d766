"""Readers turn input files into documents with provenance set once. See `readers.warc`."""
