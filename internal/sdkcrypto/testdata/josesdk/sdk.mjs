// An app-channel peer written with the npm "jose" package and Node's crypto alone, so that the Go
// tests check open3ds against an implementation it shares no code with. One operation per run:
//   node sdk.mjs OP < request.json > answer.json
// Operations:
//   keygen                                   -> {priv: JWK}              a fresh P-256 key
//   sdkenc     {dsCert, dsID, enc, kid, plaintext, ecAlg}
//                                            -> {jwe}                    sdkEncData to the DS key in dsCert
//   sign-jws   {payload, key, chain}         -> {jws}                    PS256 / ES256 with x5c
//   verify-jws {jws, ca, now}                -> {payload}                x5c chained to ca, then the signature
//   seal       {priv, peer, sdkRef, dir, enc, kid, plaintext}
//                                            -> {jwe}                    one CReq (dir "StoA") or CRes ("AtoS")
//   open       {priv, peer, sdkRef, dir, jwe}  -> {plaintext, header}
// The EMV key derivation (Concat KDF with empty AlgorithmID and PartyUInfo, PartyVInfo = DS id or SDK
// reference number) is not stock JOSE, so it is written here by hand from the specification, and
// the derived key goes to jose's "dir" encryption.
import { readFileSync } from "node:fs";
import crypto from "node:crypto";
import * as jose from "jose";

const op = process.argv[2];
const req = op === "keygen" ? {} : JSON.parse(readFileSync(0, "utf8"));

function kdf(z, partyV) {
  const v = Buffer.from(partyV, "ascii");
  const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  return crypto.createHash("sha256")
    .update(Buffer.concat([u32(1), z, u32(0), u32(0), u32(v.length), v, u32(256)]))
    .digest();
}

function ecdh(privJWK, pubJWK) {
  return crypto.diffieHellman({
    privateKey: crypto.createPrivateKey({ key: privJWK, format: "jwk" }),
    publicKey: crypto.createPublicKey({ key: pubJWK, format: "jwk" }),
  });
}

// The session key of one direction: A128CBC-HS256 takes all 32 bytes both ways, A128GCM the first
// half from the SDK to the ACS and the second half back.
function directionKey(k, dir, enc) {
  if (enc === "A128CBC-HS256") return k;
  return dir === "StoA" ? k.subarray(0, 16) : k.subarray(16, 32);
}

const enc = new TextEncoder();
const dec = new TextDecoder();
let out;
switch (op) {
  case "keygen": {
    const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    out = { priv: privateKey.export({ format: "jwk" }) };
    break;
  }
  case "sdkenc": {
    const cert = new crypto.X509Certificate(req.dsCert);
    const pub = cert.publicKey;
    const data = enc.encode(req.plaintext);
    if (pub.asymmetricKeyType === "rsa") {
      const header = { alg: "RSA-OAEP-256", enc: req.enc };
      if (req.kid) header.kid = req.kid;
      out = { jwe: await new jose.CompactEncrypt(data).setProtectedHeader(header).encrypt(pub) };
    } else {
      const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
      const z = crypto.diffieHellman({ privateKey, publicKey: pub });
      let cek = kdf(z, req.dsID);
      if (req.enc === "A128GCM") cek = cek.subarray(0, 16);
      const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
      const header = { alg: "dir", enc: req.enc, epk: { kty, crv, x, y } };
      if (req.kid) header.kid = req.kid;
      if (req.ecAlg === "ECDH-ES") {
        // The iOS-derived SDKs label the same construction ECDH-ES. jose would run its own KDF for
        // that label, so the content is encrypted with Node's ciphers instead, under the relabelled
        // header (the header is the AAD).
        header.alg = "ECDH-ES";
        const raw = jose.base64url.encode(JSON.stringify(header));
        const iv = crypto.randomBytes(req.enc === "A128GCM" ? 12 : 16);
        const sealed = encryptRaw(req.enc, cek, iv, data, Buffer.from(raw, "ascii"));
        out = { jwe: [raw, "", jose.base64url.encode(iv), jose.base64url.encode(sealed.ct), jose.base64url.encode(sealed.tag)].join(".") };
      } else {
        out = { jwe: await new jose.CompactEncrypt(data).setProtectedHeader(header).encrypt(cek) };
      }
    }
    break;
  }
  case "sign-jws": {
    const key = crypto.createPrivateKey(req.key);
    const alg = key.asymmetricKeyType === "rsa" ? "PS256" : "ES256";
    const x5c = req.chain.map((pem) => new crypto.X509Certificate(pem).raw.toString("base64"));
    out = { jws: await new jose.CompactSign(enc.encode(req.payload)).setProtectedHeader({ alg, x5c }).sign(key) };
    break;
  }
  case "verify-jws": {
    const header = jose.decodeProtectedHeader(req.jws);
    const certs = header.x5c.map((b64) => new crypto.X509Certificate(Buffer.from(b64, "base64")));
    const ca = new crypto.X509Certificate(req.ca);
    const now = new Date(req.now || Date.now());
    for (let i = 0; i < certs.length; i++) {
      const issuer = i + 1 < certs.length ? certs[i + 1] : ca;
      if (!certs[i].verify(issuer.publicKey)) throw new Error(`x5c[${i}] is not signed by its issuer`);
      if (now < new Date(certs[i].validFrom) || now > new Date(certs[i].validTo)) throw new Error(`x5c[${i}] is not valid now`);
    }
    const { payload } = await jose.compactVerify(req.jws, certs[0].publicKey, { algorithms: ["PS256", "ES256"] });
    out = { payload: dec.decode(payload) };
    break;
  }
  case "seal": {
    const k = directionKey(kdf(ecdh(req.priv, req.peer), req.sdkRef), req.dir, req.enc);
    out = { jwe: await new jose.CompactEncrypt(enc.encode(req.plaintext)).setProtectedHeader({ alg: "dir", enc: req.enc, kid: req.kid }).encrypt(k) };
    break;
  }
  case "open": {
    const header = jose.decodeProtectedHeader(req.jwe);
    const k = directionKey(kdf(ecdh(req.priv, req.peer), req.sdkRef), req.dir, header.enc);
    const { plaintext, protectedHeader } = await jose.compactDecrypt(req.jwe, k);
    out = { plaintext: dec.decode(plaintext), header: protectedHeader };
    break;
  }
  default:
    throw new Error(`unknown operation ${op}`);
}
process.stdout.write(JSON.stringify(out));

// encryptRaw is RFC 7518's content encryption with Node's ciphers, for the relabelled header above.
function encryptRaw(encName, key, iv, data, aad) {
  if (encName === "A128GCM") {
    const c = crypto.createCipheriv("aes-128-gcm", key, iv);
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(data), c.final()]);
    return { ct, tag: c.getAuthTag() };
  }
  const macKey = key.subarray(0, 16);
  const c = crypto.createCipheriv("aes-128-cbc", key.subarray(16, 32), iv);
  const ct = Buffer.concat([c.update(data), c.final()]);
  const al = Buffer.alloc(8);
  al.writeBigUInt64BE(BigInt(aad.length * 8));
  const tag = crypto.createHmac("sha256", macKey).update(Buffer.concat([aad, iv, ct, al])).digest().subarray(0, 16);
  return { ct, tag };
}
