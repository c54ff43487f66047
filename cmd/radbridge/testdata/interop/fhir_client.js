// A FHIR R4 client built on fhir-kit-client (npm, pinned in package.json).
//
// Against the FHIR base URL, with the bearer token in TOKEN_FILE (radbridge's admin
// token), it first searches without the token, which must be refused (401), then
// creates an MRI ServiceRequest with placer number PLACER
// (client.create), reads it back (client.read), searches for it by identifier
// (client.search), creates it again conditionally with If-None-Exist (client.create
// with options.headers), which must match and create nothing, creates a second order
// NEW_PLACER conditionally, which must create it, and sends the first again without the
// condition, which must be refused. It prints one JSON object with what it saw:
//
//   {"library":"fhir-kit-client","version":"2.0.3",
//    "anonymous":{"status":401},
//    "create":{"status":201,"id":"...","location":"...","etag":"..."},
//    "read":{"status":200,"id":"...","resource_status":"active","version_id":"1"},
//    "search":{"status":200,"total":1,"ids":["..."]},
//    "conditional_match":{"status":200,"id":"..."},
//    "conditional_new":{"status":201,"id":"..."},
//    "duplicate":{"status":409,"outcome":"..."}, "fhir_version":"4.0.1"}
//
// Statuses, headers and bodies are as fhir-kit-client returned them (Client.httpFor).
// Run: node fhir_client.js BASE_URL PLACER NEW_PLACER TOKEN_FILE
// Exit status 0 when every call returned; 1 on an unexpected error.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const system = 'urn:radbridge:interop:fhir-kit-client'

// serviceRequest is a complete MRI order: contained patient and requester, CPT code,
// ICD-10 reason and a prior-authorization number, so radbridge makes it a ready order.
function serviceRequest (placer) {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    meta: { source: system },
    contained: [
      {
        resourceType: 'Patient',
        id: 'p',
        identifier: [{ system: 'urn:oid:1.2.3', value: 'MRN-' + placer }],
        name: [{ family: 'Doe', given: ['Jane'] }],
        birthDate: '1980-01-02',
        gender: 'female'
      },
      {
        resourceType: 'Practitioner',
        id: 'dr',
        identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' }],
        name: [{ family: 'Smith', given: ['John'] }]
      }
    ],
    identifier: [{
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PLAC' }] },
      system: system + ':orders',
      value: placer
    }],
    code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '70553', display: 'MRI brain w/wo contrast' }] },
    subject: { reference: '#p' },
    requester: { reference: '#dr' },
    authoredOn: '2026-11-22T09:00:00Z',
    reasonCode: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'R51.9', display: 'Headache' }], text: 'Headache' }],
    supportingInfo: [{ type: 'ClaimResponse', identifier: { value: 'AUTH-' + placer } }]
  }
}

async function main (baseUrl, placer, newPlacer, tokenFile) {
  const { Client } = await import('fhir-kit-client')
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', 'fhir-kit-client', 'package.json'), 'utf8'))
  const http = (result) => Client.httpFor(result).response
  const out = { library: 'fhir-kit-client', version: pkg.version }

  try {
    const anonymous = await new Client({ baseUrl }).search({ resourceType: 'ServiceRequest', searchParams: { identifier: placer } })
    out.anonymous = { status: http(anonymous).status }
  } catch (err) {
    if (!err.response) throw err
    out.anonymous = { status: err.response.status }
  }

  const bearerToken = fs.readFileSync(tokenFile, 'utf8').trim()
  const client = new Client({ baseUrl, bearerToken })
  const condition = { headers: { 'If-None-Exist': `identifier=${encodeURIComponent(system + ':orders|' + placer)}` } }

  const created = await client.create({ resourceType: 'ServiceRequest', body: serviceRequest(placer) })
  out.create = {
    status: http(created).status,
    id: created.id,
    location: http(created).headers.get('location'),
    etag: http(created).headers.get('etag'),
    content_type: http(created).headers.get('content-type')
  }

  const read = await client.read({ resourceType: 'ServiceRequest', id: created.id })
  out.read = { status: http(read).status, id: read.id, resource_status: read.status, version_id: read.meta && read.meta.versionId }

  const bundle = await client.search({ resourceType: 'ServiceRequest', searchParams: { identifier: placer } })
  out.search = {
    status: http(bundle).status,
    type: bundle.type,
    total: bundle.total,
    ids: (bundle.entry || []).map((e) => e.resource && e.resource.id)
  }

  const again = await client.create({ resourceType: 'ServiceRequest', body: serviceRequest(placer), options: condition })
  out.conditional_match = { status: http(again).status, id: again.id }

  const fresh = await client.create({
    resourceType: 'ServiceRequest',
    body: serviceRequest(newPlacer),
    options: { headers: { 'If-None-Exist': `identifier=${encodeURIComponent(system + ':orders|' + newPlacer)}` } }
  })
  out.conditional_new = { status: http(fresh).status, id: fresh.id }

  try {
    const dup = await client.create({ resourceType: 'ServiceRequest', body: serviceRequest(placer) })
    out.duplicate = { status: http(dup).status, id: dup.id }
  } catch (err) {
    if (!err.response) throw err
    const data = err.response.data || {}
    out.duplicate = {
      status: err.response.status,
      resource_type: data.resourceType,
      outcome: ((data.issue || [])[0] || {}).diagnostics
    }
  }

  const metadata = await client.capabilityStatement()
  out.fhir_version = metadata.fhirVersion
  process.stdout.write(JSON.stringify(out) + '\n')
}

const [baseUrl, placer, newPlacer, tokenFile] = process.argv.slice(2)
if (!baseUrl || !placer || !newPlacer || !tokenFile) {
  process.stderr.write('usage: node fhir_client.js BASE_URL PLACER NEW_PLACER TOKEN_FILE\n')
  process.exit(2)
}
main(baseUrl, placer, newPlacer, tokenFile).catch((err) => {
  const detail = err.response ? ` (HTTP ${err.response.status}: ${JSON.stringify(err.response.data)})` : ''
  process.stderr.write(`fhir_client: ${err.stack || err}${detail}\n`)
  process.exit(1)
})
