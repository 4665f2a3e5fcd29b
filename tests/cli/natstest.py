"""A NATS server for tests (nats-server with JetStream on a free loopback
port, its store in a temporary directory) and a minimal client speaking the
NATS text protocol: enough to publish raw messages (bad ones included), ask
the JetStream API and read a whole stream, with nothing but the standard
library."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections import namedtuple

Msg = namedtuple("Msg", "subject headers payload sid")

def partition_of(host, n=16):
    """docs/streaming.md: FNV-1a (32 bit) of host.name in ASCII lower case, mod N."""
    h = 2166136261
    for b in host.encode():
        if 65 <= b <= 90:
            b += 32
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h % n


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, store=None):
        self.store = store or tempfile.mkdtemp(prefix="vigil-nats-")
        os.makedirs(self.store, exist_ok=True)
        self.port = free_port()
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"

    def start(self):
        self.log = open(os.path.join(self.store, "server.log"), "ab")
        self.proc = subprocess.Popen(["nats-server", "-js", "-sd", os.path.join(self.store, "js"), "-a", "127.0.0.1",
                                      "-p", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 20
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.store, ignore_errors=True)


class Client:
    def __init__(self, url):
        host, port = url.removeprefix("nats://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buf = b""
        self.sid = 0
        self._line()  # INFO
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n')

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def publish(self, subject, payload, headers=None, reply=""):
        payload = payload if isinstance(payload, bytes) else payload.encode()
        if headers:
            h = "NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            hb = h.encode()
            self.sock.sendall(f"HPUB {subject} {reply} {len(hb)} {len(hb) + len(payload)}\r\n".encode()
                              + hb + payload + b"\r\n")
        else:
            self.sock.sendall(f"PUB {subject} {reply} {len(payload)}\r\n".encode() + payload + b"\r\n")

    def subscribe(self, subject):
        self.sid += 1
        self.sock.sendall(f"SUB {subject} {self.sid}\r\n".encode())
        return self.sid

    def next_msg(self, timeout=5):
        """The next Msg, or None after `timeout`."""
        self.sock.settimeout(timeout)
        try:
            while True:
                line = self._line()
                if line == "PING":
                    self.sock.sendall(b"PONG\r\n")
                    continue
                if line.startswith("MSG "):
                    parts = line.split()
                    return Msg(parts[1], {}, self._bytes(int(parts[-1])), int(parts[2]))
                if line.startswith("HMSG "):
                    parts = line.split()
                    hlen, total = int(parts[-2]), int(parts[-1])
                    data = self._bytes(total)
                    headers = {}
                    for h in data[:hlen].decode().split("\r\n")[1:]:
                        if ": " in h:
                            k, v = h.split(": ", 1)
                            headers[k] = v
                    return Msg(parts[1], headers, data[hlen:], int(parts[2]))
                if line.startswith("-ERR"):
                    raise RuntimeError(line)
        except socket.timeout:
            return None
        finally:
            self.sock.settimeout(10)

    def request(self, subject, payload=b""):
        inbox = f"_INBOX.t{time.time_ns()}"
        sid = self.subscribe(inbox)
        self.publish(subject, payload, reply=inbox)
        while True:
            m = self.next_msg(10)
            if m is None:
                raise TimeoutError(subject)
            if m.sid == sid:
                return json.loads(m.payload) if m.payload else {}

    def stream_info(self, stream):
        return self.request(f"$JS.API.STREAM.INFO.{stream}")

    def stream_messages(self, stream):
        """Every message of `stream`, in order."""
        info = self.stream_info(stream)
        count = info.get("state", {}).get("messages", 0)
        if count == 0:
            return []
        inbox, reply = f"_INBOX.d{time.time_ns()}", f"_INBOX.r{time.time_ns()}"
        sid = self.subscribe(inbox)
        self.subscribe(reply)
        self.publish(f"$JS.API.CONSUMER.CREATE.{stream}", json.dumps(
            {"stream_name": stream, "config": {"deliver_subject": inbox, "ack_policy": "none",
                                               "deliver_policy": "all", "inactive_threshold": 10_000_000_000}}),
            reply=reply)
        out = []
        while len(out) < count:
            m = self.next_msg(10)
            if m is None:
                break
            if m.sid == sid and m.payload:
                out.append(m)
        return out
