"""The `lookback` console command: Django's manage.py with the project's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lookback.settings")
    if len(argv) > 1 and argv[1] == "demo":
        # The demo serves plain HTTP on 127.0.0.1; production keeps the HTTPS defaults.
        os.environ.setdefault("LOOKBACK_HTTPS", "0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
