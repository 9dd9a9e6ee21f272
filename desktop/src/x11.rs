//! X11 plumbing shared by the recorder and replay: the connection, the atoms both use, and the
//! window look-ups (the active window, a window's `WM_CLASS`, title and process, the managed
//! windows, geometry and coordinate translation).
