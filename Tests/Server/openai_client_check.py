"""The official `openai` Python client talks to `infer serve` unchanged: models list, chat
completion, streamed chat, completion, streamed completion, and its typed errors.

Run by `make test` (Tests/Server/run_checks.sh) after building; needs `pip install openai`."""

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
