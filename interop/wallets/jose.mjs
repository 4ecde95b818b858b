#!/usr/bin/env node
// panva `jose` as a VC-JOSE / VC-JWT 1.1 peer. jose knows JWS and JWT, not credentials: this
// bridge finds the key (kid, else the issuer's did:key or its did:web document), and lets jose
// check the signature, alg, typ and nbf/exp.
//   verify {credential (compact JWS), format: "jose"|"jwt-1.1", didDocuments?} -> {verified, error?}
//   issue  {credential, format, privateJwk, kid?}                 -> {credential (compact JWS)}
import {SignJWT, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify} from 'jose';
import {RequestError, describe, didKeyJwk, serve} from './common.mjs';

function issuerKey(header, payload, didDocuments) {
  const iss = typeof payload.iss === 'string' ? payload.iss :
    typeof payload.issuer === 'string' ? payload.issuer : payload.issuer?.id;
  const kid = header.kid;
  const did = (kid || iss || '').split('#')[0];
  if(did.startsWith('did:key:')) {
    return didKeyJwk(did);
  }
  const document = (didDocuments || {})[did];
  if(!document) {
    throw new RequestError(`no DID document for ${did}`);
  }
  const methods = (document.verificationMethod || []).filter(m => m.publicKeyJwk &&
    (!kid || m.id === kid || document.id + m.id === kid));
  if(methods.length === 0) {
    throw new RequestError(`no JWK verification method for ${kid || did}`);
  }
  return methods[0].publicKeyJwk;
}

async function verify({credential: token, format, didDocuments}) {
  try {
    if(typeof token !== 'string') {
      return {verified: false, error: 'not a compact JWS: jose verifies JOSE-secured credentials only'};
    }
    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    const jwk = issuerKey(header, payload, didDocuments);
    const options = {algorithms: ['EdDSA', 'ES256']};
    if(format === 'jose') {
      options.typ = 'vc+jwt';
    }
    const result = await jwtVerify(token, await importJWK(jwk, header.alg), options);
    return result.payload ? {verified: true} : {verified: false, error: 'no payload'};
  } catch(e) {
    if(e instanceof RequestError) {
      throw e;
    }
    return {verified: false, error: describe(e)};
  }
}

async function issue({credential, format, privateJwk, kid}) {
  const alg = privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
  const key = await importJWK(privateJwk, alg);
  if(format === 'jose') {
    const header = {alg, typ: 'vc+jwt', cty: 'vc'};
    if(kid) {
      header.kid = kid;
    }
    return {credential: await new SignJWT(credential).setProtectedHeader(header).sign(key)};
  }
  if(format === 'jwt-1.1') {
    // VC Data Model 1.1 §6.3.1: registered claims next to the credential in a vc claim.
    const vc = structuredClone(credential);
    const claims = {iss: typeof vc.issuer === 'string' ? vc.issuer : vc.issuer.id, vc};
    delete vc.issuer;
    if(vc.issuanceDate) {
      claims.nbf = Math.floor(Date.parse(vc.issuanceDate) / 1000);
      delete vc.issuanceDate;
    }
    if(vc.id) {
      claims.jti = vc.id;
      delete vc.id;
    }
    if(vc.credentialSubject?.id) {
      claims.sub = vc.credentialSubject.id;
    }
    const header = {alg, typ: 'JWT'};
    if(kid) {
      header.kid = kid;
    }
    return {credential: await new SignJWT(claims).setProtectedHeader(header).sign(key)};
  }
  throw new RequestError(`format ${format} is not a JOSE format`);
}

await serve({verify, issue});
