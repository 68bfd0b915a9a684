"""Test-only app (config/test_settings.py adds it when TEST_SLOW_EXPORT_SECONDS is set): the
export's profiles section sleeps that long, so a fault test can kill a worker mid-export."""
