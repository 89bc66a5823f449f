// An independent relying party for the claims request parameter (OIDC Core §5.5): oauth4webapi discovers the
// server, validates the authorization response the browser reached, redeems the code (client_secret_basic),
// validates the ID token (signature, iss, aud, nonce) and calls userinfo for the same subject.
// Usage: node claims_client.mjs <issuer> <client_id> <secret> <redirect_uri> <callback_url> <state> <nonce> <verifier>
// Prints {"id_token": <validated claims>, "userinfo": <userinfo response>} as JSON.
import * as oauth from 'oauth4webapi'

const [issuerUrl, clientId, secret, redirectUri, callback, state, nonce, verifier] = process.argv.slice(2)
const issuer = new URL(issuerUrl)
const allowInsecure = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' }
const as = await oauth
  .discoveryRequest(issuer, allowInsecure)
  .then((response) => oauth.processDiscoveryResponse(issuer, response))
if (as.claims_parameter_supported !== true) throw new Error('claims_parameter_supported is not true')

const client = { client_id: clientId }
const clientAuth = oauth.ClientSecretBasic(secret)
const parameters = oauth.validateAuthResponse(as, client, new URL(callback), state)
const response = await oauth.authorizationCodeGrantRequest(
  as, client, clientAuth, parameters, redirectUri, verifier, allowInsecure)
const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
  expectedNonce: nonce,
  requireIdToken: true,
})
const idToken = oauth.getValidatedIdTokenClaims(tokens)
const userinfo = await oauth
  .userInfoRequest(as, client, tokens.access_token, allowInsecure)
  .then((r) => oauth.processUserInfoResponse(as, client, idToken.sub, r))
console.log(JSON.stringify({ id_token: idToken, userinfo }))
