// An independent FAPI 2.0 Message Signing client: oauth4webapi discovers the server, signs the authorization
// request (issueRequestObject, response_mode=jwt) and pushes it with private_key_jwt and a DPoP proof, prints the
// authorization URL, reads the callback URL the browser reached from stdin, validates the signed response
// (validateJwtAuthResponse) and redeems the code with DPoP, then refreshes once.
// Usage: node fapi_client.mjs <issuer> <client_id> <private_jwk_file> <redirect_uri>
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import * as oauth from 'oauth4webapi'

const [issuerUrl, clientId, keyFile, redirectUri] = process.argv.slice(2)
const issuer = new URL(issuerUrl)
const allowInsecure = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' }
const as = await oauth
  .discoveryRequest(issuer, allowInsecure)
  .then((response) => oauth.processDiscoveryResponse(issuer, response))

const jwk = JSON.parse(readFileSync(keyFile, 'utf8'))
const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
const privateKey = { key, kid: jwk.kid }
const client = { client_id: clientId, authorization_signed_response_alg: 'ES256', id_token_signed_response_alg: 'ES256' }
const clientAuth = oauth.PrivateKeyJwt(privateKey)
const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))

const codeVerifier = oauth.generateRandomCodeVerifier()
const state = oauth.generateRandomState()
const request = await oauth.issueRequestObject(as, client, {
  redirect_uri: redirectUri,
  response_type: 'code',
  response_mode: 'jwt',
  scope: 'openid api1 offline_access',
  state,
  code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
}, privateKey)
const pushed = await oauth
  .pushedAuthorizationRequest(as, client, clientAuth, { request }, { DPoP, ...allowInsecure })
  .then((response) => oauth.processPushedAuthorizationResponse(as, client, response))

const authorizationUrl = new URL(as.authorization_endpoint)
authorizationUrl.searchParams.set('client_id', clientId)
authorizationUrl.searchParams.set('request_uri', pushed.request_uri)
console.log(JSON.stringify({ authorization_url: authorizationUrl.href }))

const lines = createInterface({ input: process.stdin })
const callback = await new Promise((resolve) => lines.once('line', resolve))
lines.close()
const params = await oauth.validateJwtAuthResponse(as, client, new URL(callback), state, allowInsecure)
const response = await oauth.authorizationCodeGrantRequest(
  as, client, clientAuth, params, redirectUri, codeVerifier, { DPoP, ...allowInsecure })
const tokens = await oauth.processAuthorizationCodeResponse(as, client, response)
const refreshed = await oauth
  .refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, { DPoP, ...allowInsecure })
  .then((r) => oauth.processRefreshTokenResponse(as, client, r))
console.log(JSON.stringify({
  token_type: tokens.token_type,
  access_token: tokens.access_token,
  jkt: await DPoP.calculateThumbprint(),
  sub: oauth.getValidatedIdTokenClaims(tokens)?.sub,
  refresh_rotated: refreshed.refresh_token !== undefined && refreshed.refresh_token !== tokens.refresh_token,
  refreshed_token_type: refreshed.token_type,
}))
