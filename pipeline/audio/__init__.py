"""Audio: decode, meter, gain, limit, assemble the timeline, encode the MP3 and tag it."""
