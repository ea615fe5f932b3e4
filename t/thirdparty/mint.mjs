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
// Minted once for the whole suite (every MPM and store run, 15 minutes and
// more on a loaded machine): a day's life, as the suite's own token, so no
// valid token expires while the suite runs.
const life = 86400;
async function jwt(claims, exp, header = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid, ...header })
    .setIssuedAt(now).setExpirationTime(exp).setAudience(claims.aud ?? aud).setIssuer(iss)
    .setSubject('jose-client').setJti(`jose-${exp}`).sign(privateKey);
}
async function pst({ audience = aud, exp } = {}) {
  const payload = { scope: 'workstations.read workstations.write' };
  const opts = { audience, issuer: iss, subject: 'paseto-client', iat: true };
  if (exp) payload.exp = exp; else opts.expiresIn = '24 hours';
  return paseto.V4.sign(payload, privateKey, opts);
}
const tokens = {
  'jose-ok':        await jwt({ scope: 'workstations.read workstations.write' }, now + life),
  'jose-scp':       await jwt({ scp: ['workstations.read'] }, now + life),
  'jose-expired':   await jwt({ scope: 'workstations.read' }, now - 120),
  'jose-wrong-aud': await jwt({ scope: 'workstations.read', aud: 'someone-else' }, now + life),
  'jose-no-scope':  await jwt({ scope: 'agents.read' }, now + life),
  'paseto-ok':      await pst(),
  'paseto-expired': await pst({ exp: new Date((now - 120) * 1000).toISOString() }),
  'paseto-wrong-aud': await pst({ audience: 'someone-else' }),
};
for (const [name, t] of Object.entries(tokens)) writeFileSync(`${out}/${name}.token`, t + '\n');
console.log(`minted ${Object.keys(tokens).length} third-party tokens into ${out}`);
