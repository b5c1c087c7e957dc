"""The show's website: pages rendered from the manifest and published beside the feed."""
