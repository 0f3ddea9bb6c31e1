"""Zones, masks, reporting units and pixel-to-ground mapping."""
