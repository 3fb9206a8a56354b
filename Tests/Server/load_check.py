"""Load check of `infer serve` on loopback: 8 concurrent clients x 25 requests, mixing whole and
streamed chat and text completions with some malformed requests. Every valid request must get a
valid answer and every invalid one a 4xx; the server's memory must not grow from one round to
the next; and it must still answer afterwards. Bounded: a few hundred requests, a time limit.

Run by `make test` (Tests/Server/run_checks.sh); needs only the standard library."""

import http.client
import json
import os
import statistics
import sys
import threading
import time

from inferserver import Checks, Server, wait_until

CLIENTS = 8
REQUESTS_PER_CLIENT = 25
TIME_LIMIT = 300  # seconds, for each round
MODEL = "stories260K"

INVALID = [
    # (path, body, why)
    ("/v1/chat/completions", b'{"messages": [', "malformed JSON"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "Hi"}], "temperature": "hot"}', "wrong type"),
    ("/v1/chat/completions", b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}', "unknown model"),
    ("/v1/chat/completions", b'{"messages": []}', "empty messages"),
    ("/v1/completions", json.dumps({"prompt": "word " * 3000}).encode(), "prompt longer than the context"),
]


def valid_request(client, index):
    """The body of a client's `index`-th valid request: chat or completion, whole or streamed."""
    stream = index % 2 == 1
    max_tokens = 16 + (client * 7 + index * 5) % 48
    if (client + index) % 4 < 2:
        messages = [{"role": "user", "content": f"Tell me a story about animal number {client}."}]
        if index % 3 == 0:
            messages = [{"role": "system", "content": "You tell short stories."}] + messages
        body = {"model": MODEL, "messages": messages, "max_tokens": max_tokens, "stream": stream,
                "temperature": 0.8, "seed": client * 1000 + index}
        return "/v1/chat/completions", body
    body = {"model": MODEL, "prompt": f"Once upon a time, {client} friends", "max_tokens": max_tokens,
            "stream": stream, "temperature": 0.7, "stop": ["\n\n"]}
    return "/v1/completions", body


def post(port, path, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


def check_answer(path, body, status, content_type, text):
    """None if the response is a valid answer to the request, else what is wrong."""
    if status != 200:
        return f"status {status}: {text[:200]}"
    chat = path.endswith("chat/completions")
    if body["stream"]:
        if not content_type.startswith("text/event-stream"):
            return f"content type {content_type}"
        events = [e[len("data: "):] for e in text.split("\n\n") if e]
        if events[-1] != "[DONE]":
            return "no [DONE]"
        chunks = [json.loads(e) for e in events[:-1]]
        finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0]["finish_reason"]]
        expected = "chat.completion.chunk" if chat else "text_completion"
        if any(c["object"] != expected for c in chunks) or len(finishes) != 1 or finishes[0] not in ("stop", "length"):
            return f"bad chunks: {events[:3]} ... {events[-3:]}"
        return None
    answer = json.loads(text)
    choice = answer["choices"][0]
    content = choice["message"]["content"] if chat else choice["text"]
    usage = answer["usage"]
    if not isinstance(content, str) or choice["finish_reason"] not in ("stop", "length"):
        return f"bad choice: {choice}"
    if usage["completion_tokens"] > body["max_tokens"] or usage["total_tokens"] != usage["prompt_tokens"] + usage["completion_tokens"]:
        return f"bad usage: {usage}"
    return None


def run_round(port):
    """One round of the load: returns (latencies by kind, problems, invalid statuses, seconds)."""
    latencies = {}
    problems = []
    invalid_statuses = []
    lock = threading.Lock()

    def client(number):
        for index in range(REQUESTS_PER_CLIENT):
            # Every fifth request of each client is malformed (5 of 25).
            if index % 5 == 4:
                path, raw, why = INVALID[(number + index) % len(INVALID)]
                status, _, text = post(port, path, raw)
                with lock:
                    invalid_statuses.append((why, status))
                    if not 400 <= status < 500 or "error" not in json.loads(text):
                        problems.append(f"{why}: status {status} {text[:200]}")
                continue
            path, body = valid_request(number, index)
            start = time.monotonic()
            try:
                status, content_type, text = post(port, path, json.dumps(body).encode())
                problem = check_answer(path, body, status, content_type, text)
            except Exception as error:  # a failure of the server shows as a broken connection
                problem = f"{type(error).__name__}: {error}"
            kind = ("chat" if "chat" in path else "completion") + (" stream" if body["stream"] else "")
            with lock:
                latencies.setdefault(kind, []).append(time.monotonic() - start)
                if problem:
                    problems.append(f"{path} {body}: {problem}")

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, TIME_LIMIT - (time.monotonic() - start)))
    if any(thread.is_alive() for thread in threads):
        problems.append(f"the round did not finish within {TIME_LIMIT} s")
    return latencies, problems, invalid_statuses, time.monotonic() - start


def health(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def milliseconds(values, q):
    return 1000 * statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else 1000 * values[0]


def main():
    checks = Checks()
    with Server("--parallel", "2", "--queue", "16", "--ctx", "1024") as server:
        port = server.port
        rss_start = server.rss_kib()
        # The first round warms up: allocator pools, the KV pages the slots touch, the
        # connections' buffers. The second must not need more.
        rounds = []
        for number in (1, 2):
            latencies, problems, invalid, seconds = run_round(port)
            wait_until(lambda: health(port)[1]["slots_processing"] == 0)
            rss = server.rss_kib()
            rounds.append((latencies, problems, invalid, seconds, rss))
            valid = sum(len(v) for v in latencies.values())
            print(f"round {number}: {valid + len(invalid)} requests ({valid} valid, {len(invalid)} malformed) "
                  f"in {seconds:.1f} s, {len(problems)} problems, server RSS {rss / 1024:.1f} MiB")
            for kind, values in sorted(latencies.items()):
                print(f"  {kind:18} n={len(values):3}  p50 {milliseconds(values, 50):6.0f} ms  "
                      f"p95 {milliseconds(values, 95):6.0f} ms  max {1000 * max(values):6.0f} ms")
            for problem in problems[:10]:
                print("  problem:", problem)
        for number, (latencies, problems, invalid, seconds, rss) in enumerate(rounds, 1):
            valid = sum(len(v) for v in latencies.values())
            checks.check(f"round {number}: all {valid} valid requests answered validly", valid == CLIENTS * 20 and not problems,
                         problems[:3])
            checks.check(f"round {number}: all {len(invalid)} malformed requests got a 4xx",
                         len(invalid) == CLIENTS * 5 and all(400 <= s < 500 for _, s in invalid), invalid)
        growth = rounds[1][4] - rounds[0][4]
        print(f"memory: {rss_start / 1024:.1f} MiB at start, {rounds[0][4] / 1024:.1f} MiB after round 1, "
              f"{rounds[1][4] / 1024:.1f} MiB after round 2 ({growth:+d} KiB)")
        if os.environ.get("INFER_SANITIZER"):
            # A sanitized allocator keeps freed memory in quarantine: the size of the process says
            # nothing of leaks there (LeakSanitizer checks those when the server exits).
            print(f"skip  memory does not grow from round 1 to round 2 (under {os.environ['INFER_SANITIZER']} sanitizer)")
        else:
            checks.check("memory does not grow from round 1 to round 2 (within 2 MiB)", growth <= 2048, f"{growth:+d} KiB")

        status, state = health(port)
        checks.check("the server still answers /health", status == 200 and state["status"] == "ok", state)
        status, _, text = post(port, "/v1/chat/completions",
                               json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8}).encode())
        checks.check("the server still answers a chat request", status == 200 and json.loads(text)["choices"], text[:200])
    checks.check("the server exits 0 on SIGTERM", server.exit_status == 0, server.exit_status)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
