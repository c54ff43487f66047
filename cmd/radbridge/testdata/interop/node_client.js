// An MLLP client built on node-hl7-client (npm, pinned in package.json).
//
// Sends each FILE (one HL7 v2 message each, segments ended by CR or LF) over one
// connection, waiting for each ACK, and prints one JSON line per message:
//
//   {"sent":"<MSH-10>","msa_1":"AA","msa_2":"<MSA-2>","ack":"<the ACK>"}
//
// MSH-10, MSA-1 and MSA-2 are read with node-hl7-client's own parser.
// Run: node node_client.js HOST PORT FILE...
// Exit status 0 when every message got an ACK, 1 otherwise.
'use strict'

const fs = require('node:fs')
const { Client, Message } = require('node-hl7-client')

const ackTimeoutMs = 10000

async function main (host, port, files) {
  const client = new Client({ host })
  let pending = null // {resolve, reject} of the message waiting for its ACK
  const conn = client.createConnection({ port, waitAck: true, maxConnectionAttempts: 3 }, async (res) => {
    if (pending === null) {
      throw new Error('an ACK arrived with no message outstanding')
    }
    const p = pending
    pending = null
    p.resolve(res.getMessage())
  })
  conn.on('client.error', (err) => {
    if (pending !== null) pending.reject(err instanceof Error ? err : new Error(String(err)))
  })
  try {
    for (const name of files) {
      const text = fs.readFileSync(name, 'utf8').replace(/\r\n/g, '\r').replace(/\n/g, '\r').replace(/\r+$/, '')
      const message = new Message({ text })
      const ack = new Promise((resolve, reject) => {
        pending = { resolve, reject }
        setTimeout(() => reject(new Error(`no ACK within ${ackTimeoutMs} ms`)), ackTimeoutMs).unref()
      })
      await conn.sendMessage(message)
      const got = await ack
      process.stdout.write(JSON.stringify({
        sent: message.get('MSH.10').toString(),
        msa_1: got.get('MSA.1').toString(),
        msa_2: got.get('MSA.2').toString(),
        ack: got.toString()
      }) + '\n')
    }
  } finally {
    await conn.close()
    client.closeAll()
  }
}

const [host, port, ...files] = process.argv.slice(2)
if (!host || !port || files.length === 0) {
  process.stderr.write('usage: node node_client.js HOST PORT FILE...\n')
  process.exit(2)
}
main(host, Number(port), files).then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`node_client: ${err && err.stack ? err.stack : err}\n`)
    process.exit(1)
  }
)
