"""A loopback TCP proxy the fault tests can cut: forward, refuse, or black-hole."""

import contextlib
import socket
import threading


class TCPProxy:
    """Listens on 127.0.0.1:<port> and forwards to target. mode:
    "forward" (normal), "blackhole" (accept, never answer), "down" (refuse).
    `accepted` counts the connections it has accepted, in any mode."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.mode = "forward"
        self.accepted = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._listening = False

    def start(self):
        self.mode = "forward"
        self._listen()

    def _listen(self):
        if self._listening:
            return
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        self._listening = True
        threading.Thread(target=self._accept_loop, args=(self._listener,), daemon=True).start()

    def _accept_loop(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self.accepted += 1
            if self.mode == "blackhole":
                self._track(client)  # hold it open, say nothing
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._track(client, upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _track(self, *socks):
        with self._lock:
            self._sockets.extend(socks)

    @staticmethod
    def _pipe(source, sink):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self, mode: str = "down"):
        """Drop every open connection; then refuse ("down") or black-hole new ones."""
        self.mode = mode
        with self._lock:
            socks, self._sockets = self._sockets, []
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if mode == "down" and self._listening:
            # shutdown() wakes the thread blocked in accept(); close() alone doesn't.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listening = False
        elif mode == "blackhole":
            self._listen()

    def stop(self):
        self.cut("down")
