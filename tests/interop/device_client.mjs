// RFC 8628 end to end with panva's openid-client: initiateDeviceAuthorization prints the user code and the
// verification URIs as one JSON line (the test approves in Chromium), then pollDeviceAuthorizationGrant waits for
// the tokens and prints them as a second JSON line. With "dpop", the polls carry DPoP proofs.
// Usage: node device_client.mjs <issuer> <client_id> [dpop]
import * as client from 'openid-client'

const [issuerUrl, clientId, mode] = process.argv.slice(2)
const config = await client.discovery(new URL(issuerUrl), clientId, undefined, client.None(), {
  execute: [client.allowInsecureRequests],
})
const response = await client.initiateDeviceAuthorization(config, { scope: 'openid profile api1 offline_access' })
console.log(JSON.stringify(response))
const options = mode === 'dpop' ? { DPoP: client.getDPoPHandle(config, await client.randomDPoPKeyPair()) } : undefined
const tokens = await client.pollDeviceAuthorizationGrant(config, response, undefined, options)
console.log(
  JSON.stringify({
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    id_token: tokens.id_token,
    refresh_token: tokens.refresh_token,
    scope: tokens.scope,
    claims: tokens.claims(),
  }),
)
