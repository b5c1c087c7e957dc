"""The project on disk: feed and episode configs (validated models), the catalogue, scaffolding."""
