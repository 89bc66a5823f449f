// An independent PAR client (RFC 9126): oauth4webapi discovers the server, pushes the authorization request with
// private_key_jwt and a DPoP proof (plain parameters, or a signed request object from issueRequestObject in "jar"
// mode), prints the authorization URL, reads the callback URL the browser reached from stdin, validates it and
// exchanges the code with DPoP.
// In "jarm" mode the request object asks for response_mode=jwt and the response is checked with
// validateJwtAuthResponse (JARM).
// Usage: node par_client.mjs <issuer> <client_id> <private_jwk_file> <redirect_uri> <plain|jar|jarm>
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import * as oauth from 'oauth4webapi'

const [issuerUrl, clientId, keyFile, redirectUri, mode] = process.argv.slice(2)
const issuer = new URL(issuerUrl)
const allowInsecure = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' }
const as = await oauth
  .discoveryRequest(issuer, allowInsecure)
  .then((response) => oauth.processDiscoveryResponse(issuer, response))

const jwk = JSON.parse(readFileSync(keyFile, 'utf8'))
const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
const privateKey = { key, kid: jwk.kid }
const client = { client_id: clientId }
const clientAuth = oauth.PrivateKeyJwt(privateKey)
const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))

const codeVerifier = oauth.generateRandomCodeVerifier()
const state = oauth.generateRandomState()
let parameters = {
  redirect_uri: redirectUri,
  response_type: 'code',
  scope: 'openid api1',
  state,
  code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
}
if (mode === 'jarm') {
  parameters.response_mode = 'jwt'
}
if (mode === 'jar' || mode === 'jarm') {
  parameters = { request: await oauth.issueRequestObject(as, client, parameters, privateKey) }
}
const pushed = await oauth
  .pushedAuthorizationRequest(as, client, clientAuth, parameters, { DPoP, ...allowInsecure })
  .then((response) => oauth.processPushedAuthorizationResponse(as, client, response))

const authorizationUrl = new URL(as.authorization_endpoint)
authorizationUrl.searchParams.set('client_id', clientId)
authorizationUrl.searchParams.set('request_uri', pushed.request_uri)
console.log(JSON.stringify({ ...pushed, authorization_url: authorizationUrl.href, parameters: Object.keys(parameters) }))

const lines = createInterface({ input: process.stdin })
const callback = await new Promise((resolve) => lines.once('line', resolve))
lines.close()
const callbackParameters = mode === 'jarm'
  ? await oauth.validateJwtAuthResponse(as, client, new URL(callback), state, allowInsecure)
  : oauth.validateAuthResponse(as, client, new URL(callback), state)
const response = await oauth.authorizationCodeGrantRequest(
  as, client, clientAuth, callbackParameters, redirectUri, codeVerifier, { DPoP, ...allowInsecure })
const tokens = await oauth.processAuthorizationCodeResponse(as, client, response)
console.log(JSON.stringify({
  token_type: tokens.token_type,
  access_token: tokens.access_token,
  jkt: await DPoP.calculateThumbprint(),
  sub: oauth.getValidatedIdTokenClaims(tokens)?.sub,
}))
