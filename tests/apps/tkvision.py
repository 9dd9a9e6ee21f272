#!/usr/bin/python3
"""A Tk form for replay by text and image: Tk exposes no accessibility tree, so a bot finds its
targets here only on the screen. First name and Last name (labels left of their fields), and three
buttons: Save (appends the record as one JSON line to --out and clears the form), Clear, and a star
button whose only label is a symbol OCR does not read (it marks the record as starred).

Written for this repository; same license as the rest of taskmine. Run it with Debian's
/usr/bin/python3 (python3-tk). Options: --title, --at +X+Y (window position), --save-label (the
Save button's text, to make a bot's target text disappear), --geometry FILE (once mapped, the
screen box [x, y, width, height] of each widget is written there as one JSON object).
"""

import argparse
import json
import os
import tkinter as tk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--geometry", required=True)
    ap.add_argument("--title", default="Vision form")
    ap.add_argument("--at", default="+120+120")
    ap.add_argument("--save-label", default="Save")
    args = ap.parse_args()

    root = tk.Tk()
    root.title(args.title)
    root.geometry("560x420" + args.at)
    root.resizable(False, False)
    font = ("DejaVu Sans", 14)
    widgets = {}
    form = tk.Frame(root)
    form.pack(padx=30, pady=(50, 0))
    for row, (key, label) in enumerate([("first", "First name"), ("last", "Last name")]):
        tk.Label(form, text=label, font=font).grid(row=row, column=0, sticky="e", padx=10, pady=30)
        e = tk.Entry(form, font=font, width=10)
        e.grid(row=row, column=1, padx=10, pady=30)
        widgets[key] = e
    starred = tk.BooleanVar(value=False)
    buttons = tk.Frame(root)
    buttons.pack(pady=20)

    def clear():
        for k in ("first", "last"):
            widgets[k].delete(0, "end")
        starred.set(False)
        widgets["star"].config(relief="raised")

    def save():
        record = {
            "first": widgets["first"].get(),
            "last": widgets["last"].get(),
            "starred": starred.get(),
        }
        with open(args.out, "a") as f:
            f.write(json.dumps(record) + "\n")
        clear()

    def star():
        starred.set(True)
        widgets["star"].config(relief="sunken")

    widgets["save"] = tk.Button(buttons, text=args.save_label, font=font, command=save, width=7)
    widgets["save"].pack(side="left", padx=14)
    widgets["clear"] = tk.Button(buttons, text="Clear", font=font, command=clear, width=7)
    widgets["clear"].pack(side="left", padx=14)
    # A drawn mark, no text: what a bot can find only by its picture.
    mark = tk.Canvas(buttons, width=44, height=30, highlightthickness=0)
    mark.create_polygon(22, 2, 28, 20, 42, 20, 30, 28, 8, 28, 16, 20, fill="black")
    mark.create_oval(18, 10, 26, 18, fill="white", outline="")
    mark.bind("<Button-1>", lambda _e: star())
    widgets["star"] = mark
    mark.pack(side="left", padx=14)

    def report():
        root.update_idletasks()
        geo = {
            k: [w.winfo_rootx(), w.winfo_rooty(), w.winfo_width(), w.winfo_height()]
            for k, w in widgets.items()
        }
        with open(args.geometry + ".tmp", "w") as f:
            json.dump(geo, f)
        os.replace(args.geometry + ".tmp", args.geometry)

    root.after(500, report)
    root.mainloop()


if __name__ == "__main__":
    main()
