// An SNMP v2c trap receiver to try Switchyard's trap notifications with (docs/notifications.md): prints
// each trap's OID and variables (names from deploy/snmp/SWITCHYARD-MIB.txt are printed as OIDs).
//   COMMUNITY=noc PORT=1162 node examples/trap-receiver.mjs
// then, in Settings → Notifications, a trap channel to 127.0.0.1:1162 with community "noc".
import snmp from "net-snmp";

const port = Number(process.env.PORT ?? 1162);
const receiver = snmp.createReceiver({ port, address: "127.0.0.1", includeAuthentication: true }, (err, n) => {
  if (err) return console.log(`trap refused: ${err.message}`);
  const vars = n.pdu.varbinds.map((v) => `${v.oid} = ${Buffer.isBuffer(v.value) ? v.value.toString("utf8") : v.value}`);
  console.log(`trap from ${n.rinfo.address} (community ${n.pdu.community ?? "?"})\n  ${vars.join("\n  ")}`);
});
receiver.getAuthorizer().addCommunity(process.env.COMMUNITY ?? "noc");
console.log(`SNMP traps on udp 127.0.0.1:${port}`);
