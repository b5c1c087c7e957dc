"""The steps of a run around the audio: the episode's renditions, `publish feed`, and the pings
after the commit."""
