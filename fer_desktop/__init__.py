"""fer-desktop: live facial-expression estimates for a screen-shared online class, computed on the
teacher's own machine."""

__version__ = "0.3.0"
