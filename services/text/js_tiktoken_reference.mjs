// Encodes a corpus with js-tiktoken, the reference Quarry's tokenizers are checked and measured
// against, and writes what it read and the ids it got.
//
//   node js_tiktoken_reference.mjs --encoding NAME --out FILE [--timed-seconds S]
//       [--stats FILE] --corpus DIR=BYTES [--corpus DIR=BYTES ...]
//
// Each corpus directory is walked in sorted order, and its files are taken (gzipped ones
// decompressed) until BYTES bytes have been read from it. Text is decoded from UTF-8 with
// replacement, as tiktoken's callers do, and encoded with special tokens treated as text.
//
// --out receives, per file, little-endian: u32 path length, path, u32 byte count, the bytes as
// read, u32 id count, the ids as u32. With --timed-seconds, the whole corpus is then encoded
// again and again until that much CPU time has been spent, and --stats receives
// {"bytes": encoded bytes, "cpu_seconds": CPU time of the encode calls alone}.
//
// js-tiktoken is found under $QUARRY_NPM_DIR (default /usr/local/share/quarry/npm), where
// scripts/bootstrap installs it.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';

function fail(message) {
  console.error(`js_tiktoken_reference: ${message}`);
  process.exit(2);
}

function parseArguments(argv) {
  const options = { corpus: [], timedSeconds: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) fail(`${flag} needs a value`);
    if (flag === '--encoding') options.encoding = value;
    else if (flag === '--out') options.out = value;
    else if (flag === '--stats') options.stats = value;
    else if (flag === '--timed-seconds') options.timedSeconds = Number(value);
    else if (flag === '--corpus') {
      const [directory, bytes] = value.split('=');
      options.corpus.push({ directory, maxBytes: Number(bytes) });
    } else fail(`unknown flag ${flag}`);
  }
  if (!options.encoding || !options.out || options.corpus.length === 0) {
    fail('usage: --encoding NAME --out FILE --corpus DIR=BYTES ...');
  }
  return options;
}

function sortedFiles(directory) {
  const files = [];
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) files.push(...sortedFiles(full));
    else if (entry.isFile()) files.push(full);
  }
  return files.sort();
}

function readCorpus(corpus) {
  const documents = [];
  for (const { directory, maxBytes } of corpus) {
    let taken = 0;
    for (const file of sortedFiles(directory)) {
      if (taken >= maxBytes) break;
      let bytes = fs.readFileSync(file);
      if (file.endsWith('.gz')) bytes = zlib.gunzipSync(bytes);
      documents.push({ path: file, bytes, text: new TextDecoder('utf-8').decode(bytes) });
      taken += bytes.length;
    }
  }
  return documents;
}

function u32(value) {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

function cpuSeconds() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

const options = parseArguments(process.argv.slice(2));
const npmDir = process.env.QUARRY_NPM_DIR || '/usr/local/share/quarry/npm';
const packageDir = path.join(npmDir, 'node_modules', 'js-tiktoken', 'dist');
const { Tiktoken } = await import(pathToFileURL(path.join(packageDir, 'lite.js')).href);
const ranksFile = path.join(packageDir, 'ranks', `${options.encoding}.js`);
if (!fs.existsSync(ranksFile)) fail(`no js-tiktoken ranks for ${options.encoding} in ${packageDir}`);
const { default: ranks } = await import(pathToFileURL(ranksFile).href);
const tokenizer = new Tiktoken(ranks);

const documents = readCorpus(options.corpus);
const output = fs.openSync(options.out, 'w');
for (const document of documents) {
  const ids = tokenizer.encode(document.text, [], []);
  const idBytes = Buffer.alloc(4 * ids.length);
  ids.forEach((id, i) => idBytes.writeUInt32LE(id, 4 * i));
  const pathBytes = Buffer.from(document.path);
  for (const part of [u32(pathBytes.length), pathBytes, u32(document.bytes.length),
                      document.bytes, u32(ids.length), idBytes]) {
    fs.writeSync(output, part);
  }
}
fs.closeSync(output);

if (options.timedSeconds > 0) {
  let bytes = 0;
  let spent = 0;
  while (spent < options.timedSeconds) {
    for (const document of documents) {
      const start = cpuSeconds();
      tokenizer.encode(document.text, [], []);
      spent += cpuSeconds() - start;
      bytes += document.bytes.length;
    }
  }
  const stats = JSON.stringify({ bytes, cpu_seconds: spent });
  if (options.stats) fs.writeFileSync(options.stats, stats + '\n');
  else console.log(stats);
}
