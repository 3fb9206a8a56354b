"""The chat format: a scene of a play. The system message is the scene's opening (where it
is, who enters); the user speaks as HAMLET and the model answers as HORATIO, his friend and
confidant. Every part ends with the end-of-sequence token, so the model learns to end its
speech with EOS and generation stops there:

    <s>A hall in the castle.
    Enter HAMLET and HORATIO</s>HAMLET:
    What news?</s>HORATIO:
    <the model's speech></s>

Training data is shaped the same way from real scenes: each part is encoded on its own (so
it starts with SentencePiece's space prefix, as llama.cpp does for text after a special
token) and followed by EOS. chat_template.jinja renders OpenAI-style messages into it.
"""
import pathlib

# The names and the default scene (Hamlet V.2, where HAMLET and HORATIO enter together)
# live in the template itself.
TEMPLATE_PATH = pathlib.Path(__file__).with_name("chat_template.jinja")


def speech_part(speaker: str, text: str) -> str:
    return f"{speaker}:\n{text}"


def chat_template() -> str:
    return TEMPLATE_PATH.read_text().strip()


def render(messages: list, add_generation_prompt: bool, bos: str = "<s>", eos: str = "</s>") -> str:
    """The template rendered with Jinja2 (used to check it and to make test fixtures)."""
    import jinja2

    def raise_exception(message):
        raise jinja2.TemplateError(message)

    template = jinja2.Environment().from_string(chat_template())
    return template.render(messages=messages, add_generation_prompt=add_generation_prompt,
                           bos_token=bos, eos_token=eos, raise_exception=raise_exception)


def parts(text: str, bos: str = "<s>", eos: str = "</s>") -> list:
    """Splits rendered chat text at the special tokens: ["<s>", "A hall...", "</s>", ...]."""
    out, rest = [], text
    while rest:
        cut = min((i for i in (rest.find(bos), rest.find(eos)) if i >= 0), default=len(rest))
        if cut > 0:
            out.append(rest[:cut])
            rest = rest[cut:]
        else:
            token = bos if rest.startswith(bos) else eos
            out.append(token)
            rest = rest[len(token):]
    return out
