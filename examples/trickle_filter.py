#!/usr/bin/env python3
# gst-trickle example (PyGObject)
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The same worker as trickle-filter.c, in Python: trickleserver hosts
# video-in, video-out, control and events; the "control" signal shows each
# control message as it arrives.
#
#   python3 trickle_filter.py [--port 2939] [--filter "videoflip name=f video-direction=horiz"]
#                             [--raw] [--duration SECONDS]
import argparse
import sys

import gi
gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst


def main():
    ap = argparse.ArgumentParser(description="a trickle video worker")
    ap.add_argument("--port", type=int, default=2939)
    ap.add_argument("--filter", default="videoflip name=f video-direction=horiz")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--duration", type=int, default=0)
    args = ap.parse_args()

    Gst.init(None)
    decode = "queue" if args.raw else "tsdemux ! h264parse ! avdec_h264 ! videoconvert"
    encode = "queue" if args.raw else "x264enc tune=zerolatency ! mpegtsmux"
    pipeline = Gst.parse_launch(
        f"trickleserver name=srv host=127.0.0.1 port={args.port} "
        f"control=control events=events srv.src_video-in ! {decode} ! "
        f"{args.filter} ! {encode} ! srv.sink_video-out")
    loop = GLib.MainLoop()

    def on_control(srv, seq, json, data):
        print(f"control signal {seq}: {json}", flush=True)

    pipeline.get_by_name("srv").connect("control", on_control)

    def on_message(bus, msg):
        s = msg.get_structure()
        if msg.type == Gst.MessageType.ELEMENT and s.has_name("trickleserver-listening"):
            print(f"listening on {s.get_string('url')}", flush=True)
        elif msg.type == Gst.MessageType.WARNING:
            err, dbg = msg.parse_warning()
            print(f"warning: {err.message} ({dbg})", flush=True)
        elif msg.type == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            print(f"error: {err.message}", file=sys.stderr, flush=True)
            loop.quit()
        return True

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    if args.duration > 0:
        GLib.timeout_add_seconds(args.duration, loop.quit)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        sys.exit("could not start")
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()


if __name__ == "__main__":
    main()
