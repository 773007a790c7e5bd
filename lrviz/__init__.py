"""lrviz: see what a torch learning-rate scheduler really does."""

__version__ = "0.1.0"
