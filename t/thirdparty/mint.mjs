// Test only: mint tokens with third-party libraries (jose for JWT/EdDSA,
// paseto for v4.public) from a key pair of their own, and write the public
// key as a JWK for the server to trust.  Usage: node mint.mjs OUTDIR
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { SignJWT, exportJWK } from 'jose';
import paseto from 'paseto';

const out = process.argv[2];
const aud = 'lifecycle-test', iss = 'https://issuer.test', kid = 'thirdparty-1';
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const jwk = { ...(await exportJWK(publicKey)), kid };
writeFileSync(`${out}/thirdparty.jwk`, JSON.stringify(jwk) + '\n');

const now = Math.floor(Date.now() / 1000);
async function jwt(claims, exp, header = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid, ...header })
    .setIssuedAt(now).setExpirationTime(exp).setAudience(claims.aud ?? aud).setIssuer(iss)
    .setSubject('jose-client').setJti(`jose-${exp}`).sign(privateKey);
}
async function pst({ audience = aud, exp } = {}) {
  const payload = { scope: 'workstations.read workstations.write' };
  const opts = { audience, issuer: iss, subject: 'paseto-client', iat: true };
  if (exp) payload.exp = exp; else opts.expiresIn = '10 minutes';
  return paseto.V4.sign(payload, privateKey, opts);
}
const tokens = {
  'jose-ok':        await jwt({ scope: 'workstations.read workstations.write' }, now + 600),
  'jose-scp':       await jwt({ scp: ['workstations.read'] }, now + 600),
  'jose-expired':   await jwt({ scope: 'workstations.read' }, now - 120),
  'jose-wrong-aud': await jwt({ scope: 'workstations.read', aud: 'someone-else' }, now + 600),
  'jose-no-scope':  await jwt({ scope: 'agents.read' }, now + 600),
  'paseto-ok':      await pst(),
  'paseto-expired': await pst({ exp: new Date((now - 120) * 1000).toISOString() }),
  'paseto-wrong-aud': await pst({ audience: 'someone-else' }),
};
for (const [name, t] of Object.entries(tokens)) writeFileSync(`${out}/${name}.token`, t + '\n');
console.log(`minted ${Object.keys(tokens).length} third-party tokens into ${out}`);
