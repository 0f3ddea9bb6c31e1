"""Finds new structures that appear inside zones and stay; model backends."""
