
#!/usr/bin/env python3
"""routine-2-libreoffice-calc: drafted by taskmine from routine 2.

Drafted from routine 2 (179 instances by 10 users, 12.90 hours/month to save).

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
DEFAULTS = {"c147":"371593"}


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
    focus_window(1, "libreoffice-calc", "^.* \\- LibreOffice Calc$", 5)
    # step 2: click
    wid = wait_active(2, "libreoffice-calc", "^.* \\- LibreOffice Calc$", 5)
    click(wid, 71, 310, "left", 1)
    # step 3: copy
    wid = wait_active(3, "libreoffice-calc", "^.* \\- LibreOffice Calc$", 5)
    pyautogui.hotkey("ctrl", "c")
    # step 4: focus_window
    focus_window(4, "firefox", "^New ticket \\- Helpdesk — Mozilla Firefox$", 5)
    # step 5: click
    wid = wait_active(5, "firefox", "^New ticket \\- Helpdesk — Mozilla Firefox$", 5)
    click(wid, 300, 210, "left", 1)
    # step 6: paste
    wid = wait_active(6, "firefox", "^New ticket \\- Helpdesk — Mozilla Firefox$", 5)
    pyautogui.hotkey("ctrl", "v")
    # step 7: focus_window
    focus_window(7, "libreoffice-calc", "^.* \\- LibreOffice Calc$", 5)
    # step 8: click
    wid = wait_active(8, "libreoffice-calc", "^.* \\- LibreOffice Calc$", 5)
    click(wid, 240, 310, "left", 1)
    # step 9: copy
    wid = wait_active(9, "libreoffice-calc", "^.* \\- LibreOffice Calc$", 5)
    pyautogui.hotkey("ctrl", "c")
    # step 10: focus_window
    focus_window(10, "firefox", "^New ticket \\- Helpdesk — Mozilla Firefox$", 5)
    # step 11: click
    wid = wait_active(11, "firefox", "^New ticket \\- Helpdesk — Mozilla Firefox$", 5)
    click(wid, 300, 260, "left", 1)
    # step 12: paste
    wid = wait_active(12, "firefox", "^New ticket \\- Helpdesk — Mozilla Firefox$", 5)
    pyautogui.hotkey("ctrl", "v")
    # step 13: click
    wid = wait_active(13, "firefox", "^New ticket \\- Helpdesk — Mozilla Firefox$", 5)
    click(wid, 300, 310, "left", 1)
    # step 14: click
    wid = wait_active(14, "firefox", "^New ticket \\- Helpdesk — Mozilla Firefox$", 5)
    click(wid, 300, 352, "left", 1)
    # step 15: click
    wid = wait_active(15, "firefox", "^New ticket \\- Helpdesk — Mozilla Firefox$", 5)
    click(wid, 300, 420, "left", 1)
    # step 16: focus_window
    focus_window(16, "libreoffice-calc", "^.* \\- LibreOffice Calc$", 5)
    # step 17: click
    wid = wait_active(17, "libreoffice-calc", "^.* \\- LibreOffice Calc$", 5)
    click(wid, 401, 310, "left", 1)
    # step 18: type
    wid = wait_active(18, "libreoffice-calc", "^.* \\- LibreOffice Calc$", 5)
    pyautogui.write(row["c147"], interval=0.02)


def check(row):
    """The bot's post-conditions; returns the ones that failed."""
    failed = []
    # postcondition 1: window
    deadline = time.monotonic() + 5
    while find_window("libreoffice-calc", "^.* \\- LibreOffice Calc$") is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if find_window("libreoffice-calc", "^.* \\- LibreOffice Calc$") is None:
        failed.append("no window %s %r" % ("libreoffice-calc", "^.* \\- LibreOffice Calc$"))
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
