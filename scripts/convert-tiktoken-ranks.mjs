// Converts a js-tiktoken rank module (dist/ranks/NAME.js) into the tiktoken text format:
// one line per token, "base64(token bytes) rank", in rank order.
//
//   node scripts/convert-tiktoken-ranks.mjs RANKS_JS OUTPUT_FILE
//
// js-tiktoken stores `bpe_ranks` as lines "! OFFSET TOKEN TOKEN ...": the tokens of a line are
// base64 strings whose ranks run from OFFSET upward. The output is written to a temporary file
// and renamed, so a reader never sees half a table.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

function fail(message) {
  console.error(`convert-tiktoken-ranks: ${message}`);
  process.exit(1);
}

function parseRanks(bpeRanks) {
  const tokenOfRank = new Map();
  const rankOfToken = new Map();
  for (const line of bpeRanks.split('\n')) {
    if (line === '') continue;
    const [marker, offsetText, ...tokens] = line.split(' ');
    const offset = Number.parseInt(offsetText, 10);
    if (marker !== '!' || !Number.isInteger(offset) || offset < 0) {
      fail(`unexpected line start "${line.slice(0, 40)}"`);
    }
    tokens.forEach((token, i) => {
      const rank = offset + i;
      if (tokenOfRank.has(rank)) fail(`rank ${rank} appears twice`);
      if (rankOfToken.has(token)) fail(`token ${token} appears twice`);
      tokenOfRank.set(rank, token);
      rankOfToken.set(token, rank);
    });
  }
  return [...tokenOfRank.entries()].sort((a, b) => a[0] - b[0]);
}

const [ranksModule, outputFile] = process.argv.slice(2);
if (!ranksModule || !outputFile) fail('usage: convert-tiktoken-ranks.mjs RANKS_JS OUTPUT_FILE');

const { default: encoding } = await import(pathToFileURL(path.resolve(ranksModule)).href);
if (typeof encoding?.bpe_ranks !== 'string') fail(`${ranksModule} has no bpe_ranks string`);
const ranks = parseRanks(encoding.bpe_ranks);
if (ranks.length === 0) fail(`${ranksModule} holds no tokens`);

const lines = ranks.map(([rank, token]) => `${token} ${rank}\n`);
const temporary = `${outputFile}.tmp${process.pid}`;
fs.mkdirSync(path.dirname(path.resolve(outputFile)), { recursive: true });
fs.writeFileSync(temporary, lines.join(''));
fs.renameSync(temporary, outputFile);
