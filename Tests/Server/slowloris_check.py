"""Slow-loris check of `infer serve`: hundreds of connections that send a request a byte a second
and never finish it, while a normal client chats. The normal client's requests must all succeed,
the slow connections must be cut off at the header deadline (408), and the server's memory must
stay bounded. Then a flood of idle connections beyond --max-connections: those beyond the limit
are refused at once with 503, and the normal client (its keep-alive connection already open)
goes on being served.

  python3 Tests/Server/slowloris_check.py [--slow 300] [--seconds 180] [--max-connections 512]

A slow connection the server closes is opened again at once, as a slow-loris tool does, so the
server holds that many for the whole run. Needs only the standard library (and the built infer:
INFER_BINARY, default .build/debug/infer). Not part of `make test` (it takes minutes); its
results are in Benchmarks/README.md."""

import argparse
import http.client
import json
import selectors
import socket
import statistics
import sys
import threading
import time

from inferserver import Checks, Server

REQUEST_START = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: "


class SlowLoris:
    """Keeps `count` connections open, each sending one more header byte every second."""

    def __init__(self, port, count):
        self.port = port
        self.count = count
        self.selector = selectors.DefaultSelector()
        self.opened = 0
        self.closed_by_server = 0
        self.answered_408 = 0
        self.refused_503 = 0
        self.other_answers = []
        self.bytes_sent = 0
        self.stopping = threading.Event()
        self.received = {}

    def open_one(self):
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        connection.setblocking(False)
        connection.sendall(REQUEST_START)
        self.selector.register(connection, selectors.EVENT_READ)
        self.received[connection] = b""
        self.opened += 1

    def close_one(self, connection):
        answer = self.received.pop(connection, b"")
        self.selector.unregister(connection)
        connection.close()
        self.closed_by_server += 1
        status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/1.1 ") else b""
        if status == b"408":
            self.answered_408 += 1
        elif status == b"503":
            self.refused_503 += 1
        elif len(self.other_answers) < 5:
            self.other_answers.append(answer[:200])

    def run(self):
        for _ in range(self.count):
            self.open_one()
        next_byte = time.monotonic() + 1
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=max(0.0, next_byte - time.monotonic())):
                connection = key.fileobj
                try:
                    data = connection.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if data:
                    self.received[connection] += data
                else:
                    self.close_one(connection)
                    self.open_one()  # the attacker comes straight back
            if time.monotonic() >= next_byte:
                next_byte += 1
                for key in list(self.selector.get_map().values()):
                    try:
                        key.fileobj.send(b"a")
                        self.bytes_sent += 1
                    except OSError:
                        pass
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()


def chat(connection, index):
    body = {"messages": [{"role": "user", "content": f"Tell me a story about a dog, number {index}."}],
            "max_tokens": 24, "temperature": 0.7, "seed": index}
    start = time.monotonic()
    connection.request("POST", "/v1/chat/completions", body=json.dumps(body),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    text = response.read().decode()
    ok = response.status == 200 and json.loads(text)["choices"][0]["message"]["content"] is not None
    return ok, time.monotonic() - start, f"status {response.status}: {text[:200]}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slow", type=int, default=300, help="slow connections held open")
    parser.add_argument("--seconds", type=int, default=180, help="length of the slow-loris phase")
    parser.add_argument("--max-connections", type=int, default=512, help="as infer serve's default")
    parser.add_argument("--header-timeout", type=float, default=10)
    args = parser.parse_args()
    checks = Checks()
    with Server("--parallel", "2", "--max-connections", str(args.max_connections),
                "--header-timeout", str(args.header_timeout)) as server:
        port = server.port
        normal = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        # Warm-up: the first requests allocate what every later one reuses.
        for index in range(5):
            chat(normal, index)
        rss_start = server.rss_kib()
        samples = [(0.0, rss_start)]
        loris = SlowLoris(port, args.slow)
        attacker = threading.Thread(target=loris.run, daemon=True)
        started = time.monotonic()
        attacker.start()

        results = []
        index = 5
        next_sample = started + 5
        while time.monotonic() - started < args.seconds:
            try:
                results.append(chat(normal, index))
            except Exception as error:  # a refused or broken connection is a failure of the check
                results.append((False, 0.0, f"{type(error).__name__}: {error}"))
                normal = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            index += 1
            if time.monotonic() >= next_sample:
                samples.append((time.monotonic() - started, server.rss_kib()))
                next_sample += 5
            time.sleep(0.2)
        loris.stopping.set()
        attacker.join(10)
        samples.append((time.monotonic() - started, server.rss_kib()))

        ok = [r for r in results if r[0]]
        failed = [r for r in results if not r[0]]
        latencies = [r[1] for r in ok]
        print(f"slow-loris: {args.slow} connections held for {args.seconds} s, a byte a second each "
              f"({loris.bytes_sent} bytes sent); {loris.opened} opened, {loris.closed_by_server} closed by the server "
              f"({loris.answered_408} with 408, {loris.refused_503} with 503)")
        print(f"normal client: {len(ok)} of {len(results)} chat requests answered; latency p50 "
              f"{1000 * statistics.median(latencies):.0f} ms, max {1000 * max(latencies):.0f} ms")
        for problem in failed[:5]:
            print("  failed:", problem[2])
        for answer in loris.other_answers:
            print("  slow connection answered:", answer)
        print("server RSS (KiB) every 5 s: " + " ".join(str(kib) for _, kib in samples))
        peak = max(kib for _, kib in samples)
        checks.check("every chat request of the normal client succeeded", results and not failed, failed[:3])
        checks.check("slow connections were cut off at the header deadline with 408",
                     loris.answered_408 >= args.slow and loris.answered_408 == loris.closed_by_server,
                     f"{loris.answered_408} of {loris.closed_by_server}; others: {loris.other_answers}")
        checks.check("server memory stayed bounded (peak within 64 MiB of the start)", peak - rss_start <= 64 << 10,
                     f"{rss_start} -> peak {peak} KiB")
        end_growth = samples[-1][1] - samples[len(samples) // 2][1]
        checks.check("server memory did not grow over the second half (within 8 MiB)", end_growth <= 8 << 10,
                     f"{end_growth:+d} KiB")

        # Beyond the connection limit: idle connections until the server refuses them.
        flood = []
        refused = 0
        for _ in range(args.max_connections + 50):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            flood.append(connection)
        time.sleep(0.5)
        for connection in flood:
            connection.setblocking(False)
            try:
                data = connection.recv(4096)
                if data.startswith(b"HTTP/1.1 503"):
                    refused += 1
            except BlockingIOError:
                pass
        still_ok, _, detail = chat(normal, index)
        print(f"flood: {len(flood)} idle connections; {refused} refused at once with 503; "
              f"the normal client's next request: {'answered' if still_ok else detail}")
        # One of them is the normal client's; the rest are the flood's.
        checks.check("connections beyond the limit were refused with 503", refused >= 50, refused)
        checks.check("the normal client was served during the flood", still_ok, detail)
        for connection in flood:
            connection.close()
        normal.close()
    checks.check("the server exits 0 on SIGTERM", server.exit_status == 0, server.exit_status)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
