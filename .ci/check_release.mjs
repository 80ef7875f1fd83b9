// Reads a syllabus release with DuckDB — a Parquet reader that is not ours —
// and checks it against its manifest: every file's sha256, every Parquet
// file's row count and column names, the per-table row counts, that the
// counts reconcile, and that trainer-facing columns have the shape trainers
// read (messages as a list of {role, content}).
//
//   node .ci/check_release.mjs out/quickstart
//
// Exits non-zero, naming every problem, when anything is off.
import { DuckDBInstance } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const nameRoot = process.argv[2];
if (!nameRoot) {
  console.error('usage: node .ci/check_release.mjs <output>/<name>');
  process.exit(2);
}
const version = readFileSync(join(nameRoot, 'LATEST'), 'utf8').trim();
const root = join(nameRoot, version);
const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
const problems = [];
const fail = (msg) => problems.push(msg);

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const rows = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
const quote = (p) => `'${p.replaceAll("'", "''")}'`;

const c = manifest.counts;
const fates = c.prompts_kept + c.prompts_rejected + c.prompts_contaminated + c.prompts_duplicate + c.prompts_dead_letter;
if (fates !== c.prompts_in) fail(`counts do not reconcile: ${fates} fates for ${c.prompts_in} prompts`);

const tableRows = {};
for (const f of manifest.files) {
  const path = join(root, f.path);
  const data = readFileSync(path);
  const sha = createHash('sha256').update(data).digest('hex');
  if (sha !== f.sha256) fail(`${f.path}: sha256 ${sha} != manifest ${f.sha256}`);
  if (data.length !== f.bytes) fail(`${f.path}: ${data.length} bytes != manifest ${f.bytes}`);
  const table = f.path.split('/')[0].replace(/\.jsonl$/, '');
  let n;
  if (f.path.endsWith('.parquet')) {
    [{ n }] = await rows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${quote(path)})`);
    const cols = (await rows(`DESCRIBE SELECT * FROM read_parquet(${quote(path)})`)).map((r) => r.column_name);
    if (JSON.stringify(cols) !== JSON.stringify(f.columns)) fail(`${f.path}: DuckDB sees columns ${cols} but the manifest says ${f.columns}`);
  } else if (f.rows > 0) {
    [{ n }] = await rows(`SELECT count(*)::INTEGER AS n FROM read_json(${quote(path)}, format = 'newline_delimited')`);
  } else {
    n = data.length === 0 ? 0 : -1;
  }
  if (n !== f.rows) fail(`${f.path}: DuckDB reads ${n} rows, manifest says ${f.rows}`);
  tableRows[table] = (tableRows[table] ?? 0) + n;
}
for (const [table, key] of [['sft', 'sft_rows'], ['preference', 'preference_rows'], ['rlvr', 'rlvr_rows'], ['dead_letter', 'prompts_dead_letter']]) {
  if ((tableRows[table] ?? 0) !== c[key]) fail(`table ${table}: ${tableRows[table]} rows in files, counts.${key} = ${c[key]}`);
}

// Trainer-facing shape, read through DuckDB's glob over the shards.
if (c.sft_rows > 0) {
  const [r] = await rows(`SELECT messages[-1].role AS role, len(messages) AS turns, prompt_id FROM read_parquet(${quote(join(root, 'sft/*.parquet'))}) LIMIT 1`);
  if (r.role !== 'assistant' || r.turns < 2 || !r.prompt_id) fail(`sft rows do not end in an assistant turn: ${JSON.stringify(r)}`);
}
if (c.preference_rows > 0) {
  const [r] = await rows(`SELECT chosen[1].role AS chosen, rejected[1].role AS rejected, prompt[-1].role AS prompt FROM read_parquet(${quote(join(root, 'preference/*.parquet'))}) LIMIT 1`);
  if (r.chosen !== 'assistant' || r.rejected !== 'assistant' || r.prompt !== 'user') fail(`preference rows are not in TRL's conversational form: ${JSON.stringify(r)}`);
}

// Columns of the stage after verification: rewards are nullable doubles,
// lengths integers, the pass rate inside its Wilson interval.
if (c.sft_rows > 0) {
  const [r] = await rows(`SELECT count(*) FILTER (WHERE NOT (pass_rate_low <= pass_rate AND pass_rate <= pass_rate_high))::INTEGER AS outside,
      count(*) FILTER (WHERE response_tokens <= 0)::INTEGER AS no_length, typeof(any_value(reward)) AS reward_type
    FROM read_parquet(${quote(join(root, 'sft/*.parquet'))})`);
  if (r.outside !== 0 || r.no_length !== 0 || !['DOUBLE', 'NULL'].includes(r.reward_type)) fail(`sft curation columns: ${JSON.stringify(r)}`);
}
if (c.preference_rows > 0) {
  const [r] = await rows(`SELECT typeof(any_value(chosen_reward)) AS chosen, typeof(any_value(rejected_reward)) AS rejected, min(chosen_tokens)::INTEGER AS tokens
    FROM read_parquet(${quote(join(root, 'preference/*.parquet'))})`);
  if (!['DOUBLE', 'NULL'].includes(r.chosen) || !['DOUBLE', 'NULL'].includes(r.rejected) || !(r.tokens > 0)) fail(`preference curation columns: ${JSON.stringify(r)}`);
}
// With a reward model (manifest.reward), every SFT row is a scored best-of-N
// and every pair carries both scores.
if (manifest.reward && c.sft_rows > 0) {
  const [r] = await rows(`SELECT count(*)::INTEGER AS n, count(reward)::INTEGER AS scored FROM read_parquet(${quote(join(root, 'sft/*.parquet'))})`);
  if (r.scored !== r.n) fail(`reward model ${manifest.reward.model}: ${r.n - r.scored} of ${r.n} sft rows have no reward`);
}
if (manifest.reward && c.preference_rows > 0) {
  const [r] = await rows(`SELECT count(*)::INTEGER AS n, count(chosen_reward)::INTEGER AS chosen, count(rejected_reward)::INTEGER AS rejected FROM read_parquet(${quote(join(root, 'preference/*.parquet'))})`);
  if (r.chosen !== r.n || r.rejected !== r.n) fail(`reward model ${manifest.reward.model}: preference rows without both rewards: ${JSON.stringify(r)}`);
}
if (c.rlvr_rows > 0) {
  const [r] = await rows(`SELECT count(*) FILTER (WHERE pass_rate <= 0 OR pass_rate >= 1 OR correct > samples_drawn)::INTEGER AS bad
    FROM read_parquet(${quote(join(root, 'rlvr/*.parquet'))})`);
  if (r.bad !== 0) fail(`rlvr rows outside the default pass-rate range (0, 1): ${JSON.stringify(r)}`);
}

if (problems.length > 0) {
  console.error(`release ${root}: ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log(`release ${root}: DuckDB read ${manifest.files.length} files; ${c.prompts_in} prompts reconcile; ${c.sft_rows} sft, ${c.preference_rows} preference, ${c.rlvr_rows} rlvr rows match the manifest${manifest.reward ? `; every row scored by ${manifest.reward.model}` : ''}`);
