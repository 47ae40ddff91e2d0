from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lookback.divisions.loader import DivisionTableError, load_table


class Command(BaseCommand):
    help = "载入行政区划代码表（CSV：code,name,level,parent_code）"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except FileNotFoundError as exc:
            raise CommandError(f"找不到文件：{file}") from exc
        except UnicodeDecodeError:
            text = file.read_bytes().decode("gb18030")
        try:
            result = load_table(text)
        except DivisionTableError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已载入：新增 {result.created}，更新 {result.updated}")
