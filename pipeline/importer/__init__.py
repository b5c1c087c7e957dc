"""Import a show from another host: its feed becomes feeds/ and episodes/ files (feed/reader.py
reads it, convert.py decides, fetch.py downloads, folders.py writes, show.py runs it all)."""
