#!/usr/bin/env node
// Credo 0.6 (@credo-ts/core) as a peer: a real Agent whose W3C credential services issue and
// verify VC-JWT 1.1 and Ed25519Signature2020 credentials. Credo needs a key management backend
// and a storage service; its own (Askar) ship native binaries fetched at install time, which
// this offline harness cannot use, so the two are small in-memory implementations here: keys are
// real Ed25519/P-256 keys and every signature is made and checked by node:crypto. DIDs resolve
// offline: did:key by Credo's own resolver, did:web only from the request's documents. JSON-LD
// contexts come from contexts/ (digest-checked) and Credo's bundled ones; nothing is fetched.
//   verify {credential (object or compact JWT), didDocuments?}      -> {verified, error?}
//   issue  {credential, format: "jwt-1.1"|"di-2020", privateJwk}    -> {credential}
import 'reflect-metadata';
import {createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, randomBytes} from 'node:crypto';
import {EventEmitter} from 'node:events';
import {readFileSync} from 'node:fs';
import {
  Agent, ClaimFormat, DependencyManager, DidDocument, DidResolverService, DidsModule, InjectionSymbols, JsonTransformer,
  KeyDidResolver, Kms,
  W3cCredentialService, W3cCredentialsModule, W3cCredentialsModuleConfig,
  W3cJsonLdVerifiableCredential, W3cJwtVerifiableCredential, W3cCredential,
  W3cV2CredentialService, W3cV2JwtVerifiableCredential,
} from '@credo-ts/core';
import {RequestError, describe, loadContexts, serve} from './common.mjs';

class MemoryKms {
  backend = 'memory';
  keys = new Map();
  isOperationSupported(_ctx, op) {
    return ['importKey', 'sign', 'verify', 'randomBytes'].includes(op.operation);
  }
  async getPublicKey(_ctx, keyId) {
    const jwk = this.keys.get(keyId);
    return jwk ? publicOf(jwk, keyId) : null;
  }
  async importKey(_ctx, {privateJwk}) {
    const keyId = privateJwk.kid ?? randomBytes(8).toString('hex');
    this.keys.set(keyId, privateJwk);
    return {keyId, publicJwk: publicOf(privateJwk, keyId)};
  }
  async sign(_ctx, {keyId, algorithm, data}) {
    const jwk = this.keys.get(keyId);
    if(!jwk) {
      throw new Kms.KeyManagementKeyNotFoundError(keyId, [this.backend]);
    }
    const key = createPrivateKey({key: jwk, format: 'jwk'});
    const signature = nodeSign(algorithm === 'ES256' ? 'sha256' : null, data, ecdsa(key));
    return {signature: new Uint8Array(signature)};
  }
  async verify(_ctx, {key, algorithm, data, signature}) {
    const jwk = key.publicJwk ?? publicOf(this.keys.get(key.keyId));
    const publicKey = createPublicKey({key: {...jwk, kid: undefined}, format: 'jwk'});
    const verified = nodeVerify(algorithm === 'ES256' ? 'sha256' : null, data, ecdsa(publicKey), signature);
    return verified ? {verified: true, publicJwk: jwk} : {verified: false};
  }
  randomBytes(_ctx, {length}) {
    return new Uint8Array(randomBytes(length));
  }
  async createKey() { throw new Error('not used'); }
  async deleteKey() { return false; }
  async encrypt() { throw new Error('not used'); }
  async decrypt() { throw new Error('not used'); }
}

// JWS carries ES256 as r || s (RFC 7518 §3.4), not DER.
const ecdsa = key => key.asymmetricKeyType === 'ec' ? {key, dsaEncoding: 'ieee-p1363'} : key;

function publicOf(jwk, kid) {
  const {d, ...pub} = jwk;
  return kid ? {...pub, kid} : pub;
}

class MemoryStorage {
  records = new Map();
  async save(_ctx, record) {
    record.updatedAt = new Date();
    this.records.set(record.id, record);
  }
  async update(_ctx, record) {
    this.records.set(record.id, record);
  }
  async delete(_ctx, record) {
    this.records.delete(record.id);
  }
  async deleteById(_ctx, _cls, id) {
    this.records.delete(id);
  }
  async getById(_ctx, cls, id) {
    const record = this.records.get(id);
    if(!record || record.type !== cls.type) {
      throw new Error(`record ${id} not found`);
    }
    return record;
  }
  async getAll(_ctx, cls) {
    return [...this.records.values()].filter(r => r.type === cls.type);
  }
  async findByQuery(_ctx, cls, query) {
    const matches = (tags, q) => Object.entries(q).every(([k, v]) => {
      if(v === undefined) {
        return true;  // an absent criterion, as Credo's own storages treat it
      }
      if(k === '$and') {
        return v.every(x => matches(tags, x));
      }
      if(k === '$or') {
        return v.some(x => matches(tags, x));
      }
      if(k === '$not') {
        return !matches(tags, v);
      }
      return Array.isArray(v) ? v.every(x => [].concat(tags[k]).includes(x)) : tags[k] === v;
    });
    return (await this.getAll(_ctx, cls)).filter(r => matches(r.getTags(), query));
  }
}

// did:web resolved only from the documents the request hands over (never fetched).
class OfflineWebResolver {
  supportedMethods = ['web'];
  allowsCaching = false;
  allowsLocalDidRecord = false;
  constructor(documents) {
    this.documents = documents;
  }
  async resolve(_ctx, did) {
    const document = this.documents[did];
    if(!document) {
      return {didDocument: null, didDocumentMetadata: {}, didResolutionMetadata: {error: 'notFound'}};
    }
    return {
      didDocument: JsonTransformer.fromJSON(document, DidDocument),
      didDocumentMetadata: {},
      didResolutionMetadata: {contentType: 'application/did+ld+json'},
    };
  }
}

// Credo bundles no jws-2020 context, which did:web documents listing JsonWebKey2020 name; online
// Credo would fetch it. Offline, the published document comes from Veramo's bundle (npm).
const JWS_2020 = 'https://w3id.org/security/suites/jws-2020/v1';
const ED25519_2020 = 'https://w3id.org/security/suites/ed25519-2020/v1';
const jws2020 = JSON.parse(readFileSync(new URL(
  './node_modules/@veramo/credential-ld/build/contexts/w3id.org_security_suites_jws-2020_v1.json',
  import.meta.url), 'utf8'));

async function makeAgent(request) {
  const contexts = loadContexts(request);
  if(!contexts.has(JWS_2020)) {
    contexts.set(JWS_2020, jws2020);
  }
  const credoDefault = new W3cCredentialsModuleConfig().documentLoader;
  const documentLoader = agentContext => {
    const fallback = credoDefault(agentContext);
    return async url => {
      if(contexts.has(url)) {
        return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
      }
      if(url.startsWith('did:')) {
        // Credo's own DID dereferencing frames the document with a loader that fetches the
        // contexts it does not bundle; here the DID document comes from Credo's (offline)
        // resolvers and its contexts from this loader.
        const {didDocument} = await agentContext.dependencyManager.resolve(DidResolverService)
          .resolve(agentContext, url.split('#')[0]);
        if(!didDocument) {
          throw new Error(`unable to resolve ${url} (offline)`);
        }
        const json = didDocument.toJSON();
        const document = url.includes('#') ?
          {'@context': json['@context'], ...(json.verificationMethod || []).find(m => m.id === url)} : json;
        if(url.includes('#') && document.id !== url) {
          throw new Error(`${url} is not a verification method of its DID document`);
        }
        return {contextUrl: null, documentUrl: url, document};
      }
      // Credo's bundled contexts are served without network; anything else fails in it.
      return fallback(url);
    };
  };
  const kms = new MemoryKms();
  const dependencyManager = new DependencyManager();
  dependencyManager.registerInstance(InjectionSymbols.StorageService, new MemoryStorage());
  const agent = new Agent({
    config: {logger: undefined, allowInsecureHttpUrls: false},
    dependencies: {
      FileSystem: class { constructor() { this.dataPath = '/nonexistent'; this.cachePath = '/nonexistent'; this.tempPath = '/nonexistent'; } },
      EventEmitterClass: EventEmitter,
      fetch: async url => { throw new Error(`network refused (offline harness): ${url}`); },
      WebSocketClass: class {},
    },
    modules: {
      kms: new Kms.KeyManagementModule({backends: [kms]}),
      dids: new DidsModule({resolvers: [new KeyDidResolver(), new OfflineWebResolver(request.didDocuments || {})]}),
      w3cCredentials: new W3cCredentialsModule({documentLoader}),
    },
  }, dependencyManager);
  return agent;
}

const jwtPayload = token => JSON.parse(Buffer.from(token.split('.')[1] || '', 'base64url').toString('utf8') || '{}');

async function verify(request) {
  const agent = await makeAgent(request);
  const service = agent.dependencyManager.resolve(W3cCredentialService);
  try {
    if(typeof request.credential === 'string' && !jwtPayload(request.credential).vc) {
      // No vc claim: a VC 2.0 credential secured with JOSE, Credo's W3C v2 service.
      const v2 = agent.dependencyManager.resolve(W3cV2CredentialService);
      const result = await v2.verifyCredential(agent.context, {
        credential: W3cV2JwtVerifiableCredential.fromCompact(request.credential),
      });
      return result.isValid ? {verified: true} : {verified: false, error: describe(result.error ?? result.validations)};
    }
    const credential = typeof request.credential === 'string' ?
      W3cJwtVerifiableCredential.fromSerializedJwt(request.credential) :
      JsonTransformer.fromJSON(request.credential, W3cJsonLdVerifiableCredential);
    const result = await service.verifyCredential(agent.context, {credential});
    return result.isValid ? {verified: true} : {verified: false, error: describe(result.error ?? result.validations)};
  } catch(e) {
    return {verified: false, error: describe(e)};
  }
}

async function issue(request) {
  const agent = await makeAgent(request);
  const {privateJwk, format} = request;
  const kmsApi = agent.dependencyManager.resolve(Kms.KeyManagementApi);
  const imported = await kmsApi.importKey({privateJwk: {...privateJwk}});
  const publicJwk = Kms.PublicJwk.fromPublicJwk(imported.publicJwk);
  const {didState} = await agent.dids.create({method: 'key', options: {keyId: imported.keyId}});
  if(didState.state !== 'finished') {
    throw new RequestError(`Credo could not create the did:key: ${JSON.stringify(didState)}`);
  }
  const did = didState.did;
  const vm = `${did}#${did.slice('did:key:'.length)}`;
  const unsigned = {...request.credential, issuer: did};
  if(format === 'di-2020' && !unsigned['@context'].includes(ED25519_2020)) {
    // Credo signs in JSON-LD safe mode and does not add the suite's context itself.
    unsigned['@context'] = [...unsigned['@context'], ED25519_2020];
  }
  const credential = JsonTransformer.fromJSON(unsigned, W3cCredential);
  const service = agent.dependencyManager.resolve(W3cCredentialService);
  const signed = format === 'jwt-1.1' ?
    await service.signCredential(agent.context, {
      format: ClaimFormat.JwtVc, credential, verificationMethod: vm,
      alg: publicJwk.signatureAlgorithm ?? (privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256'),
    }) :
    await service.signCredential(agent.context, {
      format: ClaimFormat.LdpVc, credential, verificationMethod: vm,
      proofType: 'Ed25519Signature2020',
    });
  return {credential: signed.encoded};
}

await serve({verify, issue});
