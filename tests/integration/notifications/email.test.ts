/**
 * Notifications by e-mail: a real SMTP server (smtp-server) started by the test receives the alarm's raise
 * and acknowledgement, with the channel's templates filled in, authenticated with the write-only password,
 * the delivery id as Message-ID; a refusal is retried.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { db } from "@/lib/db";
import { AuditQueue } from "@/lib/queries/tx";
import { acknowledgeAlarm, raiseAlarm } from "@/lib/queries/alarms";
import { waitFor } from "../controller/lab";
import { clearNotifications, startDispatcher } from "./helpers";

interface Mail {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

async function startSmtp(o: { refuseFirst?: boolean } = {}) {
  const mails: Mail[] = [];
  let refused = 0;
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === "noc" && auth.password === "mail-pass") cb(null, { user: auth.username });
      else cb(new Error("invalid credentials"));
    },
    onMailFrom(_addr, _session, cb) {
      if (o.refuseFirst && refused++ === 0) {
        const e = new Error("try again later") as Error & { responseCode: number };
        e.responseCode = 451;
        return cb(e);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), user: session.user as string | undefined, raw: Buffer.concat(chunks).toString("utf8") });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await clearNotifications();
});
afterAll(clearNotifications);

describe("e-mail notifications", () => {
  it("an alarm raised and acknowledged: two mails, templates filled in, Message-ID = delivery id; a refusal is retried", async () => {
    const smtp = await startSmtp({ refuseFirst: true });
    closers.push(smtp.close);
    const ch = await db.notificationChannel.create({
      data: {
        name: `mail-${Date.now()}`,
        type: "email",
        secret: "mail-pass",
        config: {
          host: "127.0.0.1",
          port: smtp.port,
          security: "none",
          user: "noc",
          from: "switchyard@example.com",
          to: ["noc@example.com", "oncall@example.com"],
          subject: "[{{severity}}] {{event}} {{kind}}",
          body: "Alarm: {{message}}\nBy: {{operator}}\nComment: {{comment}}\nAt: {{time}}\n",
          timeoutMs: 3000,
        },
      },
    });
    await db.notificationRule.create({ data: { name: "mail", channelId: ch.id, events: ["alarm.raised", "alarm.acknowledged"], kinds: ["vip_script_failed"] } });
    const d = await startDispatcher();
    closers.push(() => d.stop());

    const alarm = (await raiseAlarm(new AuditQueue(), { kind: "vip_script_failed", severity: "major", pairId: null, hostId: null, message: "the VIP script exited 3", details: {} }))!;
    await acknowledgeAlarm(alarm.id, "alice", "looking into it");
    await db.alarm.update({ where: { id: alarm.id }, data: { activeKey: null, clearedAt: new Date() } });

    const mails = await waitFor("two mails", async () => (smtp.mails.length >= 2 ? smtp.mails : null), 8000);
    // The server has the mails a moment before the dispatcher hears its 250 and marks them sent.
    const rows = await waitFor("both marked sent", async () => {
      const r = await db.notificationDelivery.findMany({ where: { channelId: ch.id }, orderBy: { createdAt: "asc" } });
      return r.length === 2 && r.every((d) => d.status === "sent") ? r : null;
    });
    expect(rows.map((r) => [r.event, r.status])).toEqual([["alarm.raised", "sent"], ["alarm.acknowledged", "sent"]]);
    expect(rows.map((r) => r.attempts).sort()).toEqual([1, 2]); // the first attempt was refused (451) and retried
    const raised = mails.find((m) => m.raw.includes("alarm.raised"))!;
    const acked = mails.find((m) => m.raw.includes("alarm.acknowledged"))!;
    expect(raised).toMatchObject({ from: "switchyard@example.com", to: ["noc@example.com", "oncall@example.com"], user: "noc" });
    expect(raised.raw).toMatch(/^Subject: \[major\] alarm\.raised vip_script_failed\r?$/m);
    expect(raised.raw).toContain("Alarm: the VIP script exited 3");
    expect(raised.raw).toContain(`Message-ID: <${rows[0]!.id}@switchyard>`);
    expect(acked.raw).toContain("By: alice");
    expect(acked.raw).toContain("Comment: looking into it");
    expect(acked.raw).toContain(`X-Switchyard-Delivery: ${rows[1]!.id}`);
    expect(mails).toHaveLength(2);
  });
});
