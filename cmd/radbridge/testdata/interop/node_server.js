// An MLLP server built on node-hl7-server (npm, pinned in package.json), the companion
// server package of node-hl7-client (which has no server of its own).
//
// It answers every message with the ACK node-hl7-server builds (AA) and prints one
// line per event on standard output for radbridge's interop test:
//
//   LISTENING 127.0.0.1:PORT
//   {"received":"<MSH-10>","type":"<MSH-9.1>","ack":"<the ACK>"}
//
// Run: node node_server.js PORT   (listens on 127.0.0.1 until killed)
'use strict'

const { Server } = require('node-hl7-server')

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node node_server.js PORT\n')
  process.exit(2)
}
const server = new Server({ bindAddress: '127.0.0.1' })
const inbound = server.createInbound({ port }, async (req, res) => {
  const message = req.getMessage()
  await res.sendResponse('AA')
  const ack = res.getAckMessage()
  process.stdout.write(JSON.stringify({
    received: message.get('MSH.10').toString(),
    type: message.get('MSH.9').toString(),
    ack: ack ? ack.toString() : ''
  }) + '\n')
})
inbound.on('listen', () => process.stdout.write(`LISTENING 127.0.0.1:${port}\n`))
inbound.on('error', (err) => {
  process.stderr.write(`node_server: ${err}\n`)
  process.exit(1)
})
