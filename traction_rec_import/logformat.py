"""One log line per event: `time=... level=... logger=... pid=... <message>`.

Messages in this project are written as key=value pairs (ids, counts,
durations), so a line reads the same in a terminal and in a log search. A
newline inside a message or a traceback is escaped, so one event never spans
lines and a log shipper never splits it.
"""

import logging
import time


class OneLineFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record, datefmt=None):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"

    def format(self, record):
        message = record.getMessage()
        line = (
            f"time={self.formatTime(record)} level={record.levelname} "
            f"logger={record.name} pid={record.process} "
            f"{_one_line(message, quoted=False)}"
        )
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            line += f' exc="{_one_line(record.exc_text)}"'
        return line


LINE_BREAKS = str.maketrans({"\r": "\\r", "\n": "\\n"})
QUOTED = str.maketrans({"\\": "\\\\", "\r": "\\r", "\n": "\\n", '"': '\\"'})


def _one_line(text, quoted=True):
    return text.translate(QUOTED if quoted else LINE_BREAKS)
