// What the suites' own reference stack (Digital Bazaar's @digitalbazaar/vc, the library the
// suites build their fixtures with) answers for a fixture listed as defective. Run by the
// conformance tests from inside an installed suite (the VC Data Model 2.0 suite for
// Ed25519Signature2020, the ECDSA suite for ecdsa-rdfc-2019), with the contexts vc-runid pins
// (contexts/) as the only documents and did:key resolved locally: nothing is fetched.
//
//   node reference_verify.mjs CONTEXTS_DIR < credential.json   ->  {"verified": bool, "error": "..."}
import * as didKey from '@digitalbazaar/did-method-key';
import * as vc from '@digitalbazaar/vc';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';

const contextsDir = process.argv[2];
const manifest = JSON.parse(readFileSync(join(contextsDir, 'index.json'), 'utf8'));
const contexts = new Map(manifest.contexts.map(({url, file}) =>
  [url, JSON.parse(readFileSync(join(contextsDir, file), 'utf8'))]));
const credential = JSON.parse(readFileSync(0, 'utf8'));
const proof = Array.isArray(credential.proof) ? credential.proof[0] : credential.proof;

const driver = didKey.driver();
let suite;
if(proof.type === 'Ed25519Signature2020') {
  const {Ed25519Signature2020} = await import('@digitalbazaar/ed25519-signature-2020');
  const {Ed25519VerificationKey2020} = await import('@digitalbazaar/ed25519-verification-key-2020');
  driver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519VerificationKey2020.from});
  suite = new Ed25519Signature2020();
} else if(proof.cryptosuite === 'ecdsa-rdfc-2019') {
  const {DataIntegrityProof} = await import('@digitalbazaar/data-integrity');
  const {cryptosuite} = await import('@digitalbazaar/ecdsa-rdfc-2019-cryptosuite');
  const EcdsaMultikey = await import('@digitalbazaar/ecdsa-multikey');
  driver.use({multibaseMultikeyHeader: 'zDna', fromMultibase: EcdsaMultikey.from});
  suite = new DataIntegrityProof({cryptosuite});
} else {
  throw new Error(`no reference suite here for ${proof.type} ${proof.cryptosuite}`);
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:key:')) {
    return {contextUrl: null, documentUrl: url, document: await driver.get({url})};
  }
  throw new Error(`${url} is not available offline`);
}

const result = await vc.verifyCredential({
  credential, suite, documentLoader, checkStatus: async () => ({verified: true})
});
const errors = [result.error, ...(result.results || []).map(r => r.error)]
  .filter(Boolean)
  .flatMap(e => (e.errors ? e.errors : [e]))
  .map(e => e.message);
console.log(JSON.stringify({verified: result.verified, error: [...new Set(errors)].join('; ')}));
