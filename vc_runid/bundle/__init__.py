"""Offline audit bundles: one zip an auditor verifies with no network, and its report."""
