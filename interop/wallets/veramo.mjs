#!/usr/bin/env node
// Veramo 7 as a peer: an in-memory agent with the did:key provider, a kms-local key imported
// from the request, JWT credentials (did-jwt-vc, Veramo's default: no kid in the header) and
// JSON-LD credentials with Ed25519Signature2020. The resolver is offline: did:key from the key,
// did:web only from the request's documents; JSON-LD contexts only from contexts/.
//   verify {credential (object or compact JWT), didDocuments?} -> {verified, error?}
//   issue  {credential, format: "jwt-1.1"|"di-2020", privateJwk} -> {credential}
import {createAgent} from '@veramo/core';
import {CredentialPlugin} from '@veramo/credential-w3c';
import {CredentialProviderJWT} from '@veramo/credential-jwt';
import {CredentialProviderLD, LdDefaultContexts, VeramoEd25519Signature2020} from '@veramo/credential-ld';
import {DIDManager, MemoryDIDStore} from '@veramo/did-manager';
import {KeyDIDProvider, getDidKeyResolver} from '@veramo/did-provider-key';
import {DIDResolverPlugin} from '@veramo/did-resolver';
import {KeyManager, MemoryKeyStore, MemoryPrivateKeyStore} from '@veramo/key-manager';
import {KeyManagementSystem} from '@veramo/kms-local';
import {Resolver} from 'did-resolver';
import {RequestError, describe, loadContexts, serve} from './common.mjs';

// Veramo's did:key resolver lists keys as JsonWebKey2020 unless asked; its Ed25519Signature2020
// suite reads only Ed25519VerificationKey2020/2018 methods.
const ED25519_2020 = {publicKeyFormat: 'Ed25519VerificationKey2020'};

function makeAgent(request) {
  const contexts = loadContexts(request);
  const documents = request.didDocuments || {};
  const web = async did => {
    const didDocument = documents[did];
    return didDocument ?
      {didDocument, didDocumentMetadata: {}, didResolutionMetadata: {contentType: 'application/did+ld+json'}} :
      {didDocument: null, didDocumentMetadata: {}, didResolutionMetadata: {error: 'notFound'}};
  };
  return createAgent({
    plugins: [
      new KeyManager({store: new MemoryKeyStore(), kms: {local: new KeyManagementSystem(new MemoryPrivateKeyStore())}}),
      new DIDManager({
        store: new MemoryDIDStore(),
        defaultProvider: 'did:key',
        providers: {'did:key': new KeyDIDProvider({defaultKms: 'local'})},
      }),
      new DIDResolverPlugin({resolver: new Resolver({...getDidKeyResolver(), web})}),
      new CredentialPlugin([
        new CredentialProviderJWT(),
        new CredentialProviderLD({
          contextMaps: [LdDefaultContexts, Object.fromEntries(contexts)],
          suites: [new VeramoEd25519Signature2020()],
        }),
      ]),
    ],
  });
}

async function verify(request) {
  const agent = makeAgent(request);
  try {
    const result = await agent.verifyCredential({
      credential: request.credential,
      fetchRemoteContexts: false,
      resolutionOptions: ED25519_2020,
      policies: {now: request.now ? Math.floor(Date.parse(request.now) / 1000) : undefined},
    });
    return result.verified ? {verified: true} : {verified: false, error: describe(result.error)};
  } catch(e) {
    return {verified: false, error: describe(e)};
  }
}

async function issue(request) {
  const agent = makeAgent(request);
  const {privateJwk, format} = request;
  if(privateJwk.kty !== 'OKP') {
    throw new RequestError('the Veramo bridge signs with Ed25519 keys only');
  }
  const hex = b => Buffer.from(b, 'base64url').toString('hex');
  const identifier = await agent.didManagerCreate({
    provider: 'did:key',
    kms: 'local',
    options: {privateKeyHex: hex(privateJwk.d)},
  }).catch(async () => null);
  const did = identifier?.did;
  if(!did || identifier.keys[0].publicKeyHex !== hex(privateJwk.x)) {
    throw new RequestError(`Veramo made ${did} from the key, not the key's own did:key`);
  }
  // A string issuer: vc-runid requires the compacted form, where {id} alone compacts to the string.
  const credential = {...request.credential, issuer: did};
  const proofFormat = {'jwt-1.1': 'jwt', 'di-2020': 'lds'}[format];
  if(!proofFormat) {
    throw new RequestError(`format ${format} is not one Veramo issues here`);
  }
  const signed = await agent.createVerifiableCredential({
    credential, proofFormat, fetchRemoteContexts: false, resolutionOptions: ED25519_2020,
  });
  return {credential: proofFormat === 'jwt' ? signed.proof.jwt : signed};
}

await serve({verify, issue});
