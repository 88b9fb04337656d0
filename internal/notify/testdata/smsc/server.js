// A small SMSC for the notify package's tests, built on the npm "smpp" package so the Go SMPP
// client is checked against an implementation it shares no code with.
//
// Usage: node server.js [port]   (port 0 or none picks a free one)
// It prints one JSON object per line on stdout: {"event":"listening","port":N} first, then one
// line per PDU of interest, with the text as the smpp package decoded it.
//
// Behaviour, chosen by the destination address of a submit_sm:
//   "+999…"  answered with command_status ESME_RINVDSTADR (0x0B)
//   "+666…"  answered with a generic_nack (ESME_RINVCMDID)
//   "+555…"  the connection is dropped without an answer (the client must reconnect)
//   anything else: accepted with message_id "msg-<n>"; if registered_delivery asks for a receipt,
//   a deliver_sm delivery receipt follows.
// Every bind gets an enquire_link from the SMSC, so the client must answer one.
// Credentials: system_id "open3ds", password "secret".
'use strict';
const smpp = require('smpp');

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
let next = 0;

const server = smpp.createServer(function (session) {
	session.on('error', (e) => out({ event: 'error', message: String(e && e.message) }));
	session.on('bind_transmitter', function (pdu) {
		const ok = pdu.system_id === 'open3ds' && pdu.password === 'secret';
		out({ event: 'bind_transmitter', system_id: pdu.system_id, ok: ok });
		if (!ok) {
			session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
			return;
		}
		session.send(pdu.response({ system_id: 'test-smsc' }));
		session.enquire_link({}, (resp) => out({ event: 'enquire_link_resp', command_status: resp.command_status }));
	});
	session.on('enquire_link', function (pdu) {
		out({ event: 'enquire_link' });
		session.send(pdu.response());
	});
	session.on('submit_sm', function (pdu) {
		const dest = String(pdu.destination_addr);
		const sm = pdu.short_message || {};
		const text = typeof sm.message === 'string' ? sm.message : Buffer.from(sm.message || []).toString('hex');
		out({
			event: 'submit_sm', source_addr: String(pdu.source_addr), destination_addr: dest,
			dest_addr_ton: pdu.dest_addr_ton, dest_addr_npi: pdu.dest_addr_npi,
			data_coding: pdu.data_coding, registered_delivery: pdu.registered_delivery, text: text,
		});
		if (dest.startsWith('+999') || dest.startsWith('999')) {
			session.send(pdu.response({ command_status: smpp.ESME_RINVDSTADR }));
			return;
		}
		if (dest.startsWith('+666') || dest.startsWith('666')) {
			session.send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: smpp.ESME_RINVCMDID }));
			return;
		}
		if (dest.startsWith('+555') || dest.startsWith('555')) {
			session.socket.destroy();
			return;
		}
		const id = 'msg-' + (++next);
		session.send(pdu.response({ message_id: id }));
		if (pdu.registered_delivery & 1) {
			const receipt = 'id:' + id + ' sub:001 dlvrd:001 submit date:2611251000 done date:2611251000 stat:DELIVRD err:000 text:';
			setTimeout(() => {
				session.deliver_sm({
					source_addr: dest, destination_addr: String(pdu.source_addr), esm_class: 0x04,
					short_message: receipt,
				}, (resp) => out({ event: 'deliver_sm_resp', message_id: id, command_status: resp.command_status }));
			}, 20);
		}
	});
	session.on('unbind', function (pdu) {
		out({ event: 'unbind' });
		session.send(pdu.response());
		session.close();
	});
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', function () {
	out({ event: 'listening', port: server.address().port });
});
// The Go test closes stdin when it is done; exit then so no SMSC outlives its test.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
