#!/usr/bin/env python3
"""Builds and runs infer's libFuzzer harnesses (Tests/Fuzz), and records what they did.

  fuzz.py build                      the harnesses with libFuzzer, ASan and (C code) UBSan, in .build-fuzz
  fuzz.py seeds                      the seed corpora (make_seeds.py) in .build-fuzz/seeds
  fuzz.py run [--seconds S | --runs N] [--harness H ...] [--record]
                                     each harness in turn, one process, on its corpus
  fuzz.py run --to-goal              each harness until its record reaches 10^6 (10^7 for fuzz-gguf
                                     and fuzz-tokenizer-json) executions: the recorded campaign
  fuzz.py run ... --jobs N           N processes per harness at once on its corpus (one per core)
  fuzz.py recheck                    judge again the slow inputs the records hold (processor time alone)
  fuzz.py replay                     every committed regression input (Tests/Fuzz/Regressions) once
  fuzz.py coverage [--harness H ...] line coverage of each harness's own source files by its corpus
                                     (a build of its own for source-based coverage, in .build-fuzz-cov)
  fuzz.py table                      rewrite the results table of Tests/Fuzz/README.md from the records

A run is made of segments of at most 10^6 executions, so that its progress is recorded as it
goes. libFuzzer measures time on the wall clock, which on a shared machine also counts the time
this process (at nice 19) waits for a core or is paused (SIGSTOP): a hang (an input taking more
than 1 s) is therefore judged by the processor time the input takes when run alone. libFuzzer
stops at 10 s (`-timeout`) and keeps each new slowest input over 1 s (`-report_slow_units`);
each such input is run again alone, and is a finding only if it takes 1 s of processor time.
Any other finding (crash, sanitizer report, leak, out of memory) stops the harness; its input is
kept in .build-fuzz/findings/HARNESS/ and listed. Every process runs under `nice -n 19`.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(HERE))
SCRATCH = os.path.join(REPOSITORY, ".build-fuzz")
BINARIES = os.path.join(SCRATCH, "release")
SEEDS = os.path.join(SCRATCH, "seeds")
CORPORA = os.path.join(SCRATCH, "corpus")
FINDINGS = os.path.join(SCRATCH, "findings")
RECORDS = os.path.join(SCRATCH, "records")
REGRESSIONS = os.path.join(HERE, "Regressions")
README = os.path.join(HERE, "README.md")
NICE = ["nice", "-n", "19"]

# Each harness: its longest input, its dictionary, the sources it is about (for coverage), the
# executions the issue asks of it, and (for the two long runs) shorter allocation stacks in
# ASan's records: recording 30 frames took a tenth of their time. Harnesses that keep objects
# loaded for the whole run need the full stacks, where LeakSanitizer's suppression of global
# initializers (lsan.supp) finds the initializer's frame.
HARNESSES = {
    "fuzz-gguf": dict(max_len=65536, dict="gguf.dict", goal=10**7, malloc_context=4,
                      sources=["Formats/GGUFFile.swift", "Architectures/GGUFModelReader.swift", "Formats/GGUFValue.swift",
                               "Formats/ByteReader.swift", "Tokenizer/GGUFTokenizer.swift", "Model/Model.swift",
                               "Model/ModelWeights.swift", "Model/ModelConfig.swift"]),
    "fuzz-llama2c-model": dict(max_len=65536, dict=None, goal=10**6,
                               sources=["Architectures/Llama2CCheckpoint.swift", "Model/ModelConfig.swift"]),
    "fuzz-llama2c-tokenizer": dict(max_len=16384, dict=None, goal=10**6,
                                   sources=["Formats/Llama2CTokenizerFile.swift", "Tokenizer/SentencePieceTokenizer.swift"]),
    "fuzz-tokenizer-json": dict(max_len=65536, dict="tokenizer-json.dict", goal=10**7, malloc_context=4,
                                sources=["Tokenizer/HFTokenizerJSON.swift", "Tokenizer/BPEMerges.swift",
                                         "Tokenizer/SplitPattern.swift", "Tokenizer/Normalizer.swift", "../Jinja/JSON.swift"]),
    "fuzz-tokenize": dict(max_len=4096, dict="tokenize.dict", goal=10**6,
                          sources=["Tokenizer/SentencePieceTokenizer.swift", "Tokenizer/ByteLevelBPETokenizer.swift",
                                   "Tokenizer/WordPieceTokenizer.swift", "Tokenizer/SpecialTokenSplitter.swift",
                                   "Tokenizer/SplitRule.swift", "Tokenizer/PreTokenizer.swift",
                                   "Tokenizer/StreamingDetokenizer.swift", "Tokenizer/Normalizer.swift"]),
    "fuzz-jinja": dict(max_len=16384, dict="jinja.dict", goal=10**6, sources=["../Jinja/"]),
    "fuzz-json": dict(max_len=4096, dict="json.dict", goal=10**6, sources=["../Jinja/JSON.swift"]),
    "fuzz-request": dict(max_len=8192, dict="request.dict", goal=10**6,
                         sources=["../InferServer/OpenAI/RequestFields.swift", "../InferServer/OpenAI/ChatCompletionRequest.swift",
                                  "../InferServer/OpenAI/CompletionRequest.swift", "../InferServer/OpenAI/SamplingFields.swift",
                                  "Chat/ChatPrompt.swift", "Generation/Sampling/"]),
    "fuzz-grammar": dict(max_len=4096, dict="grammar.dict", goal=10**6, sources=["Grammar/"]),
    "fuzz-json-schema": dict(max_len=8192, dict="json-schema.dict", goal=10**6,
                             sources=["Grammar/JSONSchema/", "Chat/Tools/ToolCallGrammar.swift"]),
}

SEGMENT = 10**6
HANG_SECONDS = 1     # processor time of one input that makes it a hang
TIMEOUT_SECONDS = 10  # wall-clock time at which libFuzzer gives up on an input
RSS_LIMIT_MB = 2048


def build():
    """The harnesses with libFuzzer and ASan (Swift and C), UBSan (C), in release mode with
    testable imports (the harnesses reach internal loaders); lld links them (gold fails on the
    sanitizers' debug info)."""
    flags = ["-c", "release", "--package-path", HERE, "--scratch-path", SCRATCH,
             "-Xswiftc", "-sanitize=fuzzer,address", "-Xswiftc", "-enable-testing", "-Xswiftc", "-use-ld=lld",
             "-Xcc", "-fsanitize=address,fuzzer-no-link,undefined", "-Xcc", "-fno-sanitize-recover=undefined"]
    # SwiftPM keeps its build plan while this package's manifest is unchanged, even when files
    # were added to the repository's targets (a path dependency here): drop it, so that it is
    # made again from the sources as they are (the compiled objects are kept).
    for plan in [os.path.join(SCRATCH, "release.yaml"), os.path.join(BINARIES, "description.json")]:
        if os.path.exists(plan):
            os.remove(plan)
    for harness in HARNESSES:
        subprocess.run(NICE + ["swift", "build", "--product", harness] + flags, check=True)


def seeds():
    shutil.rmtree(SEEDS, ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(HERE, "make_seeds.py"), SEEDS], check=True)


def libfuzzer_flags(harness, findings, leaks_each_input=False):
    """The flags of a campaign's segment. Leaks are looked for after each segment over the whole
    corpus (`leak_pass`) rather than after each input: libFuzzer's check after an input that
    allocated more than it freed (a model load fills caches) runs the input again and scans the
    heap, which took three quarters of fuzz-gguf's time and nine tenths of fuzz-llama2c-model's,
    and libFuzzer stops checking after 1,000 such inputs anyway."""
    config = HARNESSES[harness]
    flags = [f"-max_len={config['max_len']}", f"-timeout={TIMEOUT_SECONDS}", f"-report_slow_units={HANG_SECONDS}",
             f"-rss_limit_mb={RSS_LIMIT_MB}", f"-malloc_limit_mb={RSS_LIMIT_MB}", "-print_final_stats=1",
             f"-artifact_prefix={findings}/"]
    if not leaks_each_input:
        flags.append("-detect_leaks=0")
    if config["dict"]:
        flags.append("-dict=" + os.path.join(HERE, "Dictionaries", config["dict"]))
    return flags


def environment(harness=None):
    env = dict(os.environ)
    # Leaks are findings; a failed allocation is one too (malloc_limit_mb), not a null pointer.
    context = HARNESSES.get(harness, {}).get("malloc_context", 30)
    env.setdefault("ASAN_OPTIONS", f"detect_leaks=1:allocator_may_return_null=0:malloc_context_size={context}")
    env.setdefault("LSAN_OPTIONS", "suppressions=" + os.path.join(HERE, "lsan.supp"))
    # A failed check aborts: the sanitizer's report is the one wanted, not Swift's backtracer
    # reading the dying process's memory.
    env.setdefault("SWIFT_BACKTRACE", "enable=no")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    return env


def run_segment(harness, runs, seconds, log, jobs=1):
    """One libFuzzer process, or `jobs` of them at once on the same corpus (each reloads what the
    others add to it), the executions shared out; returns (executions, cov, ft, corpus, peak
    rss MB, exit status), the executions summed, the other figures the largest."""
    findings = os.path.join(FINDINGS, harness)
    corpus = os.path.join(CORPORA, harness)
    os.makedirs(findings, exist_ok=True)
    os.makedirs(corpus, exist_ok=True)
    command = NICE + [os.path.join(BINARIES, harness)] + libfuzzer_flags(harness, findings)
    command += [corpus, os.path.join(SEEDS, harness)]
    processes = []
    for job in range(jobs):
        limit = [f"-runs={-(-runs // jobs)}"] if runs is not None else [f"-max_total_time={seconds}"]
        job_log = log if jobs == 1 else f"{log}.job{job}"
        out = open(job_log, "a" if jobs == 1 else "w")
        out.write("$ " + " ".join(command[:-2] + limit + command[-2:]) + "\n")
        out.flush()
        processes.append((subprocess.Popen(command[:-2] + limit + command[-2:], stdout=out, stderr=subprocess.STDOUT,
                                           env=environment(harness)), out, job_log))
    results = []
    for process, out, job_log in processes:
        status = process.wait()
        out.close()
        with open(job_log, errors="replace") as f:
            text = f.read()
        if jobs > 1:
            with open(log, "a") as whole:
                whole.write(text)
            os.remove(job_log)
        text = text.split("$ ")[-1]
        # An interrupted process prints no final statistics: its last status line counts.
        results.append(dict(executions=int(last(r"stat::number_of_executed_units:\s*(\d+)", text) or last(r"#(\d+)\s", text) or 0),
                            cov=int(last(r"cov: (\d+)", text) or 0), ft=int(last(r"ft: (\d+)", text) or 0),
                            corpus=int(last(r"corp: (\d+)", text) or 0),
                            rss=int(last(r"stat::peak_rss_mb:\s*(\d+)", text) or last(r"rss: (\d+)Mb", text) or 0),
                            status=status))
    return dict(executions=sum(r["executions"] for r in results), cov=max(r["cov"] for r in results),
                ft=max(r["ft"] for r in results), corpus=max(r["corpus"] for r in results),
                rss=max(r["rss"] for r in results), status=next((r["status"] for r in results if r["status"]), 0))


def leak_pass(harness, log):
    """Every input of the harness's corpus and seeds once, each looked at by LeakSanitizer (libFuzzer
    checks each input of the corpus it starts from), and the whole process at its exit. Returns
    the exit status: a leak is kept in the findings as `leak-*`."""
    findings = os.path.join(FINDINGS, harness)
    command = NICE + [os.path.join(BINARIES, harness)] + libfuzzer_flags(harness, findings, leaks_each_input=True)
    command += ["-runs=0", os.path.join(CORPORA, harness), os.path.join(SEEDS, harness)]
    with open(log, "a") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        return subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=environment(harness)).returncode


def last(pattern, text):
    matches = re.findall(pattern, text)
    return matches[-1] if matches else None


def processor_seconds(harness, path):
    """Processor time (user + system) of one run of the harness on `path` alone."""
    # Without libFuzzer's leak check, which runs the input a second time when it allocated more
    # than it freed (leaks are judged on their own).
    command = NICE + [os.path.join(BINARIES, harness), "-timeout=60", f"-rss_limit_mb={RSS_LIMIT_MB}",
                      f"-malloc_limit_mb={RSS_LIMIT_MB}", "-detect_leaks=0", path]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    status = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment()).returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, status


_baselines = {}


def input_seconds(harness, path):
    """Processor time `path` takes in the harness: a run on it less a run on an empty input (the
    harness's start-up: loading vocabularies, a model). The smaller of two measurements."""
    if harness not in _baselines:
        empty = os.path.join(SCRATCH, "empty-input")
        open(empty, "wb").close()
        _baselines[harness] = min(processor_seconds(harness, empty)[0] for _ in range(2))
    times = [processor_seconds(harness, path) for _ in range(2)]
    return max(0.0, min(t for t, _ in times) - _baselines[harness]), max(status for _, status in times)


def judge(harness, path):
    """(is a finding, note) for a new artifact: a slow or timed-out input is one only if it takes
    HANG_SECONDS of processor time alone (or fails alone); anything else always is."""
    name = os.path.basename(path)
    if not (name.startswith("timeout-") or name.startswith("slow-unit-")):
        return True, ""
    seconds, status = input_seconds(harness, path)
    return seconds >= HANG_SECONDS or status != 0, f"{seconds:.3f} s of processor time alone, status {status}"


def run(harnesses, runs, seconds, record, to_goal=False, jobs=1):
    os.makedirs(RECORDS, exist_ok=True)
    failed = []
    for harness in harnesses:
        log = os.path.join(RECORDS, harness + ".log")
        state = load_record(harness) if record else new_record(harness)
        target = runs if runs is not None else None
        if to_goal:
            # What the recorded runs still lack of the harness's goal: a campaign resumes.
            target = max(0, HARNESSES[harness]["goal"] - state["executions"])
        done = 0
        deadline = time.monotonic() + seconds if seconds else None
        while True:
            if target is not None:
                remaining = target - done
                if remaining <= 0:
                    break
                segment = run_segment(harness, min(SEGMENT, remaining), None, log, jobs)
            else:
                left = int(deadline - time.monotonic())
                if left <= 0:
                    break
                segment = run_segment(harness, None, left, log, jobs)
            leaks_status = leak_pass(harness, log)
            state["leak_passes"] = state.get("leak_passes", 0) + 1
            if leaks_status != 0 and segment["status"] == 0:
                segment["status"] = leaks_status
            done += segment["executions"]
            state["executions"] += segment["executions"]
            state["cov"], state["ft"], state["corpus"] = segment["cov"], segment["ft"], segment["corpus"]
            state["peak_rss_mb"] = max(state["peak_rss_mb"], segment["rss"])
            state["segments"] += 1
            new = [p for p in sorted(glob.glob(os.path.join(FINDINGS, harness, "*"))) if p not in state["findings"]
                   and p not in state["dismissed"]]
            real = []
            for path in new:
                finding, note = judge(harness, path)
                state.setdefault("judged", {})[path] = note
                if finding:
                    real.append(path)
                else:
                    state["dismissed"].append(path)  # slow on the wall clock only: the process waited
            state["findings"] += real
            if record:
                state["command"] = command_line(harness)
                state["updated"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                save_record(harness, state)
            print(f"{harness}: +{segment['executions']} executions ({state['executions']} in all), cov {segment['cov']}, "
                  f"ft {segment['ft']}, corpus {segment['corpus']}, peak RSS {segment['rss']} MB, status {segment['status']}"
                  + (f", FINDINGS: {real}" if real else ""), flush=True)
            slow_only = all(os.path.basename(p).startswith("slow-unit-") for p in new)
            if real or (segment["status"] != 0 and (not new or slow_only)):
                failed.append(harness)
                break
            if target is None and segment["status"] == 0 and segment["executions"] == 0:
                break
    if failed:
        print("findings or failures in: " + ", ".join(failed) + f" (inputs in {FINDINGS}, logs in {RECORDS})")
        return 1
    return 0


def command_line(harness):
    findings = os.path.relpath(os.path.join(FINDINGS, harness), REPOSITORY)
    flags = [f.replace(REPOSITORY + "/", "") for f in libfuzzer_flags(harness, findings)]
    return " ".join([f".build-fuzz/release/{harness}"] + flags + ["-runs=1000000",
                     f".build-fuzz/corpus/{harness}", f".build-fuzz/seeds/{harness}"])


def new_record(harness):
    return dict(harness=harness, executions=0, cov=0, ft=0, corpus=0, peak_rss_mb=0, segments=0, findings=[],
                dismissed=[], coverage=None, command="", updated="")


def load_record(harness):
    path = os.path.join(RECORDS, harness + ".json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return new_record(harness)


def save_record(harness, state):
    with open(os.path.join(RECORDS, harness + ".json"), "w") as f:
        json.dump(state, f, indent=1)


def recheck(harnesses):
    """Judges again every slow or timed-out input a record holds (findings and dismissed alike),
    by its processor time alone: for a campaign whose machine was too busy to judge it then."""
    for harness in harnesses:
        state = load_record(harness)
        paths = [p for p in state["findings"] + state["dismissed"] if os.path.exists(p)]
        state["findings"] = []
        state["dismissed"] = []
        for path in paths:
            finding, note = judge(harness, path)
            state.setdefault("judged", {})[path] = note
            (state["findings"] if finding else state["dismissed"]).append(path)
            print(f"{harness}: {os.path.basename(path)}: {'FINDING' if finding else 'not a hang'} ({note})")
        save_record(harness, state)


def replay():
    """Runs every committed regression input through its harness once."""
    failures = 0
    for harness in HARNESSES:
        inputs = sorted(glob.glob(os.path.join(REGRESSIONS, harness, "*")))
        if not inputs:
            continue
        command = NICE + [os.path.join(BINARIES, harness), f"-timeout={TIMEOUT_SECONDS}",
                          f"-rss_limit_mb={RSS_LIMIT_MB}", f"-malloc_limit_mb={RSS_LIMIT_MB}"] + inputs
        result = subprocess.run(command, capture_output=True, text=True, env=environment())
        print(f"{harness}: {len(inputs)} regression inputs: " + ("ok" if result.returncode == 0 else "FAILED"))
        if result.returncode != 0:
            print(result.stderr[-4000:])
            failures += 1
    return 1 if failures else 0


COVERAGE_SCRATCH = os.path.join(REPOSITORY, ".build-fuzz-cov")


def build_coverage(harnesses):
    """The harnesses once more, instrumented for source-based coverage (`-profile-generate
    -profile-coverage-mapping`, clang's `-fprofile-instr-generate -fcoverage-mapping`) instead of
    the sanitizers, in debug, so that lines map one to one: what `coverage` replays corpora with."""
    # libFuzzer without its main (the harnesses have their own) and without its instrumentation:
    # only its driver is needed, to replay a corpus.
    toolchain = os.path.dirname(os.path.dirname(os.path.realpath(shutil.which("swift"))))
    driver = glob.glob(os.path.join(toolchain, "lib", "clang", "*", "lib", "linux",
                                    f"libclang_rt.fuzzer_no_main-{platform.machine()}.a"))
    if not driver:
        sys.exit(f"libclang_rt.fuzzer_no_main-{platform.machine()}.a not found in the toolchain at {toolchain}")
    flags = ["--package-path", HERE, "--scratch-path", COVERAGE_SCRATCH,
             "-Xswiftc", "-profile-generate", "-Xswiftc", "-profile-coverage-mapping", "-Xswiftc", "-use-ld=lld",
             "-Xlinker", driver[0], "-Xlinker", "-lstdc++", "-Xcc", "-fprofile-instr-generate", "-Xcc", "-fcoverage-mapping"]
    for plan in [COVERAGE_SCRATCH + ".yaml", os.path.join(COVERAGE_SCRATCH, "debug.yaml"),
                 os.path.join(COVERAGE_SCRATCH, "debug", "description.json")]:
        if os.path.exists(plan):
            os.remove(plan)
    for harness in harnesses:
        subprocess.run(NICE + ["swift", "build", "--product", harness] + flags, check=True)


def harness_sources(harness):
    """The files a harness is about, from its `sources` (files, or folders ending in /)."""
    root = os.path.join(REPOSITORY, "Sources", "InferKit")
    files = []
    for source in HARNESSES[harness]["sources"]:
        path = os.path.normpath(os.path.join(root, source))
        files += sorted(glob.glob(os.path.join(path, "*.swift"))) if source.endswith("/") else [path]
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        sys.exit(f"{harness}: its sources are not where fuzz.py says (moved?): " + ", ".join(missing))
    return files


def coverage(harnesses):
    """Line coverage of each harness's own source files by its corpus: the corpus replayed once
    through the coverage build, then `llvm-cov`."""
    build_coverage(harnesses)
    tools = os.path.dirname(os.path.realpath(shutil.which("swift")))
    profiles = os.path.join(COVERAGE_SCRATCH, "profiles")
    os.makedirs(profiles, exist_ok=True)
    for harness in harnesses:
        binary = os.path.join(COVERAGE_SCRATCH, "debug", harness)
        for old in glob.glob(os.path.join(profiles, harness + "-*.profraw")):
            os.remove(old)
        env = environment()
        env["LLVM_PROFILE_FILE"] = os.path.join(profiles, harness + "-%p.profraw")
        corpora = [d for d in [os.path.join(CORPORA, harness), os.path.join(SEEDS, harness)] if os.path.isdir(d)]
        subprocess.run(NICE + [binary, "-runs=0", f"-max_len={HARNESSES[harness]['max_len']}"] + corpora,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        merged = os.path.join(profiles, harness + ".profdata")
        raw = glob.glob(os.path.join(profiles, harness + "-*.profraw"))
        subprocess.run([os.path.join(tools, "llvm-profdata"), "merge", "-sparse", "-o", merged] + raw, check=True)
        sources = harness_sources(harness)
        exported = subprocess.run([os.path.join(tools, "llvm-cov"), "export", "-summary-only", binary,
                                   "-instr-profile=" + merged] + sources, capture_output=True, text=True, check=True)
        files = {}
        for entry in json.loads(exported.stdout)["data"][0]["files"]:
            lines = entry["summary"]["lines"]
            files[os.path.relpath(entry["filename"], os.path.join(REPOSITORY, "Sources"))] = [lines["covered"], lines["count"]]
        covered = sum(c for c, _ in files.values())
        total = sum(t for _, t in files.values())
        state = load_record(harness)
        state["coverage"] = dict(covered=covered, total=total, files=dict(sorted(files.items())),
                                 inputs=sum(len(os.listdir(d)) for d in corpora))
        save_record(harness, state)
        print(f"{harness}: {covered}/{total} lines ({100 * covered / max(total, 1):.1f}%): " + ", ".join(
            f"{os.path.basename(k)} {100 * c / max(t, 1):.0f}%" for k, (c, t) in sorted(files.items())))


def table():
    """The results table of README.md, between its markers, from the records."""
    rows = ["| harness | executions | goal | findings | slow on the wall clock only | edges (cov) | features (ft) | "
            "corpus | peak RSS | lines of its sources covered by its corpus | recorded |",
            "| --- | --: | --: | --- | --: | --: | --: | --: | --: | --- | --- |"]
    commands = []
    for harness in HARNESSES:
        state = load_record(harness)
        if not state["executions"]:
            continue
        c = state.get("coverage")
        cover = (f"{100 * c['covered'] / max(c['total'], 1):.1f}% of {c['total']:,} lines: " + ", ".join(
            f"{os.path.basename(k)} {100 * fc / max(ft, 1):.0f}%" for k, (fc, ft) in c["files"].items())) if c else "-"
        findings = ", ".join(os.path.basename(p) for p in state["findings"]) or "none"
        rows.append(f"| {harness} | {state['executions']:,} | {HARNESSES[harness]['goal']:,} | {findings} | "
                    f"{len(state['dismissed'])} | {state['cov']:,} | "
                    f"{state['ft']:,} | {state['corpus']:,} | {state['peak_rss_mb']} MB | {cover} | {state['updated']} |")
        commands.append(f"    {state['command']}")
    with open(README) as f:
        text = f.read()
    begin, end = "<!-- results: begin -->", "<!-- results: end -->"
    body = "\n".join(rows) + "\n\nEach run, repeated in segments of 10^6 executions:\n\n" + "\n".join(commands)
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), begin + "\n" + body + "\n" + end, text, flags=re.S)
    with open(README, "w") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "seeds", "run", "recheck", "replay", "coverage", "table"])
    parser.add_argument("--harness", action="append", choices=list(HARNESSES), help="default: every harness")
    parser.add_argument("--runs", type=int, help="executions per harness")
    parser.add_argument("--seconds", type=int, help="seconds per harness (default 60 without --runs)")
    parser.add_argument("--record", action="store_true", help="add the run to .build-fuzz/records (for the README table)")
    parser.add_argument("--to-goal", action="store_true",
                        help="with --record: run each harness until its record reaches its goal (10^6 or 10^7 executions)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="libFuzzer processes per harness at once, on the same corpus (one per core)")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    harnesses = args.harness or list(HARNESSES)
    if args.command == "build":
        build()
    elif args.command == "seeds":
        seeds()
    elif args.command == "run":
        if not os.path.isdir(SEEDS):
            seeds()
        if args.to_goal:
            return run(harnesses, None, None, True, to_goal=True, jobs=args.jobs)
        return run(harnesses, args.runs, None if args.runs else (args.seconds or 60), args.record, jobs=args.jobs)
    elif args.command == "recheck":
        recheck(harnesses)
    elif args.command == "replay":
        return replay()
    elif args.command == "coverage":
        coverage(harnesses)
    elif args.command == "table":
        table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
