# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The gst-trickle-gateway program under test: started with --port 0, its
# ports and session lines read from its output.
import os
import queue
import re
import subprocess
import sys
import threading
import time

from webrtc_client import WAIT_S


class Program:
    """gst-trickle-gateway running, its output lines read as they come"""
    path = "gst-trickle-gateway"

    def __init__(self, *args, env_extra=None):
        env = dict(os.environ)
        env.update(env_extra or {})
        if os.environ.get("TRICKLE_PLUGIN_DIR"):
            env["GST_PLUGIN_PATH_1_0"] = os.environ["TRICKLE_PLUGIN_DIR"]
        if os.environ.get("GST_REGISTRY"):  # not this process' plugins
            env["GST_REGISTRY"] = os.environ["GST_REGISTRY"] + ".program"
        self.proc = subprocess.Popen([self.path, "--port", "0", *args],
                                     stdout=subprocess.PIPE, env=env,
                                     text=True)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()
        self.port = int(self.expect(r"listening on port (\d+)").group(1))
        self.trickle_port = None
        if "--serve-trickle" in args:
            self.trickle_port = int(self.expect(r"channels on port (\d+)")
                                    .group(1))

    def _read(self):
        for line in self.proc.stdout:
            sys.stdout.write("program: " + line)
            self.lines.put(line)

    def expect(self, pattern):
        """the next line matching (earlier ones are kept in seen)"""
        for line in self.seen:
            m = re.search(pattern, line)
            if m:
                self.seen.remove(line)
                return m
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline -
                                                  time.monotonic()))
            except queue.Empty:
                raise AssertionError("the program never printed " + pattern)
            m = re.search(pattern, line)
            if m:
                return m
            self.seen.append(line)
