"""The auditor's tools: bulk verification of run directories, and the audit of a service's log."""
