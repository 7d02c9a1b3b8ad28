"""``tf.logging``: TF 1's logging calls, on Python's ``logging`` logger ``"graphnn"``."""
from __future__ import annotations

import logging as _logging
from typing import Any

from graphnn.compat.v1._unsupported import missing_names

__all__ = ["DEBUG", "ERROR", "FATAL", "INFO", "WARN", "debug", "error", "fatal",
           "get_verbosity", "info", "log", "set_verbosity", "warn", "warning"]

DEBUG, INFO, WARN, ERROR, FATAL = (_logging.DEBUG, _logging.INFO, _logging.WARNING,
                                   _logging.ERROR, _logging.FATAL)
_logger = _logging.getLogger("graphnn")


def set_verbosity(level: int) -> None:
    """Sets the level of the ``graphnn`` logger (``tf.logging.set_verbosity(tf.logging.INFO)``)."""
    _logger.setLevel(level)


def get_verbosity() -> int:
    return _logger.getEffectiveLevel()


def log(level: int, msg: Any, *args: Any) -> None:
    _logger.log(level, msg, *args)


def debug(msg: Any, *args: Any) -> None:
    _logger.debug(msg, *args)


def info(msg: Any, *args: Any) -> None:
    _logger.info(msg, *args)


def warning(msg: Any, *args: Any) -> None:
    _logger.warning(msg, *args)


warn = warning


def error(msg: Any, *args: Any) -> None:
    _logger.error(msg, *args)


def fatal(msg: Any, *args: Any) -> None:
    _logger.fatal(msg, *args)


__getattr__ = missing_names("logging")
