// Issue and verify throughput of the Digital Bazaar VC stack (@digitalbazaar/vc +
// eddsa-rdfc-2022), the peer benchmarks/bench_credentials.py measures vc-runid against.
//
// Run by bench_credentials.py as `node --input-type=module -e <this file>` with interop/js as the
// working directory, so the packages resolve from interop/js/node_modules (the versions the
// interop tests pin). Request on stdin: {credential, contextsDir, seconds, repeat}; response on
// stdout: {issue, verify} in operations per second, each the best of `repeat` runs.
//
// Same rules as our side: the contexts come from the pinned files (never the network), the
// did:key is resolved offline, each figure is measured after one warm-up call.

import {readFileSync} from 'node:fs';
import {join} from 'node:path';

import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const request = JSON.parse(readFileSync(0, 'utf8'));
const contexts = new Map();
const index = JSON.parse(readFileSync(join(request.contextsDir, 'index.json'), 'utf8'));
for(const entry of index.contexts) {
  contexts.set(entry.url, JSON.parse(readFileSync(join(request.contextsDir, entry.file), 'utf8')));
}

const key = await Ed25519Multikey.generate();
const did = `did:key:${key.publicKeyMultibase}`;
key.id = `${did}#${key.publicKeyMultibase}`;
key.controller = did;
const method = await key.export({publicKey: true, includeContext: false});
const didDocument = {
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
  id: did,
  verificationMethod: [method],
  assertionMethod: [key.id],
  authentication: [key.id]
};

async function documentLoader(url) {
  let document = contexts.get(url);
  if(url === did) {
    document = didDocument;
  } else if(url === key.id) {
    document = {'@context': 'https://w3id.org/security/multikey/v1', ...method};
  }
  if(document === undefined) {
    throw new Error(`offline loader: ${url} is not pinned`);
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
}

const credential = {...request.credential, issuer: did};

async function issue() {
  const suite = new DataIntegrityProof({signer: key.signer(), cryptosuite});
  return vc.issue({credential: structuredClone(credential), suite, documentLoader});
}

const signed = await issue();

async function verify() {
  const suite = new DataIntegrityProof({cryptosuite});
  const result = await vc.verifyCredential({credential: signed, suite, documentLoader});
  if(!result.verified) {
    throw new Error(JSON.stringify(result.error ?? result).slice(0, 500));
  }
}

async function rate(action) {
  await action();
  let best = 0;
  for(let run = 0; run < request.repeat; run++) {
    let count = 0;
    const start = performance.now();
    let elapsed = 0;
    while((elapsed = (performance.now() - start) / 1000) < request.seconds) {
      await action();
      count++;
    }
    best = Math.max(best, count / elapsed);
  }
  return best;
}

const out = {issue: await rate(issue), verify: await rate(verify)};
process.stdout.write(JSON.stringify(out) + '\n');
