import { z } from "zod";
import { AgentUrl, HostAddress, Name, Secret } from "./common";

export const HostCreate = z
  .object({
    name: Name,
    address: HostAddress,
    agentUrl: AgentUrl,
    /** Credential the controller presents to the host's agent; write-only. */
    agentToken: Secret,
  })
  .strict();
export type HostCreate = z.infer<typeof HostCreate>;

export const HostUpdate = HostCreate.partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, "give at least one field to change");
export type HostUpdate = z.infer<typeof HostUpdate>;
