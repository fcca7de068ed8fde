"""Cohortly's project package."""
