#!/usr/bin/python3
"""A Tk form for the snapshot tests: Tk exposes no accessibility tree, so it stands in for a remote
desktop or a legacy app. First name, Last name, a PIN (shown as *), and Save and Clear buttons.

Run it with Debian's /usr/bin/python3 (python3-tk). Once mapped it writes the screen geometry of
each widget as one JSON object to the file given with --geometry, so a test knows where to click.
"""

import argparse
import json
import tkinter as tk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--geometry", required=True)
    ap.add_argument("--title", default="Tk form")
    args = ap.parse_args()

    root = tk.Tk()
    root.title(args.title)
    root.geometry("+120+120")
    font = ("DejaVu Sans", 14)
    widgets = {}
    for row, (key, label, show) in enumerate(
        [("first", "First name", ""), ("last", "Last name", ""), ("pin", "PIN", "*")]
    ):
        tk.Label(root, text=label, font=font).grid(row=row, column=0, sticky="w", padx=10, pady=6)
        e = tk.Entry(root, font=font, show=show, width=18)
        e.grid(row=row, column=1, padx=10, pady=6)
        widgets[key] = e
    status = tk.Label(root, text="", font=font)

    def clear():
        for e in widgets.values():
            e.delete(0, "end")

    def save():
        status.config(text="saved")
        clear()

    widgets["save"] = tk.Button(root, text="Save", font=font, command=save, width=8)
    widgets["save"].grid(row=3, column=0, padx=10, pady=10)
    widgets["clear"] = tk.Button(root, text="Clear", font=font, command=clear, width=8)
    widgets["clear"].grid(row=3, column=1, padx=10, pady=10, sticky="w")
    status.grid(row=4, column=0, columnspan=2)

    def report():
        root.update_idletasks()
        geo = {
            k: [w.winfo_rootx(), w.winfo_rooty(), w.winfo_width(), w.winfo_height()]
            for k, w in widgets.items()
        }
        with open(args.geometry + ".tmp", "w") as f:
            json.dump(geo, f)
        import os

        os.replace(args.geometry + ".tmp", args.geometry)

    root.after(500, report)
    root.mainloop()


if __name__ == "__main__":
    main()
