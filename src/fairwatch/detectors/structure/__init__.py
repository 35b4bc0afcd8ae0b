"""Structure detectors: concentrations of undertakings."""
