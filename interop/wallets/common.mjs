// Shared by the peer bridges: the stdin/stdout protocol, the pinned contexts, and offline DID
// resolution (did:key from the key itself, every other DID only from the request's documents).
//
// Protocol: one JSON request on stdin, one JSON response on stdout.
//   exit 0  a response was produced (including {"verified": false, ...})
//   exit 2  the request itself could not be served; stdout still has {"error": "..."}.
// {"op": "batch", "requests": [...]} answers {"responses": [...]}, one per request in order (each
// inherits the batch's other fields), so a test pays a peer's start-up once; a request that
// cannot be served answers {"error": ...} in its place.
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';

export class RequestError extends Error {}

export function loadContexts({contextsDir, extraContexts}) {
  if(typeof contextsDir !== 'string' || contextsDir === '') {
    throw new RequestError('"contextsDir" (absolute path) is required.');
  }
  const index = JSON.parse(readFileSync(join(contextsDir, 'index.json'), 'utf8'));
  const contexts = new Map();
  for(const entry of index.contexts) {
    const raw = readFileSync(join(contextsDir, entry.file));
    // A silently edited context would make every interop result meaningless.
    const digest = createHash('sha256').update(raw).digest('hex');
    if(entry.sha256 && digest !== entry.sha256) {
      throw new RequestError(`context file ${entry.file} does not match its sha256`);
    }
    contexts.set(entry.url, JSON.parse(raw.toString('utf8')));
  }
  for(const [url, doc] of Object.entries(extraContexts || {})) {
    contexts.set(url, doc);
  }
  return contexts;
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58Decode(text) {
  let value = 0n;
  for(const ch of text) {
    const digit = B58.indexOf(ch);
    if(digit < 0) {
      throw new RequestError(`not base58btc: ${text}`);
    }
    value = value * 58n + BigInt(digit);
  }
  const bytes = [];
  while(value > 0n) {
    bytes.unshift(Number(value & 0xffn));
    value >>= 8n;
  }
  for(const ch of text) {
    if(ch !== '1') {
      break;
    }
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

const b64url = bytes => Buffer.from(bytes).toString('base64url');

// The public JWK of an Ed25519 did:key (multicodec 0xed01); P-256 did:keys are not needed here.
export function didKeyJwk(did) {
  const match = /^did:key:(z6Mk[1-9A-HJ-NP-Za-km-z]+)/.exec(did);
  if(!match) {
    throw new RequestError(`only Ed25519 did:key is resolved offline here, not ${did}`);
  }
  const raw = base58Decode(match[1].slice(1));
  if(raw[0] !== 0xed || raw[1] !== 0x01 || raw.length !== 34) {
    throw new RequestError(`${did} is not an Ed25519 did:key`);
  }
  return {kty: 'OKP', crv: 'Ed25519', x: b64url(raw.slice(2))};
}

export async function serve(handlers) {
  let response;
  let code = 0;
  try {
    const chunks = [];
    for await (const chunk of process.stdin) {
      chunks.push(chunk);
    }
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const handle = async one => {
      const handler = handlers[one.op];
      if(!handler) {
        throw new RequestError(`unknown op ${JSON.stringify(one.op)}`);
      }
      return handler(one);
    };
    if(request.op === 'batch') {
      const {requests, ...shared} = request;
      const responses = [];
      for(const one of requests) {
        try {
          responses.push(await handle({...shared, ...one}));
        } catch(e) {
          responses.push({error: String(e && e.stack || e)});
        }
      }
      response = {responses};
    } else {
      response = await handle(request);
    }
  } catch(e) {
    code = 2;
    response = {error: String(e && e.stack || e)};
    process.stderr.write(response.error + '\n');
  }
  process.stdout.write(JSON.stringify(response));
  process.exitCode = code;
}

// A verification failure as text: enough for a test to tell a bad signature from a set-up error.
export function describe(result) {
  const seen = new Set();
  const walk = value => {
    if(value === null || value === undefined || seen.has(value)) {
      return '';
    }
    if(typeof value !== 'object') {
      return String(value);
    }
    seen.add(value);
    if(value instanceof Error) {
      return `${value.name}: ${value.message}` + (value.errors ? ' ' + walk(value.errors) : '');
    }
    return Object.entries(value).map(([k, v]) => `${k}=${walk(v)}`).join('; ');
  };
  return walk(result).slice(0, 2000);
}
