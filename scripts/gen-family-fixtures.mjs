// Makes the tokenizer-family fixtures of testdata/tokenizers/families: a
// real tokenizer.json cut to its first merges (the normalizer, pre-tokenizer
// and added tokens kept as they are), and the ids Hugging Face tokenizers
// gives for a set of texts with it.
//
//	cd ../shared/oracle/tok && npm ci     # @anush008/tokenizers: HF tokenizers 0.22.2
//	NODE_PATH=../shared/oracle/tok/node_modules node scripts/gen-family-fixtures.mjs \
//	    FULL_TOKENIZER.json NAME MERGES TEXTS.jsonl...
//
// writes testdata/tokenizers/families/NAME.tokenizer.json, NAME.golden.jsonl.gz
// (the ids of each text, {"ids": [...]} per line) and texts.jsonl.gz (the
// texts, shared by all the families there: give each the same TEXTS).
// TEXTS are {"text": ...} lines. Without cutting (MERGES 0) only the golden
// set is written, with its texts, beside the full tokenizer, for
// $AGENTTRACE_FAMILIES.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');

const [full, name, mergesArg, ...textFiles] = process.argv.slice(2);
if (!full || !name || mergesArg === undefined || textFiles.length === 0) {
  console.error('usage: gen-family-fixtures.mjs FULL_TOKENIZER.json NAME MERGES TEXTS.jsonl...');
  process.exit(2);
}
const keep = Number(mergesArg);
const outDir = keep > 0 ? 'testdata/tokenizers/families' : path.dirname(full);
let tokPath = full;

if (keep > 0) {
  const tj = JSON.parse(fs.readFileSync(full, 'utf8'));
  const vocab = tj.model.vocab;
  const pair = (m) => (Array.isArray(m) ? m : m.split(' '));
  const merges = tj.model.merges.slice(0, keep).map(pair);
  // The 256 byte-level characters, the parts and results of the kept merges.
  const need = new Set();
  for (let b = 0; b < 256; b++) need.add(byteLevel(b));
  // SentencePiece-style: every single character, the byte-fallback tokens
  // and the unknown token stay.
  for (const t of Object.keys(vocab)) {
    if ([...t].length === 1 || /^<0x[0-9A-F]{2}>$/.test(t) || t === tj.model.unk_token) need.add(t);
  }
  for (const [a, b] of merges) {
    need.add(a);
    need.add(b);
    need.add(a + b);
  }
  const addedKept = (tj.added_tokens || []).slice(0, 8);
  for (const a of addedKept) need.add(a.content); // kept if the vocabulary has it
  const kept = Object.entries(vocab).filter(([t]) => need.has(t)).sort((x, y) => x[1] - y[1]);
  const newVocab = {};
  kept.forEach(([t], i) => (newVocab[t] = i));
  let next = kept.length;
  const added = addedKept.map((a) => ({ ...a, id: a.content in newVocab ? newVocab[a.content] : next++ }));
  tj.model.vocab = newVocab;
  tj.model.merges = merges.map(([a, b]) => `${a} ${b}`);
  tj.added_tokens = added;
  tj.post_processor = null;
  tokPath = path.join(outDir, `${name}.tokenizer.json`);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(tokPath, JSON.stringify(tj));
}

const tok = Tokenizer.fromFile(tokPath);
const lines = [];
for (const f of textFiles) {
  for (const l of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!l) continue;
    const text = JSON.parse(l).text;
    const enc = await tok.encode(text, null, { addSpecialTokens: false });
    lines.push(JSON.stringify({ text, ids: Array.from(enc.getIds()) }));
  }
}
const golden = path.join(outDir, `${name}.golden.jsonl.gz`);
if (keep > 0) {
  // The texts are shared by every family of the folder: texts.jsonl.gz
  // holds them once, and each golden line holds only its ids.
  const textsPath = path.join(outDir, 'texts.jsonl.gz');
  const texts = lines.map((l) => JSON.stringify({ text: JSON.parse(l).text })).join('\n') + '\n';
  if (fs.existsSync(textsPath) && zlib.gunzipSync(fs.readFileSync(textsPath)).toString() !== texts) {
    console.error(`${textsPath} holds other texts: make every family of the folder from the same TEXTS`);
    process.exit(1);
  }
  fs.writeFileSync(textsPath, zlib.gzipSync(texts, { level: 9 }));
  const ids = lines.map((l) => JSON.stringify({ ids: JSON.parse(l).ids }));
  fs.writeFileSync(golden, zlib.gzipSync(ids.join('\n') + '\n', { level: 9 }));
} else {
  fs.writeFileSync(golden, zlib.gzipSync(lines.join('\n') + '\n', { level: 9 }));
}
console.error(`${golden}: ${lines.length} texts`);

// byteLevel is GPT-2's printable stand-in for byte b.
function byteLevel(b) {
  const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  if (printable) return String.fromCodePoint(b);
  let n = 0;
  for (let c = 0; c < b; c++) {
    if (!((c >= 0x21 && c <= 0x7e) || (c >= 0xa1 && c <= 0xac) || (c >= 0xae && c <= 0xff))) n++;
  }
  return String.fromCodePoint(256 + n);
}
