#!/usr/bin/python3
"""A tiny GTK window that offers the files named on the command line as a native drag
(text/uri-list), so an X11 pointer drag driven by xdotool delivers a real OS file drop to
the app under test. Prints "ready X Y" with the centre of its button once shown, and exits
when the drag ends. Uses Debian's /usr/bin/python3 (python3-gi), not a virtualenv's."""

import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gio, Gtk  # noqa: E402

X, Y, WIDTH, HEIGHT = 1110, 20, 150, 120
uris = [Gio.File.new_for_path(path).get_uri() for path in sys.argv[1:]]

window = Gtk.Window(title="drag-source")
window.set_default_size(WIDTH, HEIGHT)
window.move(X, Y)
button = Gtk.Button(label=f"{len(uris)} files")
window.add(button)
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()
button.connect("drag-data-get", lambda _w, _ctx, data, _info, _time: data.set_uris(uris))
button.connect("drag-end", lambda *_: GLib.timeout_add(200, Gtk.main_quit))
window.connect("destroy", Gtk.main_quit)


def announce():
    x, y = window.get_position()
    width, height = window.get_size()
    print(f"ready {x + width // 2} {y + height // 2}", flush=True)
    return False


window.show_all()
GLib.timeout_add(300, announce)
GLib.timeout_add(30_000, Gtk.main_quit)  # never outlive a broken test
Gtk.main()
