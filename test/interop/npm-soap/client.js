// Calls every operation of licgate's SOAP services through the npm soap
// package, which builds its client from the WSDL licgate serves: the test
// of licgate's WSDL and answers against a SOAP stack that is not licgate's.
//
// Usage: node client.js http://HOST:PORT/soap/v1?wsdl LICENCE_NUMBER OUTPUT
// Writes one JSON object with what each operation answered to OUTPUT; a
// fault is written as {"fault": {"code": ..., "text": ..., "licgateCode":
// ...}}. The licence is suspended by SubmitLicenceEvent.
// Exits 1 when the client cannot be built or a call fails other than with
// a SOAP fault.
'use strict';

const fs = require('fs');
const soap = require('soap');

// A SOAP fault reaches node-soap as an error with the parsed fault body.
function faultOf(error) {
  const fault = error && error.root && error.root.Envelope && error.root.Envelope.Body &&
      error.root.Envelope.Body.Fault;
  if (!fault) {
    throw error;
  }
  const detail = fault.detail && fault.detail.error;
  return {fault: {code: fault.faultcode, text: fault.faultstring,
                  licgateCode: detail ? detail.code : undefined}};
}

async function call(client, operation, args) {
  try {
    const [result] = await client[operation + 'Async'](args);
    return result;
  } catch (error) {
    return faultOf(error);
  }
}

async function main() {
  const [wsdl, number, output] = process.argv.slice(2);
  const client = await soap.createClientAsync(wsdl);
  const event = {
    type: 'suspend', licensor: 'CZ-ERU', occurredOn: '2026-02-01', licenceNumber: number,
    reason: 'inspection', suspendedUntil: '2026-03-01',
  };
  const results = {
    services: Object.keys(client.describe()),
    getLicence: await call(client, 'GetLicence', {number}),
    getUnknownLicence: await call(client, 'GetLicence', {number: '99999999'}),
    findLicences: await call(client, 'FindLicences', {status: 'active', limit: 2}),
    getChanges: await call(client, 'GetChanges', {after: 0, limit: 1}),
    submit: await call(client, 'SubmitLicenceEvent',
                       {system: 'eru-export', messageId: 'npm-soap-1', licenceEvent: event}),
    submitAgain: await call(client, 'SubmitLicenceEvent',
                            {system: 'eru-export', messageId: 'npm-soap-1', licenceEvent: event}),
    badLimit: await call(client, 'FindLicences', {limit: 0}),
  };
  fs.writeFileSync(output, JSON.stringify(results) + '\n');
}

main().catch((error) => {
  process.stderr.write('npm soap client: ' + (error.stack || error) + '\n');
  process.exit(1);
});
