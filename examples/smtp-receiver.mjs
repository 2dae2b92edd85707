// An SMTP server to try Switchyard's e-mail notifications with (docs/notifications.md): accepts any
// mail on 127.0.0.1 (no TLS, any login) and prints its envelope, Message-ID, subject and body.
//   PORT=2525 node examples/smtp-receiver.mjs
// then, in Settings → Notifications, an e-mail channel to 127.0.0.1:2525, no TLS, any user and password.
// (smtp-server is one of the project's development dependencies: `npm install` has it.)
import { SMTPServer } from "smtp-server";

const port = Number(process.env.PORT ?? 2525);
new SMTPServer({
  disabledCommands: ["STARTTLS"],
  allowInsecureAuth: true,
  authOptional: true,
  logger: false,
  onAuth: (auth, _s, cb) => cb(null, { user: auth.username }),
  onData(stream, session, cb) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const [head, ...body] = raw.split(/\r?\n\r?\n/);
      const h = (name) => (new RegExp(`^${name}: (.*)$`, "mi").exec(head) ?? [])[1] ?? "";
      console.log(`mail to ${session.envelope.rcptTo.map((r) => r.address).join(", ")} ${h("Message-ID")}\n  Subject: ${h("Subject")}\n  ${body.join("\n").trim().replace(/\n/g, "\n  ")}`);
      cb();
    });
  },
}).listen(port, "127.0.0.1", () => console.log(`SMTP on 127.0.0.1:${port}`));
