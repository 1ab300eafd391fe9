#!/usr/bin/env python3
# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The fault matrix's subscriber (tests/faults/faults.py): tricklesrc with
# post-messages=true, every byte it pushes hashed, one JSON line per
# "trickle-segment" message on stdout:
#   {"seq": N, "bytes": N, "complete": true, "sha": "...", "t": UNIX-TIME}
# The message is posted from the streaming thread after the segment's last
# buffer was pushed (and before the next one's first), so the bytes hashed
# between two messages are exactly that segment's. Warnings and errors are
# lines too ({"event": "warning", ...}).
#   subscriber.py URL [tricklesrc properties...]
import hashlib
import json
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

Gst.init(None)


def emit(obj):
    obj["t"] = time.time()
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    url = sys.argv[1]
    props = " ".join(sys.argv[2:])
    # mark-segment-end=false: the channel's bytes exactly, nothing added
    pipeline = Gst.parse_launch(
        "tricklesrc name=src location=%s post-messages=true "
        "mark-segment-end=false %s ! fakesink name=sink sync=false "
        "signal-handoffs=true" % (url, props))
    state = {"hash": hashlib.sha256(), "bytes": 0}

    def on_handoff(sink, buf, pad):
        ok, info = buf.map(Gst.MapFlags.READ)
        if ok:
            state["hash"].update(info.data)
            state["bytes"] += info.size
            buf.unmap(info)

    pipeline.get_by_name("sink").connect("handoff", on_handoff)
    loop = GLib.MainLoop()

    def on_sync(bus, msg):
        # the streaming thread: in order with the handoffs
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s is not None and s.get_name() == "trickle-segment":
                emit({"seq": s.get_value("seq"), "bytes": s.get_value("bytes"),
                      "pushed": state["bytes"],
                      "complete": bool(s.get_value("complete")),
                      "sha": state["hash"].hexdigest()})
                state["hash"] = hashlib.sha256()
                state["bytes"] = 0
        return Gst.BusSyncReply.PASS

    def on_async(bus, msg):
        if msg.type == Gst.MessageType.WARNING:
            err, dbg = msg.parse_warning()
            emit({"event": "warning", "message": err.message, "debug": dbg})
        elif msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            emit({"event": "error", "message": err.message, "debug": dbg})
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            emit({"event": "eos"})
            loop.quit()
        return True

    bus = pipeline.get_bus()
    bus.set_sync_handler(on_sync)
    bus.add_watch(GLib.PRIORITY_DEFAULT, on_async)
    emit({"event": "start"})
    pipeline.set_state(Gst.State.PLAYING)
    try:
        loop.run()
    finally:
        pipeline.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main()
