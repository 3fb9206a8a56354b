"""Tool calls through the official `openai` client against `infer serve` with a real chat model:
a weather question with a `get_weather` tool gets `tool_calls` whose arguments are JSON naming a
city; the tool's result sent back gets a final answer; streaming gives the same call; `tool_choice`
"required" always gives a valid call; malformed tools and choices are refused naming the problem.

Uses Qwen2.5-Coder-0.5B-Instruct when infer runs it, else SmolLM2-135M-Instruct (llama family),
from INFER_MODELS (default /tmp/infer-models; ../shared/tools/fetch-models.sh fetches them);
skipped with a message when neither is there. Run by `make test` (Tests/Server/run_checks.sh)."""

import json
import sys

import openai
from inferserver import Checks, real_model_server

MODELS = ["Qwen2.5-Coder-0.5B-Instruct.gguf", "SmolLM2-135M-Instruct-Q4_1.gguf"]

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city, e.g. Paris"}},
                   "required": ["city"]}}}
QUESTION = [{"role": "user", "content": "What is the weather like in Paris today?"}]


def city_of(call):
    arguments = json.loads(call.function.arguments)
    return arguments.get("city") if isinstance(arguments, dict) else None


def main():
    checks = Checks()
    server = real_model_server(MODELS, "--parallel", "1", "-c", "2048")
    if server is None:
        print(f"skipping the tool call check: none of {', '.join(MODELS)} found or runnable")
        return 0
    with server:
        model = server.model.rsplit("/", 1)[-1].removesuffix(".gguf")
        print(f"      model: {model}")
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="unused", max_retries=0, timeout=300)

        whole = client.chat.completions.create(model=model, messages=QUESTION, tools=[WEATHER], tool_choice="required",
                                               temperature=0, max_tokens=120)
        choice = whole.choices[0]
        calls = choice.message.tool_calls or []
        print(f"      required: {[(c.function.name, c.function.arguments) for c in calls]}")
        checks.check("required: finish_reason is tool_calls", choice.finish_reason == "tool_calls", choice.finish_reason)
        checks.check("required: a get_weather call", len(calls) >= 1 and calls[0].function.name == "get_weather", calls)
        city = city_of(calls[0]) if calls else None
        checks.check("required: the arguments are JSON naming a city", isinstance(city, str) and city.strip() != "", city)
        checks.check("required: the city asked about", isinstance(city, str) and "paris" in city.lower(), city)

        stream = client.chat.completions.create(model=model, messages=QUESTION, tools=[WEATHER], tool_choice="required",
                                                temperature=0, max_tokens=120, stream=True)
        pieces = {}
        finish = []
        for chunk in stream:
            for delta in chunk.choices[0].delta.tool_calls or []:
                entry = pieces.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] += delta.id or ""
                entry["name"] += (delta.function.name or "") if delta.function else ""
                entry["arguments"] += (delta.function.arguments or "") if delta.function else ""
            if chunk.choices[0].finish_reason:
                finish.append(chunk.choices[0].finish_reason)
        streamed = [pieces[i] for i in sorted(pieces)]
        checks.check("streamed: the same calls", [(p["name"], json.loads(p["arguments"])) for p in streamed]
                     == [(c.function.name, json.loads(c.function.arguments)) for c in calls], streamed)
        checks.check("streamed: ids and finish_reason tool_calls", all(p["id"] for p in streamed) and finish == ["tool_calls"], finish)

        if calls:
            conversation = QUESTION + [
                {"role": "assistant", "content": None, "tool_calls": [c.model_dump() for c in calls]},
                *[{"role": "tool", "tool_call_id": c.id, "content": json.dumps({"city": city, "temperature_c": 21, "sky": "sunny"})}
                  for c in calls]]
            final = client.chat.completions.create(model=model, messages=conversation, tools=[WEATHER], temperature=0,
                                                   max_tokens=40)
            answer = final.choices[0].message
            print(f"      final answer: {answer.content!r} {answer.tool_calls}")
            checks.check("the tool's result gets an answer", (answer.content or "").strip() != "" or bool(answer.tool_calls), answer)

        valid = 0
        for seed in range(1, 6):
            reply = client.chat.completions.create(model=model, messages=QUESTION, tools=[WEATHER], tool_choice="required",
                                                   temperature=1.0, seed=seed, max_tokens=120)
            seeded = reply.choices[0].message.tool_calls or []
            if seeded and all(c.function.name == "get_weather" and isinstance(city_of(c), str) for c in seeded):
                valid += 1
            else:
                print(f"      seed {seed}: {reply.choices[0]}")
        checks.check("required at temperature 1: a valid call with each of 5 seeds", valid == 5, valid)

        auto = client.chat.completions.create(model=model, messages=QUESTION, tools=[WEATHER], temperature=0, max_tokens=40)
        message = auto.choices[0].message
        print(f"      auto: {message.content!r} {[(c.function.name, c.function.arguments) for c in message.tool_calls or []]}")
        well_formed = all(json.loads(c.function.arguments) is not None for c in message.tool_calls or [])
        checks.check("auto: text or well-formed calls", well_formed and (message.content or message.tool_calls), message)
        checks.check("auto: finish_reason is tool_calls exactly when there are calls",
                     (auto.choices[0].finish_reason == "tool_calls") == bool(message.tool_calls), auto.choices[0].finish_reason)
        if model.startswith("Qwen"):
            checks.check("auto: Qwen calls the tool", bool(message.tool_calls), message)

        for name, kwargs, param in [
            ("an unknown tool_choice", {"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
            ("a tool_choice naming no tool", {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "x"}}}, "tool_choice"),
            ("a malformed tools array", {"tools": [{"type": "function", "function": {"description": "no name"}}]}, "tools[0]"),
            ("tools that are not an array", {"tools": {"type": "function"}}, "tools"),
        ]:
            try:
                client.chat.completions.create(model=model, messages=QUESTION, max_tokens=5, **kwargs)
                checks.check(f"{name} is refused", False)
            except openai.BadRequestError as error:
                checks.check(f"{name} is refused naming '{param}'", error.status_code == 400 and error.body.get("param") == param, error)
    checks.check("the server exits 0 on SIGTERM", server.exit_status == 0, server.exit_status)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
