"""Commands added by a later change."""
