// node-oidc-provider (v9) for the code-flow and refresh rows of bench/compare.py: the shared bench server's
// client_credentials client and resource servers, plus a confidential code-flow client whose codes carry
// `openid offline_access read` for the RS256 JWT resource server, refresh tokens rotated on every use (as
// identityserver's one-time refresh tokens), and an out-of-band route that mints authorization codes in-process
// (POST /bench/mint?n=N: one code per line). Minting is set-up only: the measured requests are plain /token posts.
// compare.py copies this file next to the shared server.mjs, so that 'oidc-provider' resolves there.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const PORT = Number(process.env.PORT ?? 8300);
const ISSUER = `http://127.0.0.1:${PORT}`;
const CLIENT_ID = process.env.CLIENT_ID ?? 'bench-client';
const CLIENT_SECRET = process.env.CLIENT_SECRET ?? 'bench-secret-0123456789abcdef0123';
const CODE_CLIENT_ID = process.env.CODE_CLIENT_ID ?? 'bench-code';
const REDIRECT_URI = process.env.REDIRECT_URI ?? 'http://127.0.0.1/cb';
const CODE_CHALLENGE = process.env.CODE_CHALLENGE;
const SCOPE = 'openid offline_access read';
const JWT_RESOURCE = 'urn:bench:jwt';

// The default in-memory adapter is an LRU of 1,000 entries: a pool of codes bigger than that would lose its
// oldest codes and grants before they are redeemed. This one keeps every entry until it expires.
const stores = new Map();
class MapAdapter {
  constructor(name) {
    if (!stores.has(name)) stores.set(name, new Map());
    this.entries = stores.get(name);
    this.grants = stores.get('grant-index') ?? new Map();
    stores.set('grant-index', this.grants);
  }

  async upsert(id, payload, expiresIn) {
    this.entries.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.grantId) {
      const ids = this.grants.get(payload.grantId) ?? [];
      ids.push([this.entries, id]);
      this.grants.set(payload.grantId, ids);
    }
  }

  async find(id) {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt < Date.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    for (const [id, entry] of this.entries) if (entry.payload.uid === uid) return this.find(id);
    return undefined;
  }

  async findByUserCode(userCode) {
    for (const [id, entry] of this.entries) if (entry.payload.userCode === userCode) return this.find(id);
    return undefined;
  }

  async consume(id) {
    const entry = this.entries.get(id);
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    this.entries.delete(id);
  }

  async revokeByGrantId(grantId) {
    for (const [entries, id] of this.grants.get(grantId) ?? []) entries.delete(id);
    this.grants.delete(grantId);
  }
}

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };

const resourceServers = {
  [JWT_RESOURCE]: {
    scope: 'read', audience: JWT_RESOURCE, accessTokenTTL: 3600,
    accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
  },
  'urn:bench:opaque': {
    scope: 'read', audience: 'urn:bench:opaque', accessTokenTTL: 3600,
    accessTokenFormat: 'opaque',
  },
};

const provider = new Provider(ISSUER, {
  adapter: MapAdapter,
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'read',
  }, {
    client_id: CODE_CLIENT_ID,
    client_secret: CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
    scope: SCOPE,
  }],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'read'],
  claims: { openid: ['sub'] },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  rotateRefreshToken: () => true,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client) => (client.clientId === CODE_CLIENT_ID ? JWT_RESOURCE : undefined),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        const info = resourceServers[resourceIndicator];
        if (!info) throw new errors.InvalidTarget();
        return info;
      },
    },
  },
});

async function mint(n) {
  const client = await provider.Client.find(CODE_CLIENT_ID);
  const codes = [];
  for (let i = 0; i < n; i += 1) {
    const accountId = `user-${i % 100}`;
    const grant = new provider.Grant({ accountId, clientId: CODE_CLIENT_ID });
    grant.addOIDCScope('openid offline_access');
    grant.addResourceScope(JWT_RESOURCE, 'read');
    const grantId = await grant.save();
    const code = new provider.AuthorizationCode({
      accountId,
      authTime: Math.floor(Date.now() / 1000),
      client,
      codeChallenge: CODE_CHALLENGE,
      codeChallengeMethod: 'S256',
      grantId,
      redirectUri: REDIRECT_URI,
      resource: JWT_RESOURCE,
      scope: SCOPE,
    });
    codes.push(await code.save());
  }
  return codes;
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/bench/mint')) {
    const n = Number(new URL(req.url, ISSUER).searchParams.get('n') ?? '1');
    mint(n).then((codes) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(codes.join('\n'));
    }, (err) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err && err.stack));
    });
    return;
  }
  callback(req, res);
}).listen(PORT, '127.0.0.1', () => {
  console.log(`oidc-provider (flows) listening on ${ISSUER}`);
});
