
#!/usr/bin/env python3
"""routine-3-thunderbird: drafted by taskmine from routine 3.

Drafted from routine 3 (228 instances by 10 users, 12.86 hours/month to save).

Run: python3 bot.py [params.csv]  (needs pyautogui and xdotool; one run per row of the CSV)
"""
import csv
import os
import re
import subprocess
import sys
import time

import pyautogui

pyautogui.PAUSE = 0.05
DEFAULTS = {"amount":"4413.57","due_date":"2026-12-23","supplier":"Umbra Lighting"}


def _xdotool(*args):
    out = subprocess.run(["xdotool", *args], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def active_window():
    """(id, WM_CLASS text, title) of the focused window, or None."""
    wid = _xdotool("getactivewindow")
    if not wid:
        return None
    cls = subprocess.run(["xprop", "-id", wid, "WM_CLASS"], capture_output=True, text=True).stdout
    return wid, cls.lower(), _xdotool("getwindowname", wid)


def wait_active(step, app, title, timeout):
    """Waits until a window of `app` whose title matches `title` has focus; stops the bot if not."""
    deadline = time.monotonic() + timeout
    while True:
        w = active_window()
        if w and '"%s"' % app.lower() in w[1] and re.search(title, w[2]):
            return w[0]
        if time.monotonic() > deadline:
            sys.exit("step %d: expected %s %r to have focus, found %r" % (step, app, title, w and w[2]))
        time.sleep(0.05)


def find_window(app, title):
    """The id of a visible window of `app` (WM_CLASS) whose title matches `title`, or None."""
    for wid in _xdotool("search", "--onlyvisible", "--name", title).split():
        cls = subprocess.run(["xprop", "-id", wid, "WM_CLASS"], capture_output=True, text=True).stdout
        if '"%s"' % app.lower() in cls.lower():
            return wid
    return None


def focus_window(step, app, title, timeout):
    deadline = time.monotonic() + timeout
    wid = find_window(app, title)
    while wid is None and time.monotonic() < deadline:
        time.sleep(0.1)
        wid = find_window(app, title)
    if wid is None:
        sys.exit("step %d: no %s window with a title matching %r" % (step, app, title))
    _xdotool("windowactivate", "--sync", wid)
    return wait_active(step, app, title, timeout)


def click(wid, x, y, button, clicks):
    geo = _xdotool("getwindowgeometry", "--shell", wid)
    pos = dict(line.split("=", 1) for line in geo.splitlines() if "=" in line)
    pyautogui.click(x=int(pos.get("X", 0)) + x, y=int(pos.get("Y", 0)) + y, button=button, clicks=clicks)


def run(row):
    # step 1: focus_window
    focus_window(1, "thunderbird", "^.* \\- Mozilla Thunderbird$", 5)
    # step 2: click
    wid = wait_active(2, "thunderbird", "^.* \\- Mozilla Thunderbird$", 5)
    click(wid, 430, 188, "left", 2)
    # step 3: wait_for_window
    wid = wait_active(3, "thunderbird", "^Invoice .* from .* \\- Mozilla Thunderbird$", 5)
    # step 4: click
    wid = wait_active(4, "thunderbird", "^Invoice .* from .* \\- Mozilla Thunderbird$", 5)
    click(wid, 512, 402, "left", 2)
    # step 5: copy
    wid = wait_active(5, "thunderbird", "^Invoice .* from .* \\- Mozilla Thunderbird$", 5)
    pyautogui.hotkey("ctrl", "c")
    # step 6: focus_window
    focus_window(6, "tryton", "^.* \\- Tryton$", 5)
    # step 7: click
    wid = wait_active(7, "tryton", "^.* \\- Tryton$", 5)
    click(wid, 34, 62, "left", 1)
    # step 8: click
    wid = wait_active(8, "tryton", "^.* \\- Tryton$", 5)
    click(wid, 260, 148, "left", 1)
    # step 9: paste
    wid = wait_active(9, "tryton", "^.* \\- Tryton$", 5)
    pyautogui.hotkey("ctrl", "v")
    # step 10: click
    wid = wait_active(10, "tryton", "^.* \\- Tryton$", 5)
    click(wid, 261, 182, "left", 1)
    # step 11: type
    wid = wait_active(11, "tryton", "^.* \\- Tryton$", 5)
    pyautogui.write(row["supplier"], interval=0.02)
    # step 12: click
    wid = wait_active(12, "tryton", "^.* \\- Tryton$", 5)
    click(wid, 260, 216, "left", 1)
    # step 13: type
    wid = wait_active(13, "tryton", "^.* \\- Tryton$", 5)
    pyautogui.write(row["amount"], interval=0.02)
    # step 14: click
    wid = wait_active(14, "tryton", "^.* \\- Tryton$", 5)
    click(wid, 620, 216, "left", 1)
    # step 15: type
    wid = wait_active(15, "tryton", "^.* \\- Tryton$", 5)
    pyautogui.write(row["due_date"], interval=0.02)
    # step 16: key
    wid = wait_active(16, "tryton", "^.* \\- Tryton$", 5)
    pyautogui.hotkey("ctrl", "s")


def check(row):
    """The bot's post-conditions; returns the ones that failed."""
    failed = []
    # postcondition 1: window
    deadline = time.monotonic() + 5
    while find_window("tryton", "^.* \\- Tryton$") is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if find_window("tryton", "^.* \\- Tryton$") is None:
        failed.append("no window %s %r" % ("tryton", "^.* \\- Tryton$"))
    return failed


def main():
    rows = [DEFAULTS]
    if len(sys.argv) > 1:
        with open(sys.argv[1], newline="") as f:
            rows = list(csv.DictReader(f))
    ok = True
    for n, row in enumerate(rows, 1):
        run(row)
        failed = check(row)
        print("run %d: %s" % (n, "pass" if not failed else "fail: " + "; ".join(failed)))
        ok = ok and not failed
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
