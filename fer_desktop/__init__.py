"""fer-desktop."""
