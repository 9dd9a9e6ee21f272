#!/usr/bin/python3
"""Reads a window's form through AT-SPI (gi Atspi), independent of taskmine's own code: one JSON
object per line for each entry, text field and button under the frame whose name contains the
title given: role, name, screen extents and text.

    probe.py TITLE
"""
import json
import sys

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402

ROLES = {"entry", "text", "push button", "password text"}


def walk(node, depth=0):
    if node is None or depth > 40:
        return
    try:
        role = node.get_role_name()
    except Exception:
        return
    if role in ROLES:
        ext = node.get_extents(Atspi.CoordType.SCREEN)
        text = None
        if "Text" in node.get_interfaces():
            text = Atspi.Text.get_text(node, 0, Atspi.Text.get_character_count(node))
        print(json.dumps({"role": role, "name": node.get_name(), "x": ext.x, "y": ext.y,
                          "width": ext.width, "height": ext.height, "text": text}), flush=True)
    for i in range(node.get_child_count()):
        walk(node.get_child_at_index(i), depth + 1)


def main():
    title = sys.argv[1]
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is None:
            continue
        for j in range(app.get_child_count()):
            frame = app.get_child_at_index(j)
            if frame is not None and title in (frame.get_name() or ""):
                walk(frame)
                return 0
    print("no frame %r" % title, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
