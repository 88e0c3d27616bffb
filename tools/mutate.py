#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the mutants of C source files for tools/mutation.sh: one change each (flip a comparison, shift a
# numeric constant by one, drop a MIN/MAX/CLAMP, negate an if condition), as OUTDIR/NNNN/<path> plus a
# manifest "NNNN<TAB>path<TAB>line:col<TAB>change". Comments, strings and #include lines are left alone.
import os
import re
import sys

COMPARISONS = {
    "<": ["<=", ">="],
    "<=": ["<", ">"],
    ">": [">=", "<="],
    ">=": [">", "<"],
    "==": ["!="],
    "!=": ["=="],
}
OPERATOR = re.compile(r"<<=|>>=|<<|>>|->|<=|>=|==|!=|<|>")
NUMBER = re.compile(r"(?<![\w.])((?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)([uUlLfF]*)(?![\w.])")
CALL = re.compile(r"\b(MIN|MAX|CLAMP)\s*\(")
IF = re.compile(r"\bif\s*\(")


def code_mask(text):
    """True for each character that is C code (not a comment, string, char or non-#define directive)."""
    mask = [True] * len(text)
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            i += 1
            continue
        if line_start and c == "#" and not text.startswith("#define", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                mask[k] = False
            i = j
            continue
        line_start = c == "\n"
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2) + 2
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j += 1
        else:
            i += 1
            continue
        for k in range(i, j):
            mask[k] = False
        i = j
    return mask


def closing_paren(text, open_at):
    depth = 0
    for j in range(open_at, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return -1


def split_args(s):
    args, depth, cur = [], 0, ""
    for c in s:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += c
    args.append(cur.strip())
    return args


def shifted(num, suffix):
    out = []
    if re.fullmatch(r"\d+", num):
        v = int(num)
        out.append((str(v + 1) + suffix, "+1"))
        if v > 0:
            out.append((str(v - 1) + suffix, "-1"))
        elif "u" not in suffix.lower():
            out.append(("(-1)", "-1"))
    else:
        v = float(num)
        out.append((repr(v + 1) + suffix, "+1"))
        out.append(("(" + repr(v - 1) + suffix + ")", "-1"))
    return out


def mutants(text):
    """Yields (start, end, replacement, change) for every mutant of text."""
    mask = code_mask(text)
    lines = text.split("\n")
    for m in OPERATOR.finditer(text):
        if mask[m.start()] and m.group() in COMPARISONS:
            for r in COMPARISONS[m.group()]:
                yield m.start(), m.end(), r, "%s -> %s" % (m.group(), r)
    for m in NUMBER.finditer(text):
        if not mask[m.start()]:
            continue
        line = lines[text.count("\n", 0, m.start())]
        if "_printf_" in line:
            continue
        for r, what in shifted(m.group(1), m.group(2)):
            yield m.start(), m.end(), r, "%s %s" % (m.group(), what)
    for m in CALL.finditer(text):
        if not mask[m.start()]:
            continue
        close = closing_paren(text, m.end() - 1)
        args = split_args(text[m.end() : close])
        keep = [0] if m.group(1) == "CLAMP" else [0, 1]
        for k in keep:
            yield m.start(), close + 1, "(" + args[k] + ")", "drop %s keep arg %d" % (m.group(1), k + 1)
    for m in IF.finditer(text):
        if not mask[m.start()]:
            continue
        close = closing_paren(text, m.end() - 1)
        cond = text[m.end() : close]
        yield m.end(), close, "!(" + cond + ")", "negate if"


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: mutate.py OUTDIR FILE...")
    outdir, files = sys.argv[1], sys.argv[2:]
    n = 0
    with open(os.path.join(outdir, "manifest"), "w") as manifest:
        for path in files:
            text = open(path).read()
            for start, end, repl, change in mutants(text):
                n += 1
                tag = "%04d" % n
                line = text.count("\n", 0, start) + 1
                col = start - (text.rfind("\n", 0, start) + 1) + 1
                dest = os.path.join(outdir, tag, path)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(dest, "w") as f:
                    f.write(text[:start] + repl + text[end:])
                manifest.write("%s\t%s\t%d:%d\t%s\n" % (tag, path, line, col, change))
    print(n)


if __name__ == "__main__":
    main()
