#!/usr/bin/python3
"""A small GTK3 customer form for desktop tests: First name, Last name, E-mail and Save.

Run it with Debian's /usr/bin/python3 (python3-gi, gir1.2-gtk-3.0). On Save it writes one JSON
line with the saved values (to stdout, or appended to the file given with --out) and clears the
fields, so a routine can fill it again and again.

  --extra      adds a "Customer number" field above First name (a layout change for replay tests)
  --password   adds a "Password" field (a password entry) below E-mail
  --out FILE   where the saved records go (one JSON object per line)
  --title T    the window title (default "Customer form")
"""

import argparse
import json
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", action="store_true")
    ap.add_argument("--password", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--title", default="Customer form")
    args = ap.parse_args()

    fields = []
    if args.extra:
        fields.append(("customer_number", "Customer number", False))
    fields += [("first_name", "First name", False), ("last_name", "Last name", False),
               ("email", "E-mail", False)]
    if args.password:
        fields.append(("password", "Password", True))

    win = Gtk.Window(title=args.title)
    win.set_default_size(420, 300)
    win.connect("destroy", Gtk.main_quit)
    grid = Gtk.Grid(column_spacing=12, row_spacing=8, margin=16)
    win.add(grid)

    entries = {}
    for row, (key, label, secret) in enumerate(fields):
        lab = Gtk.Label(label=label, xalign=0)
        entry = Gtk.Entry()
        entry.set_hexpand(True)
        if secret:
            entry.set_visibility(False)
        lab.set_mnemonic_widget(entry)
        # The accessible name is what a user reads next to the field.
        entry.get_accessible().set_name(label)
        grid.attach(lab, 0, row, 1, 1)
        grid.attach(entry, 1, row, 1, 1)
        entries[key] = entry

    status = Gtk.Label(label="", xalign=0)
    save = Gtk.Button(label="Save")

    def on_save(_button):
        record = {k: e.get_text() for k, e in entries.items() if k != "password"}
        line = json.dumps(record)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        else:
            print(line, flush=True)
        status.set_text("Saved %s %s" % (record.get("first_name", ""), record.get("last_name", "")))
        for e in entries.values():
            e.set_text("")
        first = entries.get("customer_number") or entries["first_name"]
        first.grab_focus()

    save.connect("clicked", on_save)
    grid.attach(save, 1, len(fields), 1, 1)
    grid.attach(status, 1, len(fields) + 1, 1, 1)
    win.show_all()
    Gtk.main()


if __name__ == "__main__":
    sys.exit(main())
