"""One log line per event, key=value, whatever the message or traceback holds."""

import logging

from traction_rec_import.logformat import OneLineFormatter


def record(message, *args, exc_info=None):
    return logging.LogRecord(
        "traction_rec_import.tasks", logging.INFO, __file__, 1, message, args, exc_info
    )


def test_it_writes_time_level_logger_and_process_before_the_message():
    entry = record("task=%s run=%s complete=%s", "fetch", 12, True)
    entry.created, entry.msecs, entry.process = 1796353200.25, 250, 4321

    line = OneLineFormatter().format(entry)

    assert line == (
        "time=2026-12-04T03:00:00.250Z level=INFO logger=traction_rec_import.tasks "
        "pid=4321 task=fetch run=12 complete=True"
    )


def test_a_traceback_stays_on_the_same_line():
    try:
        raise ValueError('bad "value"\non two lines')
    except ValueError:
        import sys

        entry = record("run=%s failed", 3, exc_info=sys.exc_info())

    line = OneLineFormatter().format(entry)

    assert "\n" not in line
    assert ' run=3 failed exc="Traceback (most recent call last):\\n' in line
    assert line.endswith('ValueError: bad \\"value\\"\\non two lines"')


def test_a_message_with_a_line_break_stays_on_one_line():
    line = OneLineFormatter().format(record("first\nsecond\r\nthird"))

    assert line.endswith(" first\\nsecond\\r\\nthird")


def test_the_settings_use_it_for_the_console():
    from django.conf import settings

    formatter = settings.LOGGING["formatters"]["line"]

    assert formatter == {"()": "traction_rec_import.logformat.OneLineFormatter"}
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "line"
