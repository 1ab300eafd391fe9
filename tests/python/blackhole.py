# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A trickle server that stopped answering: it accepts connections, reads
# the requests and answers none. The gateway's tests point a gateway at it:
# a publisher's tricklesink then waits (up to 30 s) in its streaming
# thread for the answer to its first request, and the end of its session
# cannot reach the channel.
import socket
import threading


class BlackHole:
    """a TCP server that accepts and never answers; it records the request
    lines it reads and how many connections are still open"""

    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d/" % self.port
        self._lock = threading.Lock()
        self._lines = []
        self._conns = []
        self._open = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
                self._open += 1
            threading.Thread(target=self._read, args=(conn,),
                             daemon=True).start()

    def _read(self, conn):
        pending = b""
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                pending += data
                # the request lines (a body is read and ignored)
                while b"\r\n" in pending:
                    line, pending = pending.split(b"\r\n", 1)
                    text = line.decode("latin-1")
                    if text.split(" ")[0] in ("GET", "POST", "DELETE", "PUT",
                                              "HEAD"):
                        with self._lock:
                            self._lines.append(text)
                pending = pending[-4096:]
        except OSError:
            pass
        with self._lock:
            self._open -= 1
        conn.close()

    def requests(self, prefix):
        """the request lines read so far that start with prefix"""
        with self._lock:
            return [line for line in self._lines if line.startswith(prefix)]

    def open_connections(self):
        with self._lock:
            return self._open

    def close(self):
        self._sock.close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
