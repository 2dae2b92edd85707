export * from "./common";
export * from "./hosts";
export * from "./pairs";
export * from "./users";
export * from "./tokens";
export * from "./audit";
export * from "./misc";
export * from "./operations";
