// An independent verifier of a Musharaka audit bundle, written from the published rules with nothing but Node's
// standard library: the manifest's seal and file digests, each chain's links, every event's JCS hash and its
// engine signature by a key the engine held (from the trusted fingerprint, through the recorded rotations),
// and the legacy part a signed `log.reanchored` vouches for.
//
// Usage: node verify_bundle.mjs BUNDLE [--engine FINGERPRINT]
//        node verify_bundle.mjs --vectors jcs_vectors.json   (the published test vectors, recomputed)
// Prints one line per problem ("<chain> event <seq>: ..."), then "ok" or "N problem(s)"; exits 0 or 1.
// It checks the log's integrity and signatures; what the events say (decisions against the registry, rows
// against their digests) is left to `musharaka audit verify --bundle`.

import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

// RFC 8785 for the values an event holds (strings, integers within 2^53, finite numbers, booleans, null):
// ECMAScript's JSON.stringify, with object keys sorted by UTF-16 code units (JavaScript's default sort).
function jcs(value) {
  if (Array.isArray(value)) return `[${value.map(jcs).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const fingerprint = (publicText) => sha256(Buffer.from(publicText, "utf8"));

function publicKey(text) {
  if (!text.startsWith("ed25519:")) throw new Error("not an ed25519 key");
  const raw = Buffer.from(text.slice("ed25519:".length), "base64");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
}

function signed(publicText, message, signature) {
  try {
    return verify(null, message, publicKey(publicText), Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

// The hash of an event in the JCS form: SHA-256 of the JCS of one envelope object, its payload as an object.
function eventHash(e) {
  const envelope = {
    campaign: e.campaign_id,
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    type: e.type,
    prev: e.prev_hash,
    payload: JSON.parse(e.payload),
  };
  return sha256(Buffer.from(jcs(envelope), "utf8"));
}

// The hash of an event written before the re-anchoring: the JSON array header, a newline, the payload text.
function legacyHash(e) {
  const header = JSON.stringify([e.campaign_id, e.seq, e.at, e.actor, e.type, e.prev_hash]);
  return sha256(Buffer.from(`${header}\n${e.payload}`, "utf8"));
}

const hashSigned = (publicText, hash, signature) => signed(publicText, Buffer.from(hash, "hex"), signature);

function filesUnder(root) {
  const found = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else found.push(relative(root, path));
    }
  };
  walk(root);
  return found.sort();
}

function main() {
  const [folder, ...rest] = process.argv.slice(2);
  const pinned = rest[0] === "--engine" ? rest[1] : null;
  const problems = [];
  const manifest = JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8"));
  const { signature, ...body } = manifest;
  if (!signed(body.public_key, Buffer.from(jcs(body), "utf8"), signature)) {
    return ["manifest.json: its signature does not verify"];
  }
  const actual = Object.fromEntries(
    filesUnder(folder)
      .filter((name) => name !== "manifest.json")
      .map((name) => [name, sha256(readFileSync(join(folder, name)))]),
  );
  for (const name of [...new Set([...Object.keys(body.files), ...Object.keys(actual)])].sort()) {
    if (!(name in actual)) problems.push(`${name}: listed in the manifest but missing`);
    else if (!(name in body.files)) problems.push(`${name}: not in the manifest`);
    else if (actual[name] !== body.files[name]) problems.push(`${name}: its bytes differ from the manifest`);
  }
  if (problems.length) return problems;

  const events = readFileSync(join(folder, "events.jsonl"), "utf8").split("\n").filter(Boolean).map(JSON.parse);
  const chains = new Map();
  for (const e of events) {
    if (!chains.has(e.campaign_id)) chains.set(e.campaign_id, []);
    chains.get(e.campaign_id).push(e);
  }
  for (const chain of chains.values()) chain.sort((a, b) => a.seq - b.seq);

  // the engine's keys: the first one, then one more per rotation signed by the old key and proven by the new
  const trusted = pinned ?? fingerprint(body.public_key);
  const held = [];
  let broken = null;
  for (const e of chains.get("_engine") ?? []) {
    const p = JSON.parse(e.payload);
    const current = held.length ? held[held.length - 1].key : p.previous;
    const proof = Buffer.from(jcs({ engine_key_rotation: { previous: p.previous, public_key: p.public_key } }), "utf8");
    if (
      e.type !== "engine.key-rotated" ||
      eventHash(e) !== e.hash ||
      p.previous !== current ||
      e.engine_key !== current ||
      !hashSigned(current, e.hash, e.engine_signature) ||
      !signed(p.public_key, proof, p.proof)
    ) {
      broken = `_engine event ${e.seq}: not a rotation signed by the key it retires and the key it brings`;
      break;
    }
    if (!held.length) held.push({ key: current, since: null, until: null });
    held[held.length - 1].until = e.at;
    held.push({ key: p.public_key, since: e.at, until: null });
  }
  const keyProblem = (key, at) => {
    const known = held.map((k) => fingerprint(k.key));
    if (known.length && !known.includes(trusted)) return `the trusted engine key ${trusted} is not the log's`;
    if (!held.length) return fingerprint(key) === trusted ? null : `signed by key ${fingerprint(key)}, not the engine's`;
    const k = held.find((h) => h.key === key);
    if (!k) return `signed by key ${fingerprint(key)}, not the engine's`;
    // the times are the same fixed-width UTC text (2025-06-15T05:00:00.000000Z): they compare as strings
    if ((k.since !== null && at < k.since) || (k.until !== null && at > k.until)) return "signed by a retired key";
    return null;
  };

  for (const [name, chain] of [...chains.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (name === "_engine" && broken) {
      problems.push(broken);
      continue;
    }
    const anchor = chain.find((e) => e.type === "log.reanchored");
    const legacy = anchor ? anchor.seq - 1 : 0;
    let prev = "0".repeat(64);
    let expected = 1;
    for (const e of chain) {
      const where = `${name} event ${e.seq}`;
      let problem = null;
      if (e.seq !== expected) problem = `${name} event ${expected}: missing or out of order`;
      else if (e.prev_hash !== prev) problem = `${where}: does not link to the event before it`;
      else if (e.seq <= legacy) {
        if (legacyHash(e) !== e.hash) problem = `${where}: does not match its (legacy) hash`;
      } else {
        let recomputed = null;
        try {
          recomputed = eventHash(e);
        } catch {
          recomputed = null;
        }
        if (recomputed !== e.hash) problem = `${where}: does not match its hash`;
        else if (jcs(JSON.parse(e.payload)) !== e.payload) problem = `${where}: its payload is not stored in JCS`;
        else if (!e.engine_signature) problem = `${where}: carries no engine signature`;
        else {
          const why = keyProblem(e.engine_key, e.at);
          if (why) problem = `${where}: ${why}`;
          else if (!hashSigned(e.engine_key, e.hash, e.engine_signature)) {
            problem = `${where}: its engine signature does not verify`;
          } else if (e.person_signature) {
            const s = JSON.parse(e.person_signature);
            if (s.person !== e.actor || !hashSigned(s.public_key, e.hash, s.signature)) {
              problem = `${where}: its person signature does not verify`;
            }
          }
        }
        if (!problem && e.type === "log.reanchored") {
          const p = JSON.parse(e.payload);
          if (p.legacy_events !== e.seq - 1 || p.legacy_head !== e.prev_hash || e !== anchor) {
            problem = `${where}: a re-anchoring that does not close the legacy part`;
          }
        }
      }
      if (problem) {
        problems.push(problem);
        break;
      }
      prev = e.hash;
      expected = e.seq + 1;
    }
  }
  const heads = JSON.parse(readFileSync(join(folder, "heads.json"), "utf8"));
  for (const [name, chain] of chains) {
    const last = chain[chain.length - 1];
    const stated = heads[name];
    if (!stated || stated[0] !== last.seq || stated[1] !== last.hash) problems.push(`heads.json: ${name} differs`);
  }
  if (Object.keys(heads).length !== chains.size) problems.push("heads.json: names other chains");
  return problems;
}

// The published vectors: each event's JCS bytes, SHA-256 and engine signature, recomputed here.
function vectors(path) {
  const doc = JSON.parse(readFileSync(path, "utf8"));
  const problems = [];
  if (fingerprint(doc.engine_key) !== doc.engine_fingerprint) problems.push("the fingerprint differs");
  for (const v of doc.events) {
    const e = { ...v, campaign_id: v.campaign, prev_hash: v.prev, payload: JSON.stringify(v.payload) };
    const text = jcs({ campaign: v.campaign, seq: v.seq, at: v.at, actor: v.actor, type: v.type, prev: v.prev, payload: v.payload });
    if (text !== v.jcs) problems.push(`vector ${v.seq}: JCS differs: ${text}`);
    if (eventHash(e) !== v.sha256) problems.push(`vector ${v.seq}: SHA-256 differs`);
    if (!hashSigned(doc.engine_key, v.sha256, v.engine_signature)) problems.push(`vector ${v.seq}: signature fails`);
  }
  return problems;
}

const problems = process.argv[2] === "--vectors" ? vectors(process.argv[3]) : main();
for (const problem of problems) console.log(problem);
console.log(problems.length ? `${problems.length} problem(s)` : "ok");
process.exit(problems.length ? 1 : 0);
