"""Trains the default model on one CPU thread, deterministically: the same command gives
the same losses (fixed seeds, one thread, deterministic algorithms, examples drawn from a
seeded generator). Needs WORK/tokenizer.model from tokenizer.py. Writes WORK/model.pt
(config + weights, also after every evaluation), WORK/train-log.jsonl and WORK/result.json.
"""
import argparse
import dataclasses
import json
import math
import pathlib
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

import corpus
import data
from model import Config, Transformer


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--work", type=pathlib.Path, default=pathlib.Path(__file__).parent / "work", help="work directory")
    p.add_argument("--steps", type=int, default=2000, help="optimizer steps")
    p.add_argument("--batch", type=int, default=8, help="windows per step")
    p.add_argument("--layers", type=int, default=Config.n_layers, help="transformer blocks")
    p.add_argument("--context", type=int, default=Config.context_length, help="window length in tokens")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--warmup", type=int, default=100, help="linear warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=200, help="steps between evaluations")
    p.add_argument("--eval-windows", type=int, default=64, help="windows per split in a periodic evaluation")
    p.add_argument("--final-eval-windows", type=int, default=256, help="windows per split in the final evaluation")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--stop-after", type=int, help="stop after this many steps, to check that a re-run "
                   "reproduces the start of a run's train-log.jsonl exactly")
    return p.parse_args()


def learning_rate(step: int, args) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def evaluate(model, windows: np.ndarray, batch: int) -> float:
    """Mean next-token cross-entropy over fixed windows."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(windows), batch):
        x = torch.from_numpy(windows[i:i + batch])
        logits = model(x[:, :-1])
        total += F.cross_entropy(logits.flatten(0, 1), x[:, 1:].flatten(), reduction="sum").item()
        count += x[:, 1:].numel()
    model.train()
    return total / count


def save(model, path: pathlib.Path, step: int):
    torch.save({"config": dataclasses.asdict(model.c), "step": step, "state_dict": model.state_dict()}, path)


def main():
    args = parse_args()
    torch.set_num_threads(1)  # the machine's other core is for the people compiling beside us
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)

    sp = spm.SentencePieceProcessor(model_file=str(args.work / "tokenizer.model"))
    splits = data.encode_splits(sp, corpus.load_scenes(args.work))
    config = Config(vocab_size=sp.vocab_size(), n_layers=args.layers, context_length=args.context)
    model = Transformer(config)
    params = sum(p.numel() for p in model.parameters())
    print(f"{params / 1e6:.2f}M parameters; train {splits['train'].token_count} tokens, "
          f"val {splits['val'].token_count} tokens; {args.steps} steps of {args.batch}x{args.context}")

    # Separate generators, so changing the evaluation does not change the training examples.
    train_rng = np.random.default_rng(args.seed)
    eval_sets = {name: data.sample_windows(splits[name], np.random.default_rng(args.seed + 1 + i),
                                           args.final_eval_windows, args.context)
                 for i, name in enumerate(("train", "val"))}

    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    log = (args.work / "train-log.jsonl").open("w")
    start = time.time()
    for step in range(min(args.steps, args.stop_after or args.steps)):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args)
        x = torch.from_numpy(data.sample_windows(splits["train"], train_rng, args.batch, args.context))
        loss = F.cross_entropy(model(x[:, :-1]).flatten(0, 1), x[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

        record = {"step": step + 1, "loss": loss.item(), "lr": optimizer.param_groups[0]["lr"],
                  "elapsed_s": round(time.time() - start, 1)}
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            for name, windows in eval_sets.items():
                record[f"{name}_loss"] = evaluate(model, windows[:args.eval_windows], args.batch)
            save(model, args.work / "model.pt", step + 1)
        log.write(json.dumps(record) + "\n")
        log.flush()
        if (step + 1) % 10 == 0 or "val_loss" in record:
            print(json.dumps(record), flush=True)

    if args.stop_after:
        return
    train_seconds = time.time() - start
    result = {"steps": args.steps, "tokens_seen": args.steps * args.batch * args.context,
              "parameters": params, "train_seconds": round(train_seconds),
              "config": dataclasses.asdict(config), "args": {k: str(v) for k, v in vars(args).items()}}
    for name, windows in eval_sets.items():
        result[f"{name}_loss"] = evaluate(model, windows, args.batch)
    result["wall_seconds"] = round(time.time() - start)
    (args.work / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
