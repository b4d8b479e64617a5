// A real OpenID Connect provider for the tests (the `oidc-provider` package from npm, certified by the OpenID
// Foundation), on loopback. Its built-in development login pages take any account name: the name says the claims.
//   editor.E23000012     -> role editor, areas [E23000012]
//   provider.<uuid>      -> role provider, services [<uuid>]
//   admin                -> role admin
//   anyone else          -> no role claim
// Settings come from the environment: OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;

function claimsOf(id) {
  const [role, scope] = id.split('.', 2);
  const claims = { sub: id, name: `Test ${id}` };
  if (role === 'editor') Object.assign(claims, { role, areas: [scope] });
  else if (role === 'provider') Object.assign(claims, { role, services: [scope] });
  else if (role === 'admin') claims.role = 'admin';
  return claims;
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name', 'role', 'areas', 'services'] },
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => claimsOf(id) }),
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['tests-only'] },
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => process.stdout.write(`ready ${issuer}\n`));
