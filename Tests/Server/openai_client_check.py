"""The official `openai` Python client talks to `infer serve` unchanged: models list, chat
completion, streamed chat, completion, streamed completion, structured output, logprobs, and its
typed errors (parameters infer cannot honour among them).

Run by `make test` (Tests/Server/run_checks.sh) after building; needs `pip install openai`."""

import json
import sys

import openai
from inferserver import Checks, Server

MODEL = "stories260K"


def main():
    checks = Checks()
    with Server("--parallel", "2", "--api-key", "sk-local-test") as server:
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key="sk-local-test", max_retries=0, timeout=60)

        models = client.models.list()
        ids = [model.id for model in models.data]
        checks.check("models.list names the served model", ids == [MODEL], ids)

        chat = client.chat.completions.create(
            model=MODEL, messages=[{"role": "system", "content": "You tell stories."},
                                   {"role": "user", "content": "Tell me about a cat."}],
            max_tokens=30, temperature=0)
        answer = chat.choices[0].message.content
        print(f"      chat answer: {answer!r}")
        checks.check("chat completion has text", isinstance(answer, str) and len(answer) > 10, chat)
        checks.check("chat completion is an assistant message", chat.choices[0].message.role == "assistant")
        checks.check("chat completion stops at max_tokens", chat.choices[0].finish_reason == "length", chat.choices[0])
        checks.check("chat usage counts tokens",
                     chat.usage.completion_tokens == 30 and chat.usage.total_tokens == chat.usage.prompt_tokens + 30,
                     chat.usage)

        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "system", "content": "You tell stories."},
                                   {"role": "user", "content": "Tell me about a cat."}],
            max_tokens=30, temperature=0, stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        checks.check("streamed chat arrives in several chunks", len(chunks) > 5, len(chunks))
        checks.check("streamed chat equals the whole answer (greedy)", streamed == answer, repr(streamed))
        checks.check("streamed chat ends with one finish_reason", finish == ["length"], finish)
        checks.check("streamed chat reports usage last", chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 30,
                     chunks[-1])
        checks.check("cached prompt tokens are reported",
                     chunks[-1].usage.prompt_tokens_details.cached_tokens > 0, chunks[-1].usage)

        completion = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=20, temperature=0)
        text = completion.choices[0].text
        print(f"      completion: {text!r}")
        checks.check("completion continues the prompt", text.startswith(", there was a little girl named Lily"), repr(text))
        checks.check("completion usage", completion.usage.completion_tokens == 20, completion.usage)

        pieces = list(client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=20, temperature=0,
                                                stream=True))
        checks.check("streamed completion equals the whole one", "".join(p.choices[0].text for p in pieces) == text)

        schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}, "legs": {"type": "integer", "minimum": 0, "maximum": 8}},
                  "required": ["name", "legs"], "additionalProperties": False}
        structured = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Tell me about a cat."}], max_tokens=100, temperature=1, seed=4,
            response_format={"type": "json_schema", "json_schema": {"name": "animal", "schema": schema, "strict": True}})
        document = json.loads(structured.choices[0].message.content)
        print(f"      json_schema answer: {document}")
        checks.check("response_format json_schema gives a document of the schema",
                     set(document) == {"name", "legs"} and 0 <= document["legs"] <= 8, document)
        checks.check("a complete document ends the answer", structured.choices[0].finish_reason == "stop")

        scored = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=6,
                                                temperature=0, logprobs=True, top_logprobs=2)
        entries = scored.choices[0].logprobs.content
        checks.check("chat logprobs: one entry per token, two alternatives each",
                     len(entries) == 6 and all(len(e.top_logprobs) == 2 and e.logprob <= 0 for e in entries), entries)
        text_scored = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=5, temperature=0, logprobs=2)
        checks.check("completion logprobs: tokens and their logprobs",
                     len(text_scored.choices[0].logprobs.tokens) == 5 and len(text_scored.choices[0].logprobs.token_logprobs) == 5,
                     text_scored.choices[0].logprobs)

        for name, kwargs, param, words in [
            ("a schema keyword infer cannot honour", {"response_format": {"type": "json_schema", "json_schema": {
                "name": "x", "schema": {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 3}}}}}},
             "response_format.json_schema.schema", "multipleOf"),
            ("several choices", {"n": 2}, "n", "n = 1"),
            ("a parameter infer lacks", {"extra_body": {"audio": {"voice": "alloy"}}}, "audio", "audio"),
        ]:
            try:
                client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=4, **kwargs)
                checks.check(f"{name} is refused", False)
            except openai.BadRequestError as error:
                checks.check(f"{name} is refused naming '{param}'",
                             error.body.get("param") == param and words in error.body.get("message", ""), error)

        try:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
            checks.check("an unknown model raises BadRequestError", False)
        except openai.BadRequestError as error:
            checks.check("an unknown model raises BadRequestError", error.code == "model_not_found", error)

        try:
            openai.OpenAI(base_url=server.base_url + "/v1", api_key="wrong", max_retries=0).models.list()
            checks.check("a wrong key raises AuthenticationError", False)
        except openai.AuthenticationError as error:
            checks.check("a wrong key raises AuthenticationError", error.status_code == 401, error)
    checks.check("the server exits 0 on SIGTERM", server.exit_status == 0, server.exit_status)
    print(f"openai {openai.__version__}")
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
