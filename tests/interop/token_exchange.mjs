// Token exchange (RFC 8693) through oauth4webapi's generic grant call: a user's token (password grant, also a
// generic grant call) is exchanged by a gateway for a token for another audience, with a back-end's
// client_credentials token as actor; then an exchange for an audience outside the gateway's policy.
// Usage: node token_exchange.mjs <issuer>
import * as oauth from 'oauth4webapi'

const [issuerUrl] = process.argv.slice(2)
const issuer = new URL(issuerUrl)
const allowInsecure = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' }
const as = await oauth
  .discoveryRequest(issuer, allowInsecure)
  .then((response) => oauth.processDiscoveryResponse(issuer, response))

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'

async function grant(clientId, secret, grantType, parameters) {
  const client = { client_id: clientId }
  const response = await oauth.genericTokenEndpointRequest(
    as, client, oauth.ClientSecretBasic(secret), grantType, parameters, allowInsecure)
  return oauth.processGenericTokenEndpointResponse(as, client, response)
}

const subject = await grant('app', 'app-secret', 'password', { username: 'alice', password: 'alice', scope: 'api1 api2' })
const actor = await grant('backend', 'backend-secret', 'client_credentials', { scope: 'api1' })
const exchanged = await grant('gateway', 'gateway-secret', EXCHANGE, {
  subject_token: subject.access_token,
  subject_token_type: ACCESS_TOKEN,
  actor_token: actor.access_token,
  actor_token_type: ACCESS_TOKEN,
  audience: 'urn:api2',
})
let refused
try {
  await grant('gateway', 'gateway-secret', EXCHANGE, {
    subject_token: subject.access_token,
    subject_token_type: ACCESS_TOKEN,
    actor_token: actor.access_token,
    actor_token_type: ACCESS_TOKEN,
    audience: 'urn:elsewhere',
  })
} catch (err) {
  refused = { error: err.error, status: err.status }
}
console.log(JSON.stringify({
  grant_types_supported: as.grant_types_supported,
  exchanged,
  refused,
}))
