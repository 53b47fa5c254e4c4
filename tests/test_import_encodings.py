"""Encodings detected and shown, and the user's override (issue 11, point 2)."""

import polars as pl

from core.importer import ImportOptions, auto_map, plan_import, read_table
from core.importer.reading import MOSTLY_UTF8


def plan(con, name: str, data: bytes, encoding: str | None = None):
    table = read_table(name, data, encoding)
    return table, plan_import(con, table, ImportOptions(mapping=auto_map(con, table.headers)))


def test_a_shift_jis_file_is_read_as_japanese_and_says_so(fresh_db):
    data = "名前,メール\n山田 太郎,taro@example.jp\n佐藤 花子,hanako@example.jp\n".encode("shift_jis")
    table, result = plan(fresh_db, "jp.csv", data)
    assert table.encoding in ("shift_jis", "cp932")
    assert table.frame["名前"].to_list() == ["山田 太郎", "佐藤 花子"]
    assert result.report()["encoding"] == table.encoding


def test_one_stray_byte_in_a_utf8_file_keeps_the_file_utf8_and_warns_its_line(fresh_db):
    data = "Name,Email\nJosé Müller,jose@example.com\n".encode() + b"Caf\xe9 Owner,cafe@example.com\n"
    table, result = plan(fresh_db, "mixed.csv", data)
    assert table.encoding == MOSTLY_UTF8
    assert table.frame["Name"][0] == "José Müller"
    assert result.warnings.filter(pl.col("reason") == "the line has bytes that are not UTF-8")["line"].to_list() == [3]
    assert result.counts()["created"] == 2


def test_windows_1252_is_detected_and_the_user_may_choose_another(fresh_db):
    data = "Name,Email\nFrançois Bégué,f@example.com\nJürgen Weiß,j@example.com\n".encode("cp1252")
    table, _ = plan(fresh_db, "w.csv", data)
    assert table.frame["Name"].to_list() == ["François Bégué", "Jürgen Weiß"]
    chosen, _ = plan(fresh_db, "w.csv", data, encoding="latin-1")
    assert chosen.encoding == "latin-1" and chosen.frame["Name"][0] == "François Bégué"


def test_utf32_with_a_bom_is_read(fresh_db):
    table, _ = plan(fresh_db, "u.csv", "Email\nada@example.com\n".encode("utf-32"))
    assert table.encoding == "utf-32" and table.frame["Email"][0] == "ada@example.com"


def test_japanese_and_russian_address_books_map_their_headers_and_keep_their_names(fresh_db):
    from core.importer import commit_import

    japanese = "姓,名,メール,電話番号\n山田,太郎,taro@example.jp,03-1234-5678\n佐藤,花子,hanako@example.jp,\n"
    russian = "Фамилия,Имя,Отчество,Email,Телефон\nИванов,Иван,Петрович,ivan@example.ru,+7 495 123-45-67\n"
    for name, data in (("jp.csv", japanese.encode("shift_jis")), ("ru.csv", russian.encode("koi8_r"))):
        table = read_table(name, data)
        mapping = auto_map(fresh_db, table.headers, table.frame)
        assert "" not in mapping.values(), mapping
        commit_import(fresh_db, plan_import(fresh_db, table, ImportOptions(mapping=mapping)), "admin")
    rows = fresh_db.execute("SELECT first_name, last_name, email FROM contacts ORDER BY email").fetchall()
    assert rows == [
        ("花子", "佐藤", "hanako@example.jp"),
        ("Иван Петрович", "Иванов", "ivan@example.ru"),
        ("太郎", "山田", "taro@example.jp"),
    ]
