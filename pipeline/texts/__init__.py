"""The episode's text companions as producers write them and feeds and pages want them:
chapters, transcripts, show notes, time stamps (pure parsers and writers)."""
