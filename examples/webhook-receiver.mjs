// A webhook receiver to try Switchyard's notifications with (docs/notifications.md): prints each
// notification, checks its signature, and drops a delivery it has seen already (the idempotency key).
//   SECRET=the-hmac-key PORT=9000 node examples/webhook-receiver.mjs
// then, in Settings → Notifications, a webhook channel to http://127.0.0.1:9000/ with that HMAC key.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.SECRET ?? "";
const seen = new Set();
createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const raw = Buffer.concat(chunks);
    const id = String(req.headers["x-switchyard-delivery"] ?? "");
    if (secret) {
      const want = Buffer.from("sha256=" + createHmac("sha256", secret).update(raw).digest("hex"));
      const got = Buffer.from(String(req.headers["x-switchyard-signature"] ?? ""));
      if (got.length !== want.length || !timingSafeEqual(got, want)) {
        console.log(`${id}: bad signature, refused`);
        return res.writeHead(401).end();
      }
    }
    if (seen.has(id)) {
      console.log(`${id}: seen already, dropped`);
      return res.writeHead(200).end();
    }
    seen.add(id);
    const n = JSON.parse(raw.toString("utf8"));
    console.log(`${n.time ?? ""} ${req.headers["x-switchyard-event"]} ${n.pair ?? ""} ${n.severity ?? ""} ${n.kind ?? ""}: ${n.message ?? JSON.stringify(n)}`);
    res.writeHead(204).end();
  });
}).listen(Number(process.env.PORT ?? 9000), "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${process.env.PORT ?? 9000}/`));
