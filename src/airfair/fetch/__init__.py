"""Fetchers of real data: Sensor.Community archive, OpenAQ v3, OpenStreetMap boundaries (see each module)."""
