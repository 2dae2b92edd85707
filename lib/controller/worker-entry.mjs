// The controller thread's entry (thread.ts starts it): registers tsx's TypeScript loader in this thread
// — loaders registered on the main thread do not reach workers — then runs worker.ts. Plain JavaScript
// on purpose: it is what Node loads before any TypeScript can be loaded.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
