"""The home directory: run store, run files and receipts. The only code that knows its layout."""
