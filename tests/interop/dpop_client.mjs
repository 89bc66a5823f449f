// An independent DPoP client: oauth4webapi discovers the server, obtains a DPoP-bound token with
// client_credentials (answering a use_dpop_nonce challenge itself) and calls userinfo-style resources.
// Usage: node dpop_client.mjs <issuer> <client_id> <client_secret> <scope> <api_url>
import * as oauth from 'oauth4webapi'

const [issuerUrl, clientId, clientSecret, scope, apiUrl] = process.argv.slice(2)
const issuer = new URL(issuerUrl)
const allowInsecure = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' }
const as = await oauth
  .discoveryRequest(issuer, allowInsecure)
  .then((response) => oauth.processDiscoveryResponse(issuer, response))

const client = { client_id: clientId }
const clientAuth = oauth.ClientSecretBasic(clientSecret)
const keyPair = await oauth.generateKeyPair('ES256')
const DPoP = oauth.DPoP(client, keyPair)

async function tokenRequest() {
  const params = new URLSearchParams({ scope })
  const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, params, { DPoP, ...allowInsecure })
  return oauth.processClientCredentialsResponse(as, client, response)
}

let result
try {
  result = await tokenRequest()
} catch (err) {
  if (oauth.isDPoPNonceError(err)) {
    result = await tokenRequest() // the nonce is cached by the DPoP handle; retry once
  } else {
    throw err
  }
}
async function thumbprint(publicKey) {
  // RFC 7638: required members in lexicographic order, SHA-256, base64url
  const jwk = await crypto.subtle.exportKey('jwk', publicKey)
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical))
  return Buffer.from(digest).toString('base64url')
}

async function callApi() {
  return oauth.protectedResourceRequest(result.access_token, 'GET', new URL(apiUrl), new Headers(), null,
    { DPoP, ...allowInsecure })
}

let api
try {
  api = await callApi()
} catch (err) {
  if (!oauth.isDPoPNonceError(err)) throw err
  api = await callApi() // the API's nonce is now cached by the DPoP handle
}
console.log(JSON.stringify({ token_type: result.token_type, access_token: result.access_token,
  jkt: await thumbprint(keyPair.publicKey), api_status: api.status, api_body: await api.text() }))
