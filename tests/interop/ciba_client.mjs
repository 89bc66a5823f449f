// An independent CIBA client: openid-client (panva, v6) discovers the server, starts a backchannel
// authentication request and polls the CIBA grant until the user decided (approval happens in Chromium).
// In ping mode it first waits for the server's notification on its own local listener (CIBA Core §10.2).
// Usage: node ciba_client.mjs <issuer> <client_id> <client_secret> <login_hint> <poll|ping> [listen_port]
// Prints one JSON object a line: {"started": ...}, in ping mode {"ping": ...}, then {"tokens": ...} or {"error": ...}.
import http from 'node:http'
import * as client from 'openid-client'

const [issuerUrl, clientId, clientSecret, loginHint, mode, listenPort] = process.argv.slice(2)
const issuer = new URL(issuerUrl)
const config = await client.discovery(issuer, clientId, clientSecret, client.ClientSecretBasic(clientSecret), {
  execute: issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
})
const print = (value) => process.stdout.write(JSON.stringify(value) + '\n')

let pinged
if (mode === 'ping') {
  pinged = new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', () => {
        res.writeHead(204).end()
        server.close()
        resolve({ path: req.url, authorization: req.headers.authorization, body: JSON.parse(body) })
      })
    })
    server.listen(Number(listenPort), '127.0.0.1')
  })
}

const parameters = { scope: 'openid profile api1 offline_access', login_hint: loginHint, binding_message: 'NODE-42' }
if (mode === 'ping') parameters.client_notification_token = 'node-notification-token'
try {
  const started = await client.initiateBackchannelAuthentication(config, parameters)
  print({ started })
  if (pinged) print({ ping: await pinged })
  const tokens = await client.pollBackchannelAuthenticationGrant(config, started)
  print({ tokens: { ...tokens, claims: tokens.claims() } })
} catch (err) {
  print({ error: err.error ?? err.code ?? String(err), description: err.error_description ?? err.message })
}
