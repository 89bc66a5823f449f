// An independent JARM client: oauth4webapi discovers the server and validates a JWT-secured authorization
// response (signature from the server's JWKS, iss, aud, exp, then state and the RFC 9207 iss parameter).
// Usage: node jarm_response.mjs <issuer> <client_id> <authorization_signed_response_alg> <callback_url> <state>
// Prints the validated response parameters as JSON, or {"error": ...} when the response is an error or invalid.
import * as oauth from 'oauth4webapi'

const [issuerUrl, clientId, alg, callbackUrl, state] = process.argv.slice(2)
const issuer = new URL(issuerUrl)
const allowInsecure = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' }
const as = await oauth
  .discoveryRequest(issuer, allowInsecure)
  .then((response) => oauth.processDiscoveryResponse(issuer, response))

const client = { client_id: clientId, authorization_signed_response_alg: alg }
try {
  const params = await oauth.validateJwtAuthResponse(as, client, new URL(callbackUrl), state, allowInsecure)
  console.log(JSON.stringify(Object.fromEntries(params.entries())))
} catch (err) {
  if (err instanceof oauth.AuthorizationResponseError) {
    console.log(JSON.stringify({ error: err.error, state: err.cause.get('state') }))
  } else {
    console.log(JSON.stringify({ invalid: err.code ?? err.name, message: err.message }))
  }
}
