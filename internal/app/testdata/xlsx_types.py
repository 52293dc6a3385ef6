"""Check the cell types of an exported workbook, as a spreadsheet user's
tools see them (openpyxl), and write a copy whose first sheet sums every
count column, for LibreOffice to recalculate.

usage: xlsx_types.py EXPORT.xlsx EXPECT.json CHECK.xlsx

EXPECT maps a sheet name to {header: kind}, kind one of int, number,
percent, date, minute, second. Prints JSON: {"problems": [...],
"sums": [{"label": ..., "expect": n}]} where sums[i] is row i+1 of the
first sheet of CHECK.xlsx.
"""
import datetime
import json
import sys

import openpyxl
from openpyxl.utils import get_column_letter

export, expect_file, check = sys.argv[1:4]
expect = json.load(open(expect_file, encoding="utf-8"))
wb = openpyxl.load_workbook(export)
problems, sums = [], []


def problem(msg):
    problems.append(msg)


for sheet, cols in expect.items():
    if sheet not in wb.sheetnames:
        problem(f"no sheet {sheet!r} (sheets: {wb.sheetnames})")
        continue
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    if ws.max_row < 2:
        problem(f"{sheet}: no data rows")
    for name, kind in cols.items():
        if name not in header:
            problem(f"{sheet}: no column {name!r} (header: {header})")
            continue
        col = header.index(name) + 1
        seen, total = 0, 0
        for row in range(2, ws.max_row + 1):
            cell = ws.cell(row=row, column=col)
            v = cell.value
            if v is None or v == "":
                continue
            seen += 1
            where = f"{sheet}!{cell.coordinate} ({name}, {kind})"
            fmt = cell.number_format or ""
            if kind in ("int", "number", "percent"):
                if cell.data_type != "n" or isinstance(v, (str, bool, datetime.datetime)):
                    problem(f"{where}: {v!r} is {cell.data_type}/{type(v).__name__}, not a number")
                    continue
                if kind == "int" and float(v) != int(v):
                    problem(f"{where}: {v!r} is not a whole number")
                if kind == "percent" and "%" not in fmt:
                    problem(f"{where}: format {fmt!r} has no %")
                total += v
            else:
                if not cell.is_date or not isinstance(v, datetime.datetime):
                    problem(f"{where}: {v!r} is {cell.data_type}/{type(v).__name__}, not a date")
                    continue
                want = {"date": "yyyy", "minute": "hh:mm", "second": "hh:mm:ss"}[kind]
                if want not in fmt:
                    problem(f"{where}: format {fmt!r} lacks {want}")
                if kind == "date" and (v.hour, v.minute, v.second) != (0, 0, 0):
                    problem(f"{where}: a day with a time {v}")
        if seen == 0:
            problem(f"{sheet}: column {name!r} has no value to check")
        if kind == "int" and seen:
            letter = get_column_letter(col)
            sums.append({"label": f"{sheet}!{name}", "expect": total,
                         "formula": f"=SUM('{sheet}'!{letter}2:{letter}{ws.max_row})"})

first = wb.create_sheet("sums", 0)
for i, s in enumerate(sums, start=1):
    first.cell(row=i, column=1, value=s.pop("formula"))
wb.save(check)
print(json.dumps({"problems": problems, "sums": sums}, ensure_ascii=False))
