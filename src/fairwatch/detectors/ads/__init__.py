"""Advertising detectors: prohibited claims, unlabelled ads, pop-ups that do not close."""
