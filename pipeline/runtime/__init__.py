"""Small utilities about the running process: settings from the environment, the garbage
collector paused."""
