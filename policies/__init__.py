"""Policy data (SLOs, acknowledgments, control catalogs) and the typed loaders that read them."""
