#!/usr/bin/env node
// Offline bridge to the Digital Bazaar VC stack, used by the vc-runid test
// suite as an independent issuer/verifier for `eddsa-rdfc-2022` and
// `eddsa-jcs-2022` proofs.
//
// Protocol: one JSON request on stdin, one JSON response on stdout.
//   exit 0  a response was produced (including {"verified": false, ...})
//   exit 2  the request itself could not be served (bad JSON, unknown op,
//           issuance failed); stdout still carries {"error": "..."} and the
//           message is repeated on stderr.
//
// Operations (every request also carries "contextsDir" and, optionally,
// "extraContexts": {url: document}):
//   verifyCredential   {credential}                 -> {verified, error}
//   issueCredential    {credential, publicKeyMultibase, secretKeyMultibase,
//                       created?, cryptosuite?}     -> {verifiableCredential}
//                      (cryptosuite: "eddsa-rdfc-2022" (default) or
//                       "eddsa-jcs-2022"; verification accepts either)
//   verifyPresentation {presentation, challenge, domain?}
//                                                   -> {verified, error}
//   issuePresentation  {presentation, challenge, domain?, keys, created?}
//                                                   -> {verifiablePresentation}
// Optional verification knobs:
//   "now": ISO date used for validFrom/validUntil checks (default: clock)
//   "checkIssuer": false  -- only require the key to be an assertionMethod of
//                            its controller, not that issuer == controller
//   "ignoreStatus": true  -- accept credentials carrying credentialStatus
//                            without checking it
//
// The document loader never touches the network: it serves the pinned
// contexts listed in <contextsDir>/index.json, the request's extraContexts,
// and did:key documents derived from the key itself. Anything else is an
// error that names the URL, so a test can tell "unknown context" apart from
// "bad signature".

import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';

import * as vc from '@digitalbazaar/vc';
import jsigs from 'jsonld-signatures';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {
  cryptosuite as eddsaRdfc2022CryptoSuite
} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {
  createSignCryptosuite as createJcsSignCryptosuite,
  createVerifyCryptosuite as createJcsVerifyCryptosuite
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';

const DID_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';
// did:key with an Ed25519 public key: multibase base58btc ('z') of the
// multicodec ed25519-pub prefix (0xed01) always renders as "z6Mk".
const ED25519_DID_KEY = /^did:key:(z6Mk[1-9A-HJ-NP-Za-km-z]+)(?:#(.+))?$/;

class RequestError extends Error {}

// ---------------------------------------------------------------------------
// Document loader
// ---------------------------------------------------------------------------

function loadContextIndex(contextsDir) {
  if(typeof contextsDir !== 'string' || contextsDir === '') {
    throw new RequestError('"contextsDir" (absolute path) is required.');
  }
  const index = JSON.parse(readFileSync(join(contextsDir, 'index.json'), 'utf8'));
  const contexts = new Map();
  for(const entry of index.contexts) {
    const raw = readFileSync(join(contextsDir, entry.file));
    // The index pins each file by digest; a silently edited context would
    // make every interop result meaningless, so refuse to start instead.
    const digest = createHash('sha256').update(raw).digest('hex');
    if(entry.sha256 && digest !== entry.sha256) {
      throw new RequestError(
        `Context file "${entry.file}" for ${entry.url} does not match ` +
        `its sha256 in index.json.`);
    }
    contexts.set(entry.url, JSON.parse(raw.toString('utf8')));
  }
  return contexts;
}

// Builds the DID document (or one verification method of it) for an Ed25519
// did:key, following the did:key method's single-key expansion.
async function resolveDidKey(url) {
  const match = ED25519_DID_KEY.exec(url);
  if(!match) {
    return null;
  }
  const [, publicKeyMultibase, fragment] = match;
  const did = `did:key:${publicKeyMultibase}`;
  const vmId = `${did}#${publicKeyMultibase}`;
  if(fragment !== undefined && fragment !== publicKeyMultibase) {
    throw new Error(`Unknown verification method "${url}" (offline loader).`);
  }
  // Decoding through ed25519-multikey validates the multicodec header and
  // key length, so a malformed did:key fails here rather than at signing.
  const key = await Ed25519Multikey.from({
    type: 'Multikey', id: vmId, controller: did, publicKeyMultibase
  });
  const method = await key.export({publicKey: true, includeContext: false});
  if(fragment !== undefined) {
    return {'@context': MULTIKEY_V1, ...method};
  }
  return {
    '@context': [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: [method],
    assertionMethod: [vmId],
    authentication: [vmId],
    capabilityInvocation: [vmId],
    capabilityDelegation: [vmId]
  };
}

function makeDocumentLoader({contextsDir, extraContexts}) {
  const contexts = loadContextIndex(contextsDir);
  for(const [url, doc] of Object.entries(extraContexts || {})) {
    contexts.set(url, doc);
  }
  return async function documentLoader(url) {
    let document = contexts.get(url);
    if(document === undefined && url.startsWith('did:key:')) {
      document = await resolveDidKey(url);
    }
    if(document === undefined || document === null) {
      throw new Error(
        `Document loader refused "${url}": not a pinned context, ` +
        'extraContext or Ed25519 did:key (offline loader, no network).');
    }
    // Hand out a copy: jsonld caches and some callers mutate.
    return {
      contextUrl: null,
      documentUrl: url,
      document: structuredClone(document)
    };
  };
}

// ---------------------------------------------------------------------------
// Suites and helpers
// ---------------------------------------------------------------------------

// The JCS cryptosuite comes in a signing and a verifying variant.
const CRYPTOSUITES = {
  'eddsa-rdfc-2022': {sign: eddsaRdfc2022CryptoSuite, verify: eddsaRdfc2022CryptoSuite},
  'eddsa-jcs-2022': {
    sign: createJcsSignCryptosuite(), verify: createJcsVerifyCryptosuite()
  }
};

function verifySuite() {
  // jsonld-signatures matches each proof to the suite of its cryptosuite.
  return Object.values(CRYPTOSUITES).map(
    ({verify}) => new DataIntegrityProof({cryptosuite: verify}));
}

async function signingSuite(request) {
  const {publicKeyMultibase, secretKeyMultibase, created} = request;
  const cryptosuite =
    CRYPTOSUITES[request.cryptosuite ?? 'eddsa-rdfc-2022']?.sign;
  if(!cryptosuite) {
    throw new RequestError(
      `Unknown "cryptosuite" ${JSON.stringify(request.cryptosuite)}; ` +
      `expected one of ${Object.keys(CRYPTOSUITES).join(', ')}.`);
  }
  if(!publicKeyMultibase || !secretKeyMultibase) {
    throw new RequestError(
      '"publicKeyMultibase" and "secretKeyMultibase" are required.');
  }
  const did = `did:key:${publicKeyMultibase}`;
  const keyPair = await Ed25519Multikey.from({
    type: 'Multikey',
    id: `${did}#${publicKeyMultibase}`,
    controller: did,
    publicKeyMultibase,
    secretKeyMultibase
  });
  // ed25519-multikey trusts that the two halves belong together; a mismatch
  // would yield a proof that names one key and is signed by another.
  const seed = keyPair.secretKey.subarray(0, 32);
  const derived = await Ed25519Multikey.generate({seed});
  if(derived.publicKeyMultibase !== publicKeyMultibase) {
    throw new RequestError(
      '"secretKeyMultibase" does not belong to "publicKeyMultibase".');
  }
  return new DataIntegrityProof({
    signer: keyPair.signer(),
    // undefined lets the suite use the current time
    date: created ?? undefined,
    cryptosuite
  });
}

// Flattens an error tree (VerificationError.errors, Error.cause) into one
// short line of distinct messages.
function summarize(error) {
  const messages = [];
  const seen = new Set();
  const walk = (err, depth) => {
    if(!err || depth > 8 || seen.has(err)) {
      return;
    }
    seen.add(err);
    if(typeof err === 'string') {
      messages.push(err);
      return;
    }
    if(Array.isArray(err)) {
      err.forEach(e => walk(e, depth + 1));
      return;
    }
    const nested = Array.isArray(err.errors) ? err.errors : [];
    // VerificationError's own message is just "Verification error(s).";
    // the nested ones say what actually failed.
    if(err.message && !(nested.length > 0 && err.name === 'VerificationError')) {
      messages.push(err.message);
    }
    nested.forEach(e => walk(e, depth + 1));
    walk(err.cause, depth + 1);
    // jsonld.js wraps loader failures as JsonLdError{details: {cause}}
    walk(err.details?.cause, depth + 1);
  };
  walk(error, 0);
  const unique = [...new Set(messages)];
  return unique.length > 0 ? unique.join('; ') : 'unknown error';
}

function requireObject(request, name) {
  const value = request[name];
  if(!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new RequestError(`"${name}" must be a JSON object.`);
  }
  // never mutate the caller's object: signing adds proof and maybe @context
  return structuredClone(value);
}

// Collects every error of a presentation result: the VP proof and each
// enclosed credential.
function presentationErrors(result) {
  const errors = [];
  if(result.error) {
    errors.push(result.error);
  }
  for(const [i, cred] of (result.credentialResults || []).entries()) {
    if(!cred.verified) {
      const label = `verifiableCredential[${i}]` +
        (cred.credentialId ? ` (${cred.credentialId})` : '');
      errors.push(`${label}: ${summarize(cred.error ?? cred.results)}`);
    }
  }
  return errors;
}

// vc's default CredentialIssuancePurpose additionally requires the
// credential's `issuer` to equal the verification method's controller. The
// W3C test vectors do not satisfy that (issuer is an https URL, the key is a
// did:key), so callers may ask for the plain assertionMethod check, which
// still requires the key to be listed under the controller's assertionMethod.
function credentialPurposeFor(request) {
  if(request.checkIssuer === false) {
    return {purpose: new jsigs.purposes.AssertionProofPurpose()};
  }
  return {};
}

function checkStatusFor(request) {
  // vc refuses credentials with credentialStatus unless a checker is given.
  // Status is not what this harness tests; callers opt out explicitly.
  if(request.ignoreStatus === true) {
    return async () => ({verified: true});
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

const operations = {
  async verifyCredential(request, documentLoader) {
    const credential = requireObject(request, 'credential');
    const result = await vc.verifyCredential({
      credential,
      suite: verifySuite(),
      documentLoader,
      checkStatus: checkStatusFor(request),
      ...credentialPurposeFor(request),
      ...(request.now ? {now: request.now} : {})
    });
    return {
      verified: result.verified === true,
      error: result.verified ? null : summarize(result.error ?? result.results)
    };
  },

  async issueCredential(request, documentLoader) {
    const credential = requireObject(request, 'credential');
    const suite = await signingSuite(request);
    const verifiableCredential = await vc.issue({
      credential, suite, documentLoader
    });
    return {verifiableCredential};
  },

  async verifyPresentation(request, documentLoader) {
    const presentation = requireObject(request, 'presentation');
    if(typeof request.challenge !== 'string') {
      throw new RequestError('"challenge" (string) is required.');
    }
    const result = await vc.verify({
      presentation,
      suite: verifySuite(),
      documentLoader,
      challenge: request.challenge,
      domain: request.domain,
      checkStatus: checkStatusFor(request),
      // `purpose` applies to the enclosed credentials only; the VP proof is
      // always checked with AuthenticationProofPurpose(challenge, domain).
      ...credentialPurposeFor(request),
      ...(request.now ? {now: request.now} : {})
    });
    const errors = presentationErrors(result);
    const verified = result.verified === true && errors.length === 0;
    return {
      verified,
      error: verified ? null : (errors.length ? summarize(errors) :
        'presentation not verified (no error reported)')
    };
  },

  async issuePresentation(request, documentLoader) {
    const presentation = requireObject(request, 'presentation');
    if(typeof request.challenge !== 'string') {
      throw new RequestError('"challenge" (string) is required.');
    }
    const suite = await signingSuite(request);
    const verifiablePresentation = await vc.signPresentation({
      presentation,
      suite,
      documentLoader,
      challenge: request.challenge,
      domain: request.domain
    });
    return {verifiablePresentation};
  }
};

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  let response;
  let exitCode = 0;
  try {
    let request;
    try {
      request = JSON.parse(await readStdin());
    } catch(e) {
      throw new RequestError(`stdin is not valid JSON: ${e.message}`);
    }
    const op = operations[request?.op];
    if(typeof op !== 'function' || !Object.hasOwn(operations, request.op)) {
      throw new RequestError(
        `Unknown "op" ${JSON.stringify(request?.op)}; expected one of ` +
        `${Object.keys(operations).join(', ')}.`);
    }
    const documentLoader = makeDocumentLoader(request);
    response = await op(request, documentLoader);
  } catch(e) {
    const message = summarize(e);
    response = {error: message};
    exitCode = 2;
    process.stderr.write(`dbverify: ${message}\n`);
    if(!(e instanceof RequestError) && e?.stack) {
      process.stderr.write(`${e.stack}\n`);
    }
  }
  process.stdout.write(JSON.stringify(response) + '\n');
  process.exitCode = exitCode;
}

await main();
