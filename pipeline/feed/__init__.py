"""The feed: RSS rendered from the manifest, its namespaces, and the side files it points at."""
