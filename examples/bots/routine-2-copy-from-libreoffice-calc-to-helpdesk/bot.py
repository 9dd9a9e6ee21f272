
#!/usr/bin/env python3
"""routine-2-copy-from-libreoffice-calc-to-helpdesk: drafted by taskmine from routine 2.

Copy from LibreOffice Calc to Helpdesk "New ticket". Drafted from routine 2 (185 instances by 10 users, 13.19 hours/month to save).

Run: python3 bot.py [params.csv]  (one run per row of the CSV; needs pyautogui and xdotool, and
for steps with a selector gi's Atspi: Debian python3-gi gir1.2-atspi-2.0).

Like `taskmine replay`, a step with a selector finds its element through the accessibility tree
(AT-SPI) in the focused window and acts at its centre; no match or several stop the bot before the
step's input, and a typed value must read back from the element. Where it differs: it does not
resolve the selectors of later steps before the first input, it proves a click only on fields
that take the focus, it does not record the run to compare it with the routine, and without gi it
stops at the first step with a selector (a click by position happens only where the bot file says
`fallback: position`).
"""
import csv
import os
import re
import subprocess
import sys
import time

# python-xlib (under pyautogui) dies with XauthError where ~/.Xauthority is absent (Xvfb, CI): no
# authority file means no cookie, which /dev/null says just as well.
if not os.path.exists(os.environ.get("XAUTHORITY") or os.path.expanduser("~/.Xauthority")):
    os.environ["XAUTHORITY"] = os.devnull

import pyautogui  # noqa: E402

try:
    import gi

    gi.require_version("Atspi", "2.0")
    from gi.repository import Atspi  # noqa: E402
except (ImportError, ValueError):
    Atspi = None

pyautogui.PAUSE = 0.05
DEFAULTS = {"c147":"371593"}
REQUIRED = []


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


def _step_text(role, name, index):
    """One level of an element path, as taskmine writes it: role 'name'[index]."""
    s = role
    if name:
        s += " '" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if index is not None:
        s += "[%d]" % index
    return s


def _element(node, path):
    ident = node.get_accessible_id() or ""
    if not ident:
        ident = (node.get_attributes() or {}).get("id", "")
    return {"role": node.get_role_name() or "", "name": node.get_name() or "", "id": ident, "path": path}


def _matches(selector, element):
    for part, pattern in selector.items():
        value = element[part]
        if part == "path":
            value = " / ".join(re.sub(r"\[[0-9]+\]$", "", level) for level in value.split(" / "))
        if not re.search(pattern, value):
            return False
    return True


def find_elements(wid, selector):
    """The accessibles matching `selector` under the frames of the window's process and title."""
    pid = _xdotool("getwindowpid", wid)
    title = _xdotool("getwindowname", wid)
    hits = []
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        if app is None or (pid and str(app.get_process_id()) != pid):
            continue
        for j in range(app.get_child_count()):
            frame = app.get_child_at_index(j)
            if frame is None or title not in (frame.get_name() or ""):
                continue
            level = [(frame, _step_text(frame.get_role_name(), frame.get_name(), None))]
            while level:
                following = []
                for node, path in level:
                    for k in range(node.get_child_count()):
                        child = node.get_child_at_index(k)
                        if child is None:
                            continue
                        p = path + " / " + _step_text(child.get_role_name(), child.get_name(), k)
                        if _matches(selector, _element(child, p)):
                            hits.append((child, p))
                        following.append((child, p))
                level = following
    return hits


def find_one(step, wid, selector, timeout):
    """The selector's one element; stops the bot when there are none or several."""
    if Atspi is None:
        sys.exit("step %d: finding %r needs gi's Atspi (apt-get install python3-gi gir1.2-atspi-2.0)" % (step, selector))
    deadline = time.monotonic() + timeout
    while True:
        hits = find_elements(wid, selector)
        if len(hits) == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if len(hits) != 1:
        sys.exit("step %d: selector %r matches %d elements, not 1" % (step, selector, len(hits)))
    return hits[0]


def centre(node):
    e = node.get_extents(Atspi.CoordType.SCREEN)
    return e.x + e.width // 2, e.y + e.height // 2


def has_focus(node):
    return node.get_state_set().contains(Atspi.StateType.FOCUSED)


def read_text(node):
    if "Text" not in node.get_interfaces():
        return None
    return Atspi.Text.get_text(node, 0, Atspi.Text.get_character_count(node))


def click_element(step, found, button, clicks):
    node, path = found
    x, y = centre(node)
    pyautogui.click(x=x, y=y, button=button, clicks=clicks)
    if node.get_role_name() in ("entry", "text", "password text"):
        deadline = time.monotonic() + 1.5
        while not has_focus(node):
            if time.monotonic() > deadline:
                sys.exit("step %d: clicked %s but it did not take the focus" % (step, path))
            time.sleep(0.05)


def type_into(step, found, text):
    node, path = found
    if not has_focus(node):
        Atspi.Component.grab_focus(node)
        time.sleep(0.1)
    if not has_focus(node):
        sys.exit("step %d: %s does not take the focus; nothing typed" % (step, path))
    before = read_text(node) or ""
    pyautogui.write(text, interval=0.02)
    deadline = time.monotonic() + 1.5
    while True:
        after = read_text(node)
        if after in (text, before + text):
            return
        if time.monotonic() > deadline:
            sys.exit("step %d: typed %r into %s but it reads back %r" % (step, text, path, after))
        time.sleep(0.05)


def click(wid, x, y, button, clicks):
    geo = _xdotool("getwindowgeometry", "--shell", wid)
    pos = dict(line.split("=", 1) for line in geo.splitlines() if "=" in line)
    pyautogui.click(x=int(pos.get("X", 0)) + x, y=int(pos.get("Y", 0)) + y, button=button, clicks=clicks)


def run(row):
    # step 1: focus_window
    focus_window(1, "libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$", 5)
    # step 2: click
    wid = wait_active(2, "libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$", 5)
    click_element(2, find_one(2, wid, {"id":"^A.*$","role":"^cell$"}, 5), "left", 1)
    # step 3: copy
    wid = wait_active(3, "libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$", 5)
    pyautogui.hotkey("ctrl", "c")
    # step 4: focus_window
    focus_window(4, "firefox", "^New ticket - Helpdesk — Mozilla Firefox$", 5)
    # step 5: click
    wid = wait_active(5, "firefox", "^New ticket - Helpdesk — Mozilla Firefox$", 5)
    click_element(5, find_one(5, wid, {"id":"^customer$","name":"^Customer$","role":"^INPUT$"}, 5), "left", 1)
    # step 6: paste
    wid = wait_active(6, "firefox", "^New ticket - Helpdesk — Mozilla Firefox$", 5)
    pyautogui.hotkey("ctrl", "v")
    # step 7: focus_window
    focus_window(7, "libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$", 5)
    # step 8: click
    wid = wait_active(8, "libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$", 5)
    click_element(8, find_one(8, wid, {"id":"^B.*$","role":"^cell$"}, 5), "left", 1)
    # step 9: copy
    wid = wait_active(9, "libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$", 5)
    pyautogui.hotkey("ctrl", "c")
    # step 10: focus_window
    focus_window(10, "firefox", "^New ticket - Helpdesk — Mozilla Firefox$", 5)
    # step 11: click
    wid = wait_active(11, "firefox", "^New ticket - Helpdesk — Mozilla Firefox$", 5)
    click_element(11, find_one(11, wid, {"id":"^subject$","name":"^Subject$","role":"^INPUT$"}, 5), "left", 1)
    # step 12: paste
    wid = wait_active(12, "firefox", "^New ticket - Helpdesk — Mozilla Firefox$", 5)
    pyautogui.hotkey("ctrl", "v")
    # step 13: click
    wid = wait_active(13, "firefox", "^New ticket - Helpdesk — Mozilla Firefox$", 5)
    click_element(13, find_one(13, wid, {"id":"^priority$","name":"^Priority$","role":"^SELECT$"}, 5), "left", 1)
    # step 14: click
    wid = wait_active(14, "firefox", "^New ticket - Helpdesk — Mozilla Firefox$", 5)
    click_element(14, find_one(14, wid, {"id":"^priority-high$","name":"^High$","role":"^OPTION$"}, 5), "left", 1)
    # step 15: click
    wid = wait_active(15, "firefox", "^New ticket - Helpdesk — Mozilla Firefox$", 5)
    click_element(15, find_one(15, wid, {"id":"^submit$","name":"^Create ticket$","role":"^BUTTON$"}, 5), "left", 1)
    # step 16: focus_window
    focus_window(16, "libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$", 5)
    # step 17: click
    wid = wait_active(17, "libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$", 5)
    click_element(17, find_one(17, wid, {"id":"^C.*$","role":"^cell$"}, 5), "left", 1)
    # step 18: type
    wid = wait_active(18, "libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$", 5)
    type_into(18, find_one(18, wid, {"id":"^C.*$","role":"^cell$"}, 5), row["c147"])


def check(row):
    """The bot's post-conditions; returns the ones that failed."""
    failed = []
    # postcondition 1: window
    deadline = time.monotonic() + 5
    while find_window("libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$") is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if find_window("libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$") is None:
        failed.append("no window %s %r" % ("libreoffice-calc", "^open-requests\\.xlsx - LibreOffice Calc$"))
    return failed


def main():
    rows = [DEFAULTS]
    if len(sys.argv) > 1:
        with open(sys.argv[1], newline="") as f:
            rows = list(csv.DictReader(f))
    for n, row in enumerate(rows, 1):
        missing = [name for name in REQUIRED if not row.get(name)]
        if missing:
            sys.exit("row %d: no value for the required inputs %s (the log kept no sample)" % (n, ", ".join(missing)))
    ok = True
    for n, row in enumerate(rows, 1):
        run(row)
        failed = check(row)
        print("run %d: %s" % (n, "pass" if not failed else "fail: " + "; ".join(failed)))
        ok = ok and not failed
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
