"""The persistent domain: data model and workflow rules (arrives with the case workflow issue)."""
