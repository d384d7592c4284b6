#!/usr/bin/env python3
"""Writes the tiny BERT-shaped test model of package onnxenc into tiny_bert/.

    /usr/bin/python3 make_tiny_bert.py   # needs Debian's python3-onnx and python3-numpy

tiny_bert/ holds what a Hugging Face export holds (model.onnx, tokenizer.json,
config.json) with random weights: vocab 120, hidden 32, 2 layers, 2 heads,
intermediate 64, post-LayerNorm BERT with Erf-GELU and masked softmax
attention, opset 14, written with the same op patterns as a transformers
export (Shape/Gather/Unsqueeze/Concat for the reshapes, Range for positions,
decomposed LayerNorm).

hardmax.onnx is a model with an op onnx-gomlx lacks (the error test).

reference.json holds the token ids of a few sentences and their [CLS] and
mean-pooled, L2-normalised embeddings, computed by a separate numpy
implementation of the same network (not by running the ONNX graph, and not
by GoMLX), and token ids from a separate WordPiece implementation: the Go
test checks the tokenizer, the ONNX conversion and the pooling against them.
Deterministic (seeded); rerun to regenerate.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tiny_bert")
HIDDEN, LAYERS, HEADS, INTER, MAXPOS = 32, 2, 2, 64, 64
HEAD_DIM = HIDDEN // HEADS
EPS = 1e-12

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ("the a an of to in is and what which how many who when where why "
         "solve find compute value number sum answer question code python "
         "function return list print write math two three four five ten "
         "x y z if then else for while true false").split()
PIECES = ["##s", "##ed", "##ing", "##er", "##ly", "##e", "##d", "##t"]
CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789") + list("?.,!+-*/=()")
VOCAB = list(dict.fromkeys(SPECIALS + WORDS + PIECES + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"] + CHARS))
V = len(VOCAB)
IDS = {t: i for i, t in enumerate(VOCAB)}

SENTENCES = [
    "What is the sum of two and three?",
    "Write a python function to return the list.",
    "Solve for x: 2x + 3 = 11",
    "Which answer is true?",
    "How many numbers between ten and twenty are prime, and why?",
    "Ünïcödé Words, QUESTIONS & unknown-tokens!",
]
TRUNC_LEN = 8  # the left-truncation case: max_len=8 keeps [CLS] + the last 6 pieces + [SEP]


def wordpiece(text):
    """BERT's basic tokenizer (lowercase, strip accents, split on whitespace
    and punctuation) then greedy longest-match WordPiece; [UNK] for a word
    that does not split (the tokenizer.json below says the same)."""
    import unicodedata
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    words, cur = [], ""
    for c in text:
        if c.isspace():
            if cur:
                words.append(cur)
            cur = ""
        elif unicodedata.category(c).startswith("P") or (33 <= ord(c) <= 47 or 58 <= ord(c) <= 64 or
                                                         91 <= ord(c) <= 96 or 123 <= ord(c) <= 126):
            if cur:
                words.append(cur)
            words.append(c)
            cur = ""
        else:
            cur += c
    if cur:
        words.append(cur)
    ids = []
    for w in words:
        start, pieces = 0, []
        while start < len(w):
            end, found = len(w), None
            while end > start:
                sub = w[start:end] if start == 0 else "##" + w[start:end]
                if sub in IDS:
                    found = sub
                    break
                end -= 1
            if found is None:
                pieces = [IDS["[UNK]"]]
                break
            pieces.append(IDS[found])
            start = end
        ids.extend(pieces)
    return [IDS["[CLS]"]] + ids + [IDS["[SEP]"]]


def weights(rng):
    w = {}
    def n(name, *shape, std=0.3):
        w[name] = (rng.standard_normal(shape) * std).astype(np.float32)
    n("embeddings.word_embeddings.weight", V, HIDDEN, std=0.5)
    n("embeddings.position_embeddings.weight", MAXPOS, HIDDEN, std=0.5)
    n("embeddings.token_type_embeddings.weight", 2, HIDDEN, std=0.5)
    n("embeddings.LayerNorm.weight", HIDDEN, std=0.1); w["embeddings.LayerNorm.weight"] += 1
    n("embeddings.LayerNorm.bias", HIDDEN, std=0.1)
    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        for m in ("query", "key", "value"):
            n(p + f"attention.self.{m}.weight", HIDDEN, HIDDEN)
            n(p + f"attention.self.{m}.bias", HIDDEN, std=0.1)
        n(p + "attention.output.dense.weight", HIDDEN, HIDDEN)
        n(p + "attention.output.dense.bias", HIDDEN, std=0.1)
        n(p + "attention.output.LayerNorm.weight", HIDDEN, std=0.1); w[p + "attention.output.LayerNorm.weight"] += 1
        n(p + "attention.output.LayerNorm.bias", HIDDEN, std=0.1)
        n(p + "intermediate.dense.weight", HIDDEN, INTER)
        n(p + "intermediate.dense.bias", INTER, std=0.1)
        n(p + "output.dense.weight", INTER, HIDDEN, std=0.2)
        n(p + "output.dense.bias", HIDDEN, std=0.1)
        n(p + "output.LayerNorm.weight", HIDDEN, std=0.1); w[p + "output.LayerNorm.weight"] += 1
        n(p + "output.LayerNorm.bias", HIDDEN, std=0.1)
    return w


# ---- the independent numpy forward pass (float64) ----

def np_layernorm(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * g + b


def np_forward(w, ids):
    from math import erf
    W = {k: v.astype(np.float64) for k, v in w.items()}
    ids = np.asarray(ids)
    S = len(ids)
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:S] \
        + W["embeddings.token_type_embeddings.weight"][0]
    x = np_layernorm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
    verf = np.vectorize(erf)
    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        def lin(h, name):
            return h @ W[p + name + ".weight"] + W[p + name + ".bias"]
        q = lin(x, "attention.self.query").reshape(S, HEADS, HEAD_DIM).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(S, HEADS, HEAD_DIM).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(S, HEADS, HEAD_DIM).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(HEAD_DIM)
        s = np.exp(s - s.max(-1, keepdims=True))
        a = s / s.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(1, 0, 2).reshape(S, HIDDEN)
        x = np_layernorm(lin(ctx, "attention.output.dense") + x,
                         W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"])
        h = lin(x, "intermediate.dense")
        h = 0.5 * h * (1 + verf(h / np.sqrt(2)))
        x = np_layernorm(lin(h, "output.dense") + x, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"])
    return x


def l2(v):
    return (v / np.linalg.norm(v)).tolist()


# ---- the ONNX graph ----

class G:
    def __init__(self):
        self.nodes, self.inits, self.k = [], [], 0

    def name(self, hint):
        self.k += 1
        return f"/{hint}_{self.k}"

    def op(self, op, inputs, hint=None, **attrs):
        out = self.name(hint or op)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out + "_node", **attrs))
        return out

    def const(self, value, hint="const"):
        arr = np.asarray(value)
        out = self.name(hint)
        self.nodes.append(helper.make_node("Constant", [], [out], name=out + "_node",
                                           value=numpy_helper.from_array(arr, out + "_value")))
        return out

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(arr, name))
        return name


def layernorm(g, x, gamma, beta):
    mu = g.op("ReduceMean", [x], axes=[-1], keepdims=1)
    d = g.op("Sub", [x, mu])
    var = g.op("ReduceMean", [g.op("Pow", [d, g.const(np.float32(2))])], axes=[-1], keepdims=1)
    den = g.op("Sqrt", [g.op("Add", [var, g.const(np.float32(EPS))])])
    return g.op("Add", [g.op("Mul", [g.op("Div", [d, den]), gamma]), beta])


def build_onnx(w):
    g = G()
    for k, v in w.items():
        g.init(k, v)
    ids, mask, tt = "input_ids", "attention_mask", "token_type_ids"
    shape = g.op("Shape", [ids])
    batch = g.op("Unsqueeze", [g.op("Gather", [shape, g.const(np.int64(0))], axis=0), g.const(np.array([0], np.int64))])
    seq = g.op("Gather", [shape, g.const(np.int64(1))], axis=0)
    pos = g.op("Unsqueeze", [g.op("Range", [g.const(np.int64(0)), seq, g.const(np.int64(1))]),
                             g.const(np.array([0], np.int64))])
    x = g.op("Add", [g.op("Gather", ["embeddings.word_embeddings.weight", ids], axis=0),
                     g.op("Gather", ["embeddings.position_embeddings.weight", pos], axis=0)])
    x = g.op("Add", [x, g.op("Gather", ["embeddings.token_type_embeddings.weight", tt], axis=0)])
    x = layernorm(g, x, "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias")
    # Extended mask [B, 1, 1, S]: 0 where attended, the float32 minimum elsewhere.
    m = g.op("Cast", [g.op("Unsqueeze", [mask, g.const(np.array([1, 2], np.int64))])], to=TensorProto.FLOAT)
    m = g.op("Mul", [g.op("Sub", [g.const(np.float32(1)), m]), g.const(np.float32(np.finfo(np.float32).min))])
    seq1 = g.op("Unsqueeze", [seq, g.const(np.array([0], np.int64))])
    split_shape = g.op("Concat", [batch, seq1, g.const(np.array([HEADS, HEAD_DIM], np.int64))], axis=0)
    merge_shape = g.op("Concat", [batch, seq1, g.const(np.array([HIDDEN], np.int64))], axis=0)
    scale = g.const(np.float32(np.sqrt(HEAD_DIM)))
    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        def lin(h, name):
            return g.op("Add", [g.op("MatMul", [h, p + name + ".weight"]), p + name + ".bias"])
        def heads(h, perm):
            return g.op("Transpose", [g.op("Reshape", [h, split_shape])], perm=perm)
        q = heads(lin(x, "attention.self.query"), [0, 2, 1, 3])
        k = heads(lin(x, "attention.self.key"), [0, 2, 3, 1])
        v = heads(lin(x, "attention.self.value"), [0, 2, 1, 3])
        s = g.op("Add", [g.op("Div", [g.op("MatMul", [q, k]), scale]), m])
        a = g.op("Softmax", [s], axis=-1)
        ctx = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [a, v])], perm=[0, 2, 1, 3]), merge_shape])
        x = layernorm(g, g.op("Add", [lin(ctx, "attention.output.dense"), x]),
                      p + "attention.output.LayerNorm.weight", p + "attention.output.LayerNorm.bias")
        h = lin(x, "intermediate.dense")
        h = g.op("Mul", [g.op("Mul", [h, g.op("Add", [g.op("Erf", [g.op("Div", [h, g.const(np.float32(np.sqrt(2)))])]),
                                                      g.const(np.float32(1))])]), g.const(np.float32(0.5))])
        x = layernorm(g, g.op("Add", [lin(h, "output.dense"), x]),
                      p + "output.LayerNorm.weight", p + "output.LayerNorm.bias")
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="/output_node"))
    dyn = ["batch_size", "sequence_length"]
    graph = helper.make_graph(
        g.nodes, "tiny_bert",
        [helper.make_tensor_value_info(n, TensorProto.INT64, dyn) for n in (ids, mask, tt)],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, dyn + [HIDDEN])],
        initializer=g.inits)
    model = helper.make_model(graph, producer_name="routerdc-go make_tiny_bert.py",
                              opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def tokenizer_json():
    specials = [{"id": IDS[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True} for t in SPECIALS]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": specials,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [IDS[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": IDS},
    }


def unsupported_model():
    """A valid ONNX encoder whose output goes through Hardmax, an op
    onnx-gomlx v0.5.5 does not convert: the error test's model."""
    w = np.random.default_rng(1).standard_normal((V, HIDDEN)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["emb", "input_ids"], ["h"], axis=0),
             helper.make_node("Hardmax", ["h"], ["last_hidden_state"], axis=-1)]
    dyn = ["batch_size", "sequence_length"]
    graph = helper.make_graph(
        nodes, "unsupported",
        [helper.make_tensor_value_info(n, TensorProto.INT64, dyn) for n in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, dyn + [HIDDEN])],
        initializer=[numpy_helper.from_array(w, "emb")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    os.makedirs(OUT, exist_ok=True)
    w = weights(np.random.default_rng(20240607))
    onnx.save(build_onnx(w), os.path.join(OUT, "model.onnx"))
    with open(os.path.join(OUT, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(), f, indent=1, ensure_ascii=False)
    config = {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": HIDDEN,
              "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": INTER,
              "max_position_embeddings": MAXPOS, "vocab_size": V, "type_vocab_size": 2,
              "hidden_act": "gelu", "layer_norm_eps": EPS, "note": "random weights, test model of routerdc-go"}
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    onnx.save(unsupported_model(), os.path.join(HERE, "hardmax.onnx"))
    ref = {"hidden": HIDDEN, "trunc_len": TRUNC_LEN, "sentences": []}
    for s in SENTENCES:
        ids = wordpiece(s)
        tids = ids if len(ids) <= TRUNC_LEN else ids[:1] + ids[len(ids) - TRUNC_LEN + 1:]
        h, ht = np_forward(w, ids), np_forward(w, tids)
        ref["sentences"].append({"text": s, "ids": ids, "cls": l2(h[0]), "mean": l2(h.mean(0)),
                                 "trunc_ids": tids, "trunc_cls": l2(ht[0])})
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
