#!/usr/bin/env python3
"""Writes about 1 MB (1,000,000 bytes, cut at a line end) of mixed English text to stdout:
the docstrings of the Python standard library's modules, classes and functions, in sorted
order, so the same Python version always gives the same text. It is prose with code, numbers,
punctuation and indentation mixed in, and a realistic amount of repetition (a word cache
helps, but not on every word)."""
import importlib, inspect, pkgutil, sys, sysconfig, warnings

LIMIT = 1_000_000
STDLIB = sysconfig.get_paths()["stdlib"]
SKIP = ("test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "venv", "this", "antigravity", "__main__")


def docstrings():
    warnings.simplefilter("ignore")
    names = []
    for info in pkgutil.iter_modules([STDLIB, STDLIB + "/lib-dynload"]):
        if info.name.startswith("_") or info.name.startswith(SKIP):
            continue
        names.append(info.name)
        if info.ispkg:
            path = [STDLIB + "/" + info.name]
            names += [sub.name for sub in pkgutil.walk_packages(path, info.name + ".", onerror=lambda _: None)
                      if not any(part.startswith("_") or part.startswith(SKIP) for part in sub.name.split(".")[1:])]
    for name in sorted(names):
        try:
            module = importlib.import_module(name)
        except BaseException:
            continue
        yield inspect.getdoc(module)
        for name, member in sorted(vars(module).items()):
            if name.startswith("_") or getattr(member, "__module__", None) != module.__name__:
                continue
            yield inspect.getdoc(member)
            if inspect.isclass(member):
                for attribute, method in sorted(vars(member).items()):
                    if not attribute.startswith("_") and (callable(method) or isinstance(method, property)):
                        yield inspect.getdoc(method)


def main():
    out, size, seen = [], 0, set()
    for doc in docstrings():
        if not doc or doc in seen:
            continue
        seen.add(doc)
        block = doc.strip() + "\n\n"
        out.append(block)
        size += len(block.encode())
        if size >= LIMIT:
            break
    text = "".join(out).encode()[:LIMIT]
    text = text[: text.rfind(b"\n") + 1].decode("utf-8", errors="ignore")
    sys.stdout.write(text)


main()
