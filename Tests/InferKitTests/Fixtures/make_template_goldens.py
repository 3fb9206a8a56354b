#!/usr/bin/env python3
"""Golden outputs for infer's chat-template interpreter.

Renders every chat template of the shared test data (templates/*.jinja and the
`chat_template` of tokenizers/*/tokenizer_config.json) with Jinja2 configured exactly as
Hugging Face transformers configures it for `apply_chat_template`, for a fixed set of
conversations, and writes the prompts (or the error Jinja2 raised) to
template-goldens.json beside this script. Tests/InferKitTests/Chat/ChatTemplateGoldenTests.swift
checks that infer renders every case byte for byte (and raises where Jinja2 raised).

The environment is copied from transformers 5.x, transformers/utils/chat_template_utils.py
(`_cached_compile_jinja_template`): ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]) with the
globals raise_exception, strftime_now, dict and namespace and the tojson filter override.
strftime_now uses a fixed time so the outputs are reproducible.

Usage (from the repository root; needs only jinja2 >= 3.1.6):
    python3 Tests/InferKitTests/Fixtures/make_template_goldens.py
The shared data is found through INFER_SHARED (default: ../shared).
"""

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXED_NOW = datetime(2025, 3, 14, 9, 26, 53)
HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent.parent
SHARED = Path(os.environ.get("INFER_SHARED") or REPOSITORY.parent / "shared")
OUTPUT = HERE / "template-goldens.json"

# Special tokens of the models the .jinja files come from (their tokenizer_config.json),
# which the templates print through bos_token / eos_token.
LLAMA3 = ("<|begin_of_text|>", "<|eot_id|>")
DEEPSEEK = ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>")
SPECIAL_TOKENS = {
    "CohereForAI-c4ai-command-r-plus-tool_use.jinja": ("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"),
    "CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja": ("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"),
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja": ("<|begin_of_text|>", "<|im_end|>"),
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja": ("<|begin_of_text|>", "<|im_end|>"),
    "Qwen-Qwen2.5-7B-Instruct.jinja": ("", "<|im_end|>"),
    "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja": DEEPSEEK,
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja": DEEPSEEK,
    "fireworks-ai-llama-3-firefunction-v2.jinja": LLAMA3,
    "google-gemma-2-2b-it.jinja": ("<bos>", "<eos>"),
    "llama-cpp-deepseek-r1.jinja": DEEPSEEK,
    "meetkai-functionary-medium-v3.1.jinja": LLAMA3,
    "meetkai-functionary-medium-v3.2.jinja": LLAMA3,
    "meta-llama-Llama-3.1-8B-Instruct.jinja": LLAMA3,
    "meta-llama-Llama-3.2-3B-Instruct.jinja": LLAMA3,
    "meta-llama-Llama-3.3-70B-Instruct.jinja": LLAMA3,
    "microsoft-Phi-3.5-mini-instruct.jinja": ("<s>", "<|endoftext|>"),
    "mistralai-Mistral-Nemo-Instruct-2407.jinja": ("<s>", "</s>"),
}
DEFAULT_SPECIAL_TOKENS = ("<s>", "</s>")


def environment():
    """transformers' chat-template environment (see the module docstring)."""

    class AssistantTracker(jinja2.ext.Extension):
        # transformers' {% generation %} tag; when not tracking assistant masks it renders its body.
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

        def _generation_support(self, caller):
            return caller()

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    class TemplateDict:
        def __call__(self, *args, **kwargs):
            return dict(*args, **kwargs)

        def fromkeys(self, *args, **kwargs):
            return dict.fromkeys(*args, **kwargs)

    class TemplateNamespace(jinja2.utils.Namespace):
        def __init__(*args, **kwargs):
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for name in attrs:
                TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name, value):
            TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check_name(name):
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(
                    f"Chat templates cannot store underscore-prefixed attributes on a namespace, but got {name!r}. "
                    "Please rename the attribute."
                )

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    env.globals["dict"] = TemplateDict()
    env.globals["namespace"] = TemplateNamespace
    return env


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a city, e.g. \"Paris\" or 'Zürich'.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city name."},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"},
                    "days": {"type": "integer", "description": "Days ahead", "default": 0, "maximum": 7},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the web <fast> & cheap",
            "parameters": {
                "type": "object",
                "properties": {
                    "queries": {"type": "array", "items": {"type": "string"}, "description": "Queries to run"},
                    "options": {
                        "type": "object",
                        "properties": {"safe": {"type": "boolean"}, "limit": {"type": ["integer", "null"]}},
                        "description": "Search options",
                    },
                },
                "required": ["queries"],
            },
        },
    },
]


def tool_call_conversation(arguments):
    return [
        {"role": "system", "content": "You are a helpful assistant with tools."},
        {"role": "user", "content": "What's the weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call12345", "type": "function", "function": {"name": "get_weather", "arguments": arguments}}
            ],
        },
        {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temperature\": 21.5, \"sky\": \"clear\"}"},
        {"role": "assistant", "content": "It is 21.5 °C and clear in Paris."},
        {"role": "user", "content": "Thanks! And tomorrow?"},
    ]


SYSTEM_CONVERSATION = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello, who are you?"},
    {"role": "assistant", "content": "I am an assistant."},
    {"role": "user", "content": "What can you do?"},
]
NO_SYSTEM = SYSTEM_CONVERSATION[1:]

# name, messages, add_generation_prompt, tools, extra template variables
CASES = [
    ("system_conversation", SYSTEM_CONVERSATION, True, None, {}),
    ("system_conversation_no_generation_prompt", SYSTEM_CONVERSATION, False, None, {}),
    ("no_system", NO_SYSTEM, True, None, {}),
    ("no_system_no_generation_prompt", NO_SYSTEM, False, None, {}),
    ("single_user", [{"role": "user", "content": "Hi"}], True, None, {}),
    (
        "multi_turn_tricky_text",
        [
            {"role": "user", "content": "  Leading and trailing spaces  \n"},
            {"role": "assistant", "content": "Quotes ' and \" and <b>&amp;</b> and {{ braces }} and {% tags %}"},
            {"role": "user", "content": "Unicode: é, 中文, emoji 🦙, tab\tand back\\slash"},
            {"role": "assistant", "content": "<think>\nLet me think.\n</think>\n\nThe answer is 42."},
            {"role": "user", "content": "Line one\nLine two\n\nLine four"},
        ],
        True,
        None,
        {},
    ),
    ("tools_defined", SYSTEM_CONVERSATION, True, TOOLS, {}),
    ("tool_call_object_arguments", tool_call_conversation({"city": "Paris", "days": 1}), True, TOOLS, {}),
    ("tool_call_string_arguments", tool_call_conversation("{\"city\": \"Paris\", \"days\": 1}"), True, TOOLS, {}),
    (
        "template_variables",
        SYSTEM_CONVERSATION,
        True,
        None,
        {
            "date_string": "01 Jan 2025",
            "enable_thinking": False,
            "functions": "[]",
            "datetime": "2025-01-01",
            "tools_in_user_message": False,
        },
    ),
    ("roles_not_alternating", [{"role": "user", "content": "One"}, {"role": "user", "content": "Two"}], True, None, {}),
    ("empty_conversation", [], True, None, {}),
]


def fnv1a64(text):
    """FNV-1a over the UTF-8 bytes, to tell which template source a golden was made from."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def templates():
    """(path relative to shared/, source or None, bos, eos) for every template."""
    found = []
    for path in sorted((SHARED / "templates").glob("*.jinja")):
        bos, eos = SPECIAL_TOKENS.get(path.name, DEFAULT_SPECIAL_TOKENS)
        if path.name not in SPECIAL_TOKENS:
            print(f"note: no special tokens known for {path.name}, using {bos} {eos}", file=sys.stderr)
        found.append((f"templates/{path.name}", path.read_text(encoding="utf-8"), bos, eos))
    for path in sorted((SHARED / "tokenizers").glob("*/tokenizer_config.json")):
        config = json.loads(path.read_text(encoding="utf-8"))
        source = config.get("chat_template")
        if isinstance(source, list):
            source = next((t["template"] for t in source if t.get("name") == "default"), None)

        def token(value):
            # A special token is a string or an AddedToken object {"content": ...}; None is absent.
            if isinstance(value, dict):
                value = value.get("content")
            return value or ""

        found.append((str(path.relative_to(SHARED)), source, token(config.get("bos_token")), token(config.get("eos_token"))))
    return found


def main():
    env = environment()
    result = {
        "generator": "Tests/InferKitTests/Fixtures/make_template_goldens.py",
        "jinja2_version": jinja2.__version__,
        "strftime_now": FIXED_NOW.isoformat(),
        "cases": [
            {"name": name, "messages": messages, "add_generation_prompt": gen, "tools": tools, "extra": extra}
            for name, messages, gen, tools, extra in CASES
        ],
        "templates": [],
    }
    for path, source, bos, eos in templates():
        entry = {"path": path, "bos_token": bos, "eos_token": eos}
        if source is None:
            entry["chat_template"] = None
            result["templates"].append(entry)
            continue
        entry["fnv1a64"] = fnv1a64(source)
        compiled = env.from_string(source)
        renders = {}
        for name, messages, gen, tools, extra in CASES:
            # As apply_chat_template: extra keyword arguments override the special tokens.
            variables = {"bos_token": bos, "eos_token": eos, **extra}
            try:
                renders[name] = {
                    "output": compiled.render(
                        messages=json.loads(json.dumps(messages)), tools=tools, documents=None,
                        add_generation_prompt=gen, **variables
                    )
                }
            except Exception as error:  # every Jinja2 failure is a golden too: infer must fail there
                renders[name] = {"error": {"type": type(error).__name__, "message": str(error)}}
        entry["renders"] = renders
        result["templates"].append(entry)
    OUTPUT.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    total = sum(len(t.get("renders", {})) for t in result["templates"])
    errors = sum(1 for t in result["templates"] for r in t.get("renders", {}).values() if "error" in r)
    print(f"wrote {OUTPUT.relative_to(REPOSITORY)}: {len(result['templates'])} templates, {total} renders ({errors} errors)")


if __name__ == "__main__":
    main()
