#!/usr/bin/python3
"""A GTK3 customer form for the end-to-end tests: First name, Last name, E-mail and Save.

Save appends `first|last|email` to the file given with --out and empties the fields: the app's own
record of what was saved, which the tests compare with what a replay was asked to type.

--extra adds a Company field above First name (a layout change a selector must survive);
--steal moves the focus from First name to Last name at the first key typed into First name (the
rest of the text lands in the wrong field, which a replay must notice); --geometry WxH+X+Y places the window.
"""
import argparse
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--extra", action="store_true")
    ap.add_argument("--steal", action="store_true")
    ap.add_argument("--geometry", default="420x260+40+40")
    args = ap.parse_args()
    size, x, y = args.geometry.split("+")[0], *map(int, args.geometry.split("+")[1:])
    w, h = map(int, size.split("x"))

    win = Gtk.Window(title="Customer form")
    win.set_default_size(w, h)
    win.move(x, y)
    win.connect("destroy", Gtk.main_quit)
    grid = Gtk.Grid(column_spacing=12, row_spacing=8, margin=16)
    win.add(grid)
    labels = (["Company"] if args.extra else []) + ["First name", "Last name", "E-mail"]
    entries = {}
    for row, text in enumerate(labels):
        label = Gtk.Label(label=text, xalign=0)
        entry = Gtk.Entry(hexpand=True)
        entry.get_accessible().set_name(text)
        label.set_mnemonic_widget(entry)
        grid.attach(label, 0, row, 1, 1)
        grid.attach(entry, 1, row, 1, 1)
        entries[text] = entry
    save = Gtk.Button(label="Save")
    grid.attach(save, 1, len(labels), 1, 1)

    def on_save(_button):
        record = "|".join(entries[k].get_text() for k in ("First name", "Last name", "E-mail"))
        with open(args.out, "a") as f:
            f.write(record + "\n")
        for e in entries.values():
            e.set_text("")

    save.connect("clicked", on_save)

    if args.steal:
        # The first key typed into First name moves the focus: the rest of the text lands in
        # Last name, every time (no timer to race).
        def steal(_entry):
            if not entries["Last name"].has_focus():
                entries["Last name"].grab_focus()

        entries["First name"].connect("changed", steal)

    win.show_all()
    print("ready", flush=True)
    Gtk.main()


if __name__ == "__main__":
    sys.exit(main())
