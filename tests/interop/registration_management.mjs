// RFC 7591 + RFC 7592 end to end with panva's openid-client: dynamicClientRegistration registers a client with an
// initial access token, the client gets a token with client_credentials, then reads (GET), updates (PUT) and
// deletes (DELETE) its registration at registration_client_uri with its registration access token.
// Usage: node registration_management.mjs <issuer> <initial access token>
import * as client from 'openid-client'

const [issuerUrl, initialAccessToken] = process.argv.slice(2)
const issuer = new URL(issuerUrl)
const config = await client.dynamicClientRegistration(
  issuer,
  {
    client_name: 'Node app',
    grant_types: ['client_credentials'],
    scope: 'api1',
    token_endpoint_auth_method: 'client_secret_post',
  },
  undefined,
  { initialAccessToken, execute: [client.allowInsecureRequests] },
)
const registered = config.clientMetadata()
const result = { client_id: registered.client_id, registration_client_uri: registered.registration_client_uri }
result.token = (await client.clientCredentialsGrant(config, { scope: 'api1' })).token_type

const manage = (method, body) =>
  fetch(registered.registration_client_uri, {
    method,
    headers: {
      Authorization: `Bearer ${registered.registration_access_token}`,
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  })

const read = await manage('GET')
result.read = { status: read.status, body: await read.json() }
const updated = await manage('PUT', {
  client_id: registered.client_id,
  client_name: 'Node app, renamed',
  grant_types: ['client_credentials'],
  scope: 'api1',
  token_endpoint_auth_method: 'client_secret_post',
})
result.updated = { status: updated.status, body: await updated.json() }
result.token_after_update = (await client.clientCredentialsGrant(config, { scope: 'api1' })).token_type
const deleted = await manage('DELETE')
result.deleted = deleted.status
result.read_after_delete = (await manage('GET')).status
try {
  await client.clientCredentialsGrant(config, { scope: 'api1' })
  result.token_after_delete = 'issued'
} catch (error) {
  result.token_after_delete = error.error ?? String(error)
}
console.log(JSON.stringify(result))
